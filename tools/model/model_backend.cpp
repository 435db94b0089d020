// SPDX-License-Identifier: BSD-2-Clause
#include "teemed/bytes.hpp"
#include "model_backend.hpp"

#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

namespace teemed::model {

using namespace abi;

namespace {

// The SMCs a VM context forwards; the same list as the kernel's. Anything
// that carries or returns a physical address the context did not make, or
// that only the hypervisor may issue, is refused.
bool forwarded(uint32_t fid)
{
	switch (fid) {
	case kCallsCount:
	case kCallsUid:
	case kCallsRevision:
	case kGetOsUuid:
	case kGetOsRevision:
	case kExchangeCapabilities:
	case kDisableShmCache:
	case kEnableShmCache:
	case kGetThreadCount:
	case kEnableAsyncNotif:
	case kGetAsyncNotifValue:
	case kCallWithArg:
	case kCallWithRpcArg:
	case kReturnFromRpc:
		return true;
	default:
		return false;
	}
}

struct Page {
	Page() : p(static_cast<std::byte *>(std::aligned_alloc(kPageSize, kPageSize)))
	{
		std::memset(p, 0, kPageSize);
	}
	~Page() { std::free(p); }
	Page(const Page &) = delete;
	Page &operator=(const Page &) = delete;
	std::byte *p;
};

} // namespace

class ModelContext : public BackendContext {
public:
	ModelContext(ModelBackend &be, uint32_t id) : be_(be), id_(id) {}
	~ModelContext() override;

	uint32_t client_id() const override { return id_; }
	Result<Handle> pin(std::span<const uint64_t> page_vas) override;
	Result<Handle> alloc_shadow() override;
	void release(Handle h) override;
	Result<SmcRegs> call(const CallRequest &req) override;
	Result<void> transfer(std::span<const ShadowWrite> writes,
			      std::span<const ShadowRead> reads) override;
	void shutdown() override;

private:
	struct Object {
		bool shadow = false;
		std::vector<std::unique_ptr<Page>> list; // page list pages (pin) or the shadow
		std::vector<uint64_t> pas;               // physical pages registered
		uint32_t pinned = 0;
		std::map<uint32_t, uint64_t> relocated; // shadow offset -> user value
	};

	Object *find(Handle h, bool shadow);
	Result<void> do_writes(std::span<const ShadowWrite> writes);
	Result<void> do_reads(std::span<const ShadowRead> reads);
	void free_object(Object &o);

