// SPDX-License-Identifier: BSD-2-Clause
// The kernel's VM context (kernel/: drivers/tee/optee/smc_vm.c) in C++, over
// the OP-TEE model: the same refusals with the same errnos, the same
// messages built for OP-TEE, the same lifetimes. Each part below mirrors a
// section of smc_vm.c; when one changes, the other does.
#include "bytes.hpp"
#include "model_backend.hpp"

#include <cstdlib>
#include <cstring>
#include <list>
#include <vector>

namespace teemed::model {

using namespace abi;

namespace {

// A kernel page, or a pinned user page, made known to the model's
// physical address space for as long as it lives.
class PhysPage {
public:
	PhysPage(PhysSpace &phys, std::byte *host, bool owned)
		: phys_(phys), host_(host), owned_(owned), pa_(phys.add(host))
	{
	}
	~PhysPage()
	{
		phys_.remove(pa_);
		if (owned_)
			std::free(host_);
	}
	PhysPage(const PhysPage &) = delete;
	PhysPage &operator=(const PhysPage &) = delete;
	static std::unique_ptr<PhysPage> alloc(PhysSpace &phys)
	{
		auto *p = static_cast<std::byte *>(std::aligned_alloc(kPageSize, kPageSize));
		std::memset(p, 0, kPageSize);
		return std::make_unique<PhysPage>(phys, p, true);
	}
	std::byte *host() const { return host_; }
	uint64_t pa() const { return pa_; }

private:
	PhysSpace &phys_;
	std::byte *host_;
	bool owned_;
	uint64_t pa_;
};

// The kernel's bounds (smc_vm.c: OPTEE_VM_MAX_MEMREF, OPTEE_VM_UNWIND_ROUNDS),
// as tables/limits.tsv has them; kernel-check holds the series to the same.
constexpr unsigned kMaxTmem = TEEMED_LIMIT_KERNEL_MAX_MEMREF;
constexpr unsigned kUnwindRoundsKernel = TEEMED_LIMIT_KERNEL_UNWIND_ROUNDS;

// The kernel's allowlist of fast calls (optee_vm_fast_call_allowed): those
// the table says it forwards or mediates. The yielding ids are not fast.
bool fast_call_allowed(uint64_t fid)
{
	const FastCallRule *rule = fid >> 32 ? nullptr : fast_call_rule(uint32_t(fid));
	return rule && rule->kernel != Handling::refuse;
}

MsgArgHeader *header(std::byte *p) { return reinterpret_cast<MsgArgHeader *>(p); }
MsgParam *params(std::byte *p) { return reinterpret_cast<MsgParam *>(p + sizeof(MsgArgHeader)); }

} // namespace

class ModelContext : public BackendContext {
public:
	ModelContext(ModelBackend &be, uint32_t id) : be_(be), id_(id), max_pages_(be.max_pages_) {}
	~ModelContext() override { shutdown(); }

	uint32_t client_id() const override { return id_; }
	Result<Handle> pin(std::span<const uint64_t> page_vas, uint32_t offset,
			   uint64_t size) override;
	void release(Handle h) override;
	Result<CallResult> call(const CallRequest &req) override;
	void shutdown() override;

	uint64_t smcs() const { return smcs_; }

private:
	// 2. Pins, and the buffers OP-TEE holds
	struct Pin {
		std::vector<std::unique_ptr<PhysPage>> pages;
		uint32_t offset = 0;
		uint64_t size = 0;
	};
	enum class Kind { Registered, RpcShm, RpcArg };
	struct Held {
		uint64_t cookie;
		Kind kind;
		bool pending;
		std::shared_ptr<Pin> pin;
		std::unique_ptr<PhysPage> page;
	};
	// 3. Yielding calls
	struct Tmem {
		unsigned param = 0;
		uint64_t buf_ptr = 0;
		std::shared_ptr<Pin> pin;
		std::vector<std::unique_ptr<PhysPage>> list;
	};
	struct MCall {
		uint32_t thread = 0;
		std::unique_ptr<PhysPage> arg;
		uint32_t num_params = 0;
		size_t rpc_offs = 0;
		std::vector<Tmem> tmem;
		Held *reg = nullptr;
		bool unreg = false;
		uint64_t unreg_cookie = 0;
		uint32_t rpc_func = 0;
		uint32_t alloc_size = 0;
		std::byte *rpc_msg = nullptr;
		size_t rpc_size = 0;
		Tmem shm_alloc;
	};

	SmcRegs smc(SmcRegs a);
	int charge(uint32_t pinned, uint32_t kernel);
	void uncharge(uint32_t pinned, uint32_t kernel);
	std::shared_ptr<Pin> pin_get(uint64_t handle);
	Result<Held *> hold(uint64_t cookie, Kind kind, std::shared_ptr<Pin> pin,
			    std::unique_ptr<PhysPage> page);
	Held *held_find(uint64_t cookie);
	void free_held(Held *h);
	void let_go(uint64_t cookie, Kind kind);
	int list(const std::shared_ptr<Pin> &pin, Tmem &t);
	void list_free(Tmem &t);
	uint64_t buf_ptr(const Tmem &t) const;
	void call_free(std::unique_ptr<MCall> call);
	void msg_out(CallRequest const &req, CallResult &res, const std::byte *msg, size_t size,
		     const MCall *call);
	int param_in(MCall &call, unsigned n);
	int msg_in(MCall &call, const CallRequest &req);
	void registered(Held *h, bool ok);
	void complete(std::unique_ptr<MCall> call, uint64_t a0, const CallRequest *req,
		      CallResult *res);
	void returned(std::unique_ptr<MCall> call, const SmcRegs &out, const CallRequest *req,
		      CallResult *res);
	Result<CallResult> call_start(const CallRequest &req);
	Result<CallResult> call_resume(const CallRequest &req);
	void unwind();
	// 4. RPCs
	void rpc(MCall &call, const SmcRegs &out, const CallRequest *req, CallResult *res);
	int rpc_answer(MCall &call, const CallRequest &req, SmcRegs &a);
	int rpc_alloc(MCall &call, const CallRequest &req, SmcRegs &a);
	int rpc_shm_alloc(MCall &call, MsgArgHeader *rq, const std::vector<std::byte> &ans);
	int rpc_cmd_answer(MCall &call, const CallRequest &req);