	ModelBackend &be_;
	const uint32_t id_;
	std::mutex lock_;
	std::map<Handle, Object> objs_;
	Handle next_ = 1;
	std::set<uint32_t> suspended_; // OP-TEE threads suspended for us
	bool dead_ = false;
};

ModelContext::Object *ModelContext::find(Handle h, bool shadow)
{
	auto it = objs_.find(h);
	if (it == objs_.end() || it->second.shadow != shadow)
		return nullptr;
	return &it->second;
}

Result<Handle> ModelContext::pin(std::span<const uint64_t> page_vas)
{
	if (page_vas.empty())
		return make_error(EINVAL);
	for (uint64_t va : page_vas)
		if (!va || va & kPageMask)
			return make_error(EINVAL);
	auto &phys = be_.optee_.phys();
	Object o;
	// The page list OP-TEE walks: 511 entries and a next pointer a page.
	const size_t lists = (page_vas.size() + kPagesPerListPage - 1) / kPagesPerListPage;
	std::vector<uint64_t> list_pas;
	for (size_t i = 0; i < lists; i++) {
		o.list.push_back(std::make_unique<Page>());
		list_pas.push_back(phys.add(o.list.back()->p));
	}
	for (size_t i = 0; i < page_vas.size(); i++) {
		const uint64_t pa = phys.add(reinterpret_cast<std::byte *>(page_vas[i]));
		o.pas.push_back(pa);
		auto *l = reinterpret_cast<uint64_t *>(o.list[i / kPagesPerListPage]->p);
		l[i % kPagesPerListPage] = pa;
	}
	for (size_t i = 0; i + 1 < lists; i++)
		reinterpret_cast<uint64_t *>(o.list[i]->p)[kPagesPerListPage] = list_pas[i + 1];
	o.pas.insert(o.pas.begin(), list_pas.begin(), list_pas.end());
	o.pinned = uint32_t(page_vas.size());

	std::lock_guard g(lock_);
	const Handle h = next_++;
	objs_.emplace(h, std::move(o));
	std::lock_guard bg(be_.lock_);
	be_.st_.objects++;
	be_.st_.pinned_pages += page_vas.size();
	return h;
}

Result<Handle> ModelContext::alloc_shadow()
{
	Object o;
	o.shadow = true;
	o.list.push_back(std::make_unique<Page>());
	o.pas.push_back(be_.optee_.phys().add(o.list[0]->p));
	std::lock_guard g(lock_);
	const Handle h = next_++;
	objs_.emplace(h, std::move(o));
	std::lock_guard bg(be_.lock_);
	be_.st_.objects++;
	return h;
}

void ModelContext::free_object(Object &o)
{
	for (uint64_t pa : o.pas)
		be_.optee_.phys().remove(pa);
	std::lock_guard bg(be_.lock_);
	be_.st_.objects--;
	be_.st_.pinned_pages -= o.pinned;
}

void ModelContext::release(Handle h)
{
	std::lock_guard g(lock_);
	auto it = objs_.find(h);
	if (it == objs_.end())
		return;
	free_object(it->second);
	objs_.erase(it);
}

Result<void> ModelContext::do_writes(std::span<const ShadowWrite> writes)
{
	for (const auto &w : writes) {
		Object *o = find(w.shadow, true);
		if (!o || w.offset > kPageSize || w.data.size() > kPageSize - w.offset)
			return make_error(EINVAL);
		copy_bytes(o->list[0]->p + w.offset, w.data.data(), w.data.size());
		// A user write over a relocated field makes it the user's again.
		for (auto it = o->relocated.begin(); it != o->relocated.end();)
			it = it->first + 8 > w.offset && it->first < w.offset + w.data.size()
				     ? o->relocated.erase(it) : std::next(it);
	}
	return {};
}

Result<void> ModelContext::do_reads(std::span<const ShadowRead> reads)
{
	for (const auto &r : reads) {
		Object *o = find(r.shadow, true);
		if (!o || r.offset > kPageSize || r.data.size() > kPageSize - r.offset)
			return make_error(EINVAL);
		std::vector<std::byte> tmp(o->list[0]->p, o->list[0]->p + kPageSize);
		// Scrub: a physical address never leaves.
		for (const auto &[off, val] : o->relocated)
			copy_bytes(tmp.data() + off, &val, sizeof(val));
		copy_bytes(r.data.data(), tmp.data() + r.offset, r.data.size());
	}
	return {};
}

Result<void> ModelContext::transfer(std::span<const ShadowWrite> writes,
				   std::span<const ShadowRead> reads)
{
	std::lock_guard g(lock_);
	if (dead_)
		return make_error(ESHUTDOWN);
	if (auto r = do_writes(writes); !r)
		return r;
	return do_reads(reads);
}

Result<SmcRegs> ModelContext::call(const CallRequest &req)
{
	SmcRegs regs = req.regs;
	const uint32_t fid = uint32_t(regs[0]);
	{
		std::lock_guard g(lock_);
		if (dead_)
			return make_error(ESHUTDOWN);
		if (!forwarded(fid) || regs[0] >> 32)
			return make_error(EPERM);
		if (auto r = do_writes(req.writes); !r)
			return make_error(r.error());
		if (fid == kCallWithArg || fid == kCallWithRpcArg || fid == kReturnFromRpc)
			regs[1] = regs[2] = 0;
		for (const auto &rl : req.relocs) {
			auto it = objs_.find(rl.object);
			if (it == objs_.end())
				return make_error(EINVAL);
			const Object &src = it->second;
			if (src.shadow ? rl.offset >= kPageSize : rl.offset >= kPageSize)
				return make_error(EINVAL);
			const uint64_t pa = src.pas[0] + rl.offset;
			if (rl.target == Reloc::Target::A1A2) {
				regs[1] = reg_hi(pa);
				regs[2] = reg_lo(pa);
				continue;
			}
			Object *dst = find(rl.shadow, true);
			if (!dst || rl.shadow_offset % 8 || rl.shadow_offset > kPageSize - 8)
				return make_error(EINVAL);
			uint64_t user;
			copy_bytes(&user, dst->list[0]->p + rl.shadow_offset, 8);
			dst->relocated.emplace(rl.shadow_offset, user);
			copy_bytes(dst->list[0]->p + rl.shadow_offset, &pa, 8);
		}
	}
	regs[7] = id_;
	SmcRegs out = be_.optee_.smc(regs);
	std::lock_guard g(lock_);
	const bool std_call = !is_fast(fid);
	if (std_call && is_rpc(out[0]))
		suspended_.insert(uint32_t(out[3]));
	else if (fid == kReturnFromRpc)
		suspended_.erase(uint32_t(regs[3]));
	if (auto r = do_reads(req.reads); !r)
		return make_error(r.error());
	SmcRegs res{};
	for (int i = 0; i < 4; i++)
		res[i] = out[i];
	return res;
}

void ModelContext::shutdown()
{
	std::set<uint32_t> threads;
	{
		std::lock_guard g(lock_);
		if (dead_)
			return;
		dead_ = true;
		threads.swap(suspended_);
	}
	// What the kernel does when a VMM dies with calls in OP-TEE: answer
	// every RPC as failed until each call completes, bounded.
	for (uint32_t t : threads) {
		for (int round = 0; round < 64; round++) {
			SmcRegs r{};
			r[0] = kReturnFromRpc;
			r[3] = t;
			r[7] = id_;
			SmcRegs out = be_.optee_.smc(r);
			if (!is_rpc(out[0]))
				break;
		}
	}
	SmcRegs r{};
	r[0] = kVmDestroyed;
	r[1] = id_;
	be_.optee_.smc(r);
}

ModelContext::~ModelContext()
{
	shutdown();
	std::lock_guard g(lock_);
	for (auto &[h, o] : objs_)
		free_object(o);
	objs_.clear();
	std::lock_guard bg(be_.lock_);
	be_.ids_.erase(id_);
	be_.st_.contexts--;
}

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