	ModelBackend &be_;
	const uint32_t id_;
	const uint32_t max_pages_; // the quota, fixed when the context opens
	std::mutex lock_;
	bool dead_ = false;
	uint64_t smcs_ = 0;
	std::map<Handle, std::shared_ptr<Pin>> pins_;
	Handle next_handle_ = 1;
	std::list<std::unique_ptr<Held>> held_;
	std::list<std::unique_ptr<MCall>> calls_;
	uint32_t pinned_pages_ = 0, kernel_pages_ = 0;
};

// ---- 1. the context ------------------------------------------------------

SmcRegs ModelContext::smc(SmcRegs a)
{
	a[7] = id_;
	smcs_++;
	return be_.optee_.smc(a);
}

Result<CallResult> ModelContext::call(const CallRequest &req)
{
	std::lock_guard g(lock_);
	if (dead_)
		return make_error(ESHUTDOWN);
	if (req.msg.size() > kPageSize)
		return make_error(EINVAL);
	switch (req.regs[0]) {
	case kCallWithArg:
	case kCallWithRpcArg:
		return call_start(req);
	case kReturnFromRpc:
		return call_resume(req);
	default:
		break;
	}
	if (!fast_call_allowed(req.regs[0]))
		return make_error(EPERM);
	SmcRegs a{};
	a[0] = req.regs[0];
	if (a[0] == kExchangeCapabilities)
		a[1] = req.regs[1];
	const SmcRegs out = smc(a);
	if (a[0] == kDisableShmCache && out[0] == kReturnOk)
		let_go(reg_pair_to_64(out[1], out[2]), Kind::RpcArg);
	CallResult res;
	for (int i = 0; i < 4; i++)
		res.regs[i] = out[i];
	return res;
}

void ModelContext::shutdown()
{
	std::lock_guard g(lock_);
	if (dead_)
		return;
	dead_ = true;
	unwind();
	SmcRegs r{};
	r[0] = kVmDestroyed;
	r[1] = id_;
	be_.optee_.smc(r); // a7 = 0: the hypervisor's
	// OP-TEE dropped the partition: everything goes.
	while (!calls_.empty()) {
		auto c = std::move(calls_.front());
		calls_.pop_front();
		call_free(std::move(c));
	}
	while (!held_.empty())
		free_held(held_.front().get());
	pins_.clear();
	std::lock_guard bg(be_.lock_);
	be_.ids_.erase(id_);
	be_.st_.contexts--;
}

// ---- 2. pins, and the buffers OP-TEE holds -------------------------------

int ModelContext::charge(uint32_t pinned, uint32_t kernel)
{
	if (pinned + kernel > max_pages_ - pinned_pages_ - kernel_pages_)
		return EDQUOT;
	pinned_pages_ += pinned;
	kernel_pages_ += kernel;
	std::lock_guard bg(be_.lock_);
	be_.st_.pinned_pages += pinned;
	be_.st_.objects += kernel;
	return 0;
}

void ModelContext::uncharge(uint32_t pinned, uint32_t kernel)
{
	pinned_pages_ -= pinned;
	kernel_pages_ -= kernel;
	std::lock_guard bg(be_.lock_);
	be_.st_.pinned_pages -= pinned;
	be_.st_.objects -= kernel;
}

Result<Handle> ModelContext::pin(std::span<const uint64_t> page_vas, uint32_t offset,
				 uint64_t size)
{
	const uint64_t n = page_vas.size();
	if (!n || offset >= kPageSize || !size || size > n * kPageSize - offset ||
	    offset + size <= (n - 1) * kPageSize)
		return make_error(EINVAL);
	for (uint64_t va : page_vas)
		if (!va || va & kPageMask)
			return make_error(EINVAL);
	std::lock_guard g(lock_);
	if (dead_)
		return make_error(ESHUTDOWN);
	if (int e = charge(uint32_t(n), 0))
		return make_error(e);
	// The pin's pages go when the last holder of the pin does.
	auto p = std::shared_ptr<Pin>(new Pin, [this](Pin *pin) {
		uncharge(uint32_t(pin->pages.size()), 0);
		std::lock_guard bg(be_.lock_);
		be_.st_.objects--;
		delete pin;
	});
	{
		std::lock_guard bg(be_.lock_);
		be_.st_.objects++;
	}
	for (uint64_t va : page_vas)
		p->pages.push_back(std::make_unique<PhysPage>(be_.optee_.phys(),
							      reinterpret_cast<std::byte *>(va), false));
	p->offset = offset;
	p->size = size;
	const Handle h = next_handle_++;
	pins_.emplace(h, std::move(p));
	return h;
}

void ModelContext::release(Handle h)
{
	std::lock_guard g(lock_);
	pins_.erase(h); // OP-TEE's holds and calls keep their references
}

std::shared_ptr<ModelContext::Pin> ModelContext::pin_get(uint64_t handle)
{
	auto it = handle > UINT32_MAX ? pins_.end() : pins_.find(Handle(handle));
	return it == pins_.end() ? nullptr : it->second;
}

ModelContext::Held *ModelContext::held_find(uint64_t cookie)
{
	for (auto &h : held_)
		if (h->cookie == cookie)
			return h.get();
	return nullptr;
}

Result<ModelContext::Held *> ModelContext::hold(uint64_t cookie, Kind kind, std::shared_ptr<Pin> pin,
						std::unique_ptr<PhysPage> page)
{
	if (held_find(cookie))
		return make_error(EEXIST);
	held_.push_back(std::make_unique<Held>(
		Held{cookie, kind, kind == Kind::Registered, std::move(pin), std::move(page)}));
	return held_.back().get();
}

void ModelContext::free_held(Held *h)
{
	if (h->page)
		uncharge(0, 1);
	held_.remove_if([h](const auto &p) { return p.get() == h; });
}

void ModelContext::let_go(uint64_t cookie, Kind kind)
{
	Held *h = held_find(cookie);
	if (h && h->kind == kind && !h->pending)
		free_held(h);
}

// ---- 3. yielding calls -------------------------------------------------

int ModelContext::list(const std::shared_ptr<Pin> &pin, Tmem &t)
{
	const size_t n = pin->pages.size();
	const uint32_t lp = uint32_t((n + kPagesPerListPage - 1) / kPagesPerListPage);
	if (int e = charge(0, lp))
		return e;
	for (uint32_t i = 0; i < lp; i++)
		t.list.push_back(PhysPage::alloc(be_.optee_.phys()));
	for (size_t i = 0; i < n; i++) {
		auto *l = reinterpret_cast<uint64_t *>(t.list[i / kPagesPerListPage]->host());
		l[i % kPagesPerListPage] = pin->pages[i]->pa();
	}
	for (uint32_t i = 0; i + 1 < lp; i++)
		reinterpret_cast<uint64_t *>(t.list[i]->host())[kPagesPerListPage] = t.list[i + 1]->pa();
	return 0;
}

void ModelContext::list_free(Tmem &t)
{
	if (!t.list.empty())
		uncharge(0, uint32_t(t.list.size()));
	t.list.clear();
}

uint64_t ModelContext::buf_ptr(const Tmem &t) const
{
	return t.list[0]->pa() | (t.pin ? t.pin->offset : 0);
}

void ModelContext::call_free(std::unique_ptr<MCall> call)
{
	for (auto &t : call->tmem)
		list_free(t);
	list_free(call->shm_alloc);
	if (call->arg)
		uncharge(0, 1);
}

void ModelContext::msg_out(const CallRequest &req, CallResult &res, const std::byte *msg,
			   size_t size, const MCall *call)
{
	if (size > req.msg.size())
		return;
	std::vector<std::byte> out(msg, msg + size);
	const size_t n = (size - sizeof(MsgArgHeader)) / sizeof(MsgParam);
	for (size_t i = 0; i < n; i++)
		if (is_tmem(attr_type(params(out.data())[i].attr)))
			params(out.data())[i].a = 0;
	if (call)
		for (const auto &t : call->tmem)
			params(out.data())[t.param].a = t.buf_ptr;
	copy_bytes(req.msg.data(), out.data(), size);
	res.msg_len = size;
}

int ModelContext::param_in(MCall &call, unsigned n)
{
	MsgParam &p = params(call.arg->host())[n];
	const uint64_t known = kAttrTypeMask | kAttrMeta | kAttrNoncontig |
			       (uint64_t(kAttrCacheMask) << kAttrCacheShift);
	if (p.attr & ~known)
		return EINVAL;
	const uint32_t t = attr_type(p.attr);
	if (t == kAttrTypeNone || is_value(t) || is_rmem(t))
		return 0;
	if (!is_tmem(t))
		return EINVAL;
	if (!p.a)
		return 0;
	if (!(p.attr & kAttrNoncontig) || call.tmem.size() == kMaxTmem)
		return EINVAL;
	auto pin = pin_get(p.a);
	if (!pin)
		return ENOENT;
	call.tmem.push_back(Tmem{n, p.a, pin, {}});
	if (p.b > pin->size)
		return EINVAL;
	if (list(pin, call.tmem.back()))
		return EDQUOT;
	p.a = buf_ptr(call.tmem.back());
	return 0;
}

int ModelContext::msg_in(MCall &call, const CallRequest &req)
{
	std::byte *msg = call.arg->host();
	size_t rpc_size = 0;
	if (req.regs[0] == kCallWithRpcArg) {
		if (!be_.optee_.config().rpc_arg)
			return EINVAL;
		rpc_size = arg_size(kRpcMaxNumParams);
	}
	if (req.msg_len < sizeof(MsgArgHeader) || req.msg_len > req.msg.size())
		return EINVAL;
	copy_bytes(msg, req.msg.data(), req.msg_len);
	const uint32_t np = header(msg)->num_params;
	if (np > (kPageSize - sizeof(MsgArgHeader) - rpc_size) / sizeof(MsgParam))
		return EINVAL;
	const size_t size = arg_size(np);
	if (size > req.msg_len)
		return EINVAL;
	std::memset(msg + size, 0, kPageSize - size);
	call.num_params = np;
	call.rpc_offs = rpc_size ? size : 0;
	if (!cmd_forwarded(header(msg)->cmd, &CmdRule::kernel))
		return EPERM;
	for (unsigned n = 0; n < np; n++)
		if (int e = param_in(call, n))
			return e;
	if (header(msg)->cmd == kCmdRegisterShm) {
		if (np != 1 || call.tmem.size() != 1)
			return EINVAL;
		auto h = hold(params(msg)[0].c, Kind::Registered, call.tmem[0].pin, nullptr);
		if (!h)
			return h.error();
		call.reg = *h;
	} else if (header(msg)->cmd == kCmdUnregisterShm && np == 1) {
		call.unreg = true;
		call.unreg_cookie = params(msg)[0].c;
	}
	return 0;
}

void ModelContext::registered(Held *h, bool ok)
{
	h->pending = false;
	if (!ok)
		free_held(h);
}

void ModelContext::complete(std::unique_ptr<MCall> call, uint64_t a0, const CallRequest *req,
			    CallResult *res)
{
	const bool ok = a0 == kReturnOk && header(call->arg->host())->ret == kTeecSuccess;
	if (call->reg)
		registered(call->reg, ok);
	if (call->unreg && ok)
		let_go(call->unreg_cookie, Kind::Registered);
	if (req && a0 == kReturnOk)
		msg_out(*req, *res, call->arg->host(), arg_size(call->num_params), call.get());
	call_free(std::move(call));
}

void ModelContext::returned(std::unique_ptr<MCall> call, const SmcRegs &out, const CallRequest *req,
			    CallResult *res)
{
	if (res)
		for (int i = 0; i < 4; i++)
			res->regs[i] = out[i];
	if (!is_rpc(out[0])) {
		complete(std::move(call), out[0], req, res);
		return;
	}
	call->thread = uint32_t(out[3]);
	rpc(*call, out, req, res);
	calls_.push_back(std::move(call));
}

Result<CallResult> ModelContext::call_start(const CallRequest &req)
{
	auto call = std::make_unique<MCall>();
	if (int e = charge(0, 1))
		return make_error(e);
	call->arg = PhysPage::alloc(be_.optee_.phys());
	if (int e = msg_in(*call, req)) {
		if (call->reg)
			registered(call->reg, false);
		call_free(std::move(call));
		return make_error(e);
	}
	SmcRegs a{};
	a[0] = req.regs[0];
	a[1] = reg_hi(call->arg->pa());
	a[2] = reg_lo(call->arg->pa());
	const SmcRegs out = smc(a);
	CallResult res;
	returned(std::move(call), out, &req, &res);
	return res;
}

Result<CallResult> ModelContext::call_resume(const CallRequest &req)
{
	auto it = calls_.begin();
	while (it != calls_.end() && (*it)->thread != req.regs[3])
		it++;
	if (it == calls_.end())
		return make_error(ESRCH);
	std::unique_ptr<MCall> call = std::move(*it);
	calls_.erase(it);
	SmcRegs a{};
	a[0] = kReturnFromRpc;
	a[3] = call->thread;
	if (int e = rpc_answer(*call, req, a)) {
		calls_.push_back(std::move(call)); // still OP-TEE's to resume
		return make_error(e);
	}
	const SmcRegs out = smc(a);
	CallResult res;
	returned(std::move(call), out, &req, &res);
	return res;
}

void ModelContext::unwind()
{
	std::list<std::unique_ptr<MCall>> left;
	while (!calls_.empty()) {
		auto call = std::move(calls_.front());
		calls_.pop_front();
		for (unsigned round = 0; call && round < kUnwindRoundsKernel; round++) {
			SmcRegs a{};
			a[0] = kReturnFromRpc;
			a[3] = call->thread;
			const SmcRegs out = smc(a);
			if (!is_rpc(out[0])) {
				complete(std::move(call), out[0], nullptr, nullptr);
				break;
			}
			call->thread = uint32_t(out[3]);
			rpc(*call, out, nullptr, nullptr);
		}
		if (call)
			left.push_back(std::move(call));
	}
	calls_ = std::move(left);
}

// ---- 4. RPCs -------------------------------------------------------------

void ModelContext::rpc(MCall &call, const SmcRegs &out, const CallRequest *req, CallResult *res)
{
	const uint64_t cookie = reg_pair_to_64(out[1], out[2]);
	call.rpc_func = rpc_func(out[0]);
	call.rpc_msg = nullptr;
	if (call.rpc_func == kRpcFuncAlloc) {
		call.alloc_size = uint32_t(out[1]);
		return;
	}
	if (call.rpc_func == kRpcFuncFree) {
		let_go(cookie, Kind::RpcArg);
		return;
	}
	if (call.rpc_func != kRpcFuncCmd)
		return;
	std::byte *rq = nullptr;
	size_t room = kPageSize;
	if (call.rpc_offs) {
		rq = call.arg->host() + call.rpc_offs;
		room = kPageSize - call.rpc_offs;
	} else if (Held *h = held_find(cookie); h && h->kind == Kind::RpcArg) {
		rq = h->page->host();
	}
	if (!rq || header(rq)->num_params > (room - sizeof(MsgArgHeader)) / sizeof(MsgParam))
		return;
	call.rpc_msg = rq;
	call.rpc_size = arg_size(header(rq)->num_params);
	if (header(rq)->cmd == kRpcCmdShmFree && header(rq)->num_params == 1)
		let_go(params(rq)[0].b, Kind::RpcShm);
	if (req)
		msg_out(*req, *res, rq, call.rpc_size, nullptr);
}

int ModelContext::rpc_alloc(MCall &call, const CallRequest &req, SmcRegs &a)
{
	const uint64_t cookie = reg_pair_to_64(req.regs[4], req.regs[5]);
	if (held_find(cookie))
		return EEXIST;
	a[4] = reg_hi(cookie);
	a[5] = reg_lo(cookie);
	if (!req.regs[1] && !req.regs[2])
		return 0;
	if (!cookie || call.alloc_size > kPageSize)
		return EINVAL;
	if (int e = charge(0, 1))
		return e;
	auto page = PhysPage::alloc(be_.optee_.phys());
	const uint64_t pa = page->pa();
	(void)hold(cookie, Kind::RpcArg, nullptr, std::move(page));
	a[1] = reg_hi(pa);
	a[2] = reg_lo(pa);
	return 0;
}

int ModelContext::rpc_shm_alloc(MCall &call, MsgArgHeader *rq, const std::vector<std::byte> &ans)
{
	const MsgParam p = params(const_cast<std::byte *>(ans.data()))[0];
	MsgParam &out = params(reinterpret_cast<std::byte *>(rq))[0];
	if (rq->num_params != 1 || p.attr != (kAttrTmemOutput | kAttrNoncontig) || !p.c)
		return EINVAL;
	auto pin = pin_get(p.a);
	if (!pin)
		return ENOENT;
	if (p.b < out.b || p.b > pin->size)
		return EINVAL;
	if (held_find(p.c))
		return EEXIST;
	list_free(call.shm_alloc);
	call.shm_alloc.pin = pin;
	if (int e = list(pin, call.shm_alloc))
		return e;
	(void)hold(p.c, Kind::RpcShm, pin, nullptr);
	out = MsgParam{p.attr, buf_ptr(call.shm_alloc), p.b, p.c};
	return 0;
}

int ModelContext::rpc_cmd_answer(MCall &call, const CallRequest &req)
{
	if (req.msg_len < call.rpc_size)
		return EINVAL;
	std::vector<std::byte> ans(req.msg.data(), req.msg.data() + call.rpc_size);
	auto *rq = header(call.rpc_msg);
	const auto *ah = header(ans.data());
	int e = 0;
	if (rq->cmd == kRpcCmdShmAlloc && ah->ret == kTeecSuccess) {
		e = rpc_shm_alloc(call, rq, ans);
	} else if (rq->cmd != kRpcCmdShmAlloc) {
		for (uint32_t n = 0; n < rq->num_params; n++) {
			MsgParam &p = params(call.rpc_msg)[n];
			const MsgParam &q = params(ans.data())[n];
			if (p.attr == kAttrValueOutput || p.attr == kAttrValueInout) {
				p.a = q.a;
				p.b = q.b;
				p.c = q.c;
			} else if (is_output(uint32_t(p.attr))) {
				p.b = q.b;
			}
		}
	}
	if (!e) {
		rq->ret = ah->ret;
		rq->ret_origin = ah->ret_origin;
	}
	return e;
}

int ModelContext::rpc_answer(MCall &call, const CallRequest &req, SmcRegs &a)
{
	if (call.rpc_func == kRpcFuncAlloc)
		return rpc_alloc(call, req, a);
	if (call.rpc_func == kRpcFuncCmd && call.rpc_msg)
		return rpc_cmd_answer(call, req);
	return 0;
}

// ---- the backend -----------------------------------------------------------

ModelBackend::ModelBackend(const ModelConfig &cfg) : optee_(cfg) {}

ModelBackend::~ModelBackend() = default;

bool ModelBackend::register_host()
{
	SmcRegs r{};
	r[0] = kVmCreated;
	r[1] = 1;
	if (optee_.smc(r)[0] != kReturnOk)
		return false;
	std::lock_guard g(lock_);
	ids_[1] = true;
	return true;
}

Result<std::unique_ptr<BackendContext>> ModelBackend::create_vm()
{
	uint32_t id = 2; // 1 is the host's
	{
		std::lock_guard g(lock_);
		while (ids_.count(id))
			id++;
		ids_[id] = true;
	}
	SmcRegs r{};
	r[0] = kVmCreated;
	r[1] = id;
	if (optee_.smc(r)[0] != kReturnOk) {
		std::lock_guard g(lock_);
		ids_.erase(id);
		return make_error(ENOSPC); // OP-TEE has no room for another VM
	}
	std::lock_guard g(lock_);
	st_.contexts++;
	return std::unique_ptr<BackendContext>(new ModelContext(*this, id));
}

ModelBackendStats ModelBackend::stats() const
{
	std::lock_guard g(lock_);
	return st_;
}

} // namespace teemed::model
