// SPDX-License-Identifier: BSD-2-Clause
// Lifecycle of a VM and the dispatch of one trapped SMC.
#include "bytes.hpp"
#include "teemed/vm.hpp"

#include <cstring>

#include "probes.hpp"
#include "vm_state.hpp"

namespace teemed {

using namespace abi;

// ---- RAII objects ------------------------------------------------------

bool PinAccount::reserve(uint32_t n, uint32_t max)
{
	uint32_t cur = pages.load();
	do {
		if (n > max || cur > max - n)
			return false;
	} while (!pages.compare_exchange_weak(cur, cur + n));
	uint32_t total = cur + n, hw = pages_max.load();
	while (total > hw && !pages_max.compare_exchange_weak(hw, total))
		;
	return true;
}

// The pages were reserved in the account before they were pinned.
PinnedBuffer::PinnedBuffer(BackendContext *ctx, Handle h, PinAccount *acct,
			   std::vector<uint64_t> page_vas, uint32_t first_offset, uint64_t size)
	: ctx_(ctx), h_(h), acct_(acct), page_vas_(std::move(page_vas)),
	  first_offset_(first_offset), size_(size)
{
	uint32_t total = acct_->pages.load();
	acct_->pins++;
	TEEMED_PROBE4(pin, acct_->label, acct_->client_id, pages(), total);
}

PinnedBuffer &PinnedBuffer::operator=(PinnedBuffer &&o) noexcept
{
	if (this != &o) {
		drop();
		ctx_ = o.ctx_;
		h_ = o.h_;
		acct_ = o.acct_;
		page_vas_ = std::move(o.page_vas_);
		first_offset_ = o.first_offset_;
		size_ = o.size_;
		o.h_ = 0;
	}
	return *this;
}

void PinnedBuffer::drop()
{
	if (!h_)
		return;
	ctx_->release(h_);
	h_ = 0;
	uint32_t total = acct_->pages.fetch_sub(pages()) - pages();
	acct_->unpins++;
	TEEMED_PROBE4(unpin, acct_->label, acct_->client_id, pages(), total);
}

size_t GuestSpan::size() const
{
	size_t n = 0;
	for (const auto &s : segs)
		n += s.len;
	return n;
}

void GuestSpan::read(std::span<std::byte> out) const
{
	size_t done = 0;
	for (const auto &s : segs) {
		if (done == out.size())
			break;
		size_t n = std::min<size_t>(s.len, out.size() - done);
		copy_bytes(out.data() + done, reinterpret_cast<const void *>(s.va), n);
		done += n;
	}
}

void GuestSpan::write(size_t off, std::span<const std::byte> in) const
{
	size_t pos = 0, done = 0;
	for (const auto &s : segs) {
		if (done == in.size())
			break;
		if (off < pos + s.len) {
			size_t skip = off > pos ? off - pos : 0;
			size_t n = std::min<size_t>(s.len - skip, in.size() - done);
			copy_bytes(reinterpret_cast<void *>(s.va + skip), in.data() + done, n);
			done += n;
			off += n;
		}
		pos += s.len;
	}
}

// ---- VmState -------------------------------------------------------------

VmState::VmState(Backend &be, std::unique_ptr<BackendContext> ctx, const Limits &lim,
		 uint64_t label)
	: backend_(be), ctx_(std::move(ctx)), limits_(lim), label_(label),
	  client_id_(ctx_->client_id())
{
	acct_.label = label_;
	acct_.client_id = client_id_;
	st_.client_id = client_id_;

	// What OP-TEE offers decides what guests may use: its thread count
	// caps the calls a VM may have in flight, RPC_ARG whether guests may
	// pass their RPC argument with the call.
	SmcRegs r{};
	r[0] = OPTEE_SMC_GET_THREAD_COUNT;
	if (auto out = smc(CallRequest{r, {}, 0}); out && out->regs[0] == OPTEE_SMC_RETURN_OK)
		optee_threads_ = uint32_t(out->regs[1]);
	r[0] = OPTEE_SMC_EXCHANGE_CAPABILITIES;
	if (auto out = smc(CallRequest{r, {}, 0}); out && out->regs[0] == OPTEE_SMC_RETURN_OK &&
						      (out->regs[1] & kSecCapRpcArg))
		rpc_param_count_ = uint32_t(out->regs[3]);
	TEEMED_PROBE2(vm_create, label_, client_id_);
}

VmState::~VmState() { close(); }

bool VmState::enter()
{
	std::lock_guard g(lock_);
	if (closed_)
		return false;
	active_++;
	return true;
}

void VmState::leave()
{
	std::lock_guard g(lock_);
	if (--active_ == 0)
		idle_.notify_all();
}

Result<CallResult> VmState::smc(const CallRequest &req)
{
	const uint64_t a0 = req.regs[0];
	TEEMED_PROBE3(backend_enter, label_, client_id_, a0);
	auto out = ctx_->call(req);
	{
		std::lock_guard g(lock_);
		st_.backend_calls++;
		if (!out)
			st_.backend_errors++;
	}
	TEEMED_PROBE4(backend_exit, label_, client_id_, a0, out ? out->regs[0] : ~0ull);
	return out;
}

Result<CallResult> VmState::smc(const SmcRegs &regs, Call &c, size_t msg_len)
{
	return smc(CallRequest{regs, c.msg, msg_len});
}

Result<SmcRegs> VmState::handle_smc(const SmcRegs &in)
{
	if (!enter())
		return make_error(ESHUTDOWN);
	const uint32_t fid = uint32_t(in[0]);
	TEEMED_PROBE3(smc_entry, label_, client_id_, fid);

	SmcRegs out;
	if (is_fast(fid)) {
		out = fast_call(in);
	} else if (fid == OPTEE_SMC_CALL_WITH_ARG || fid == OPTEE_SMC_CALL_WITH_RPC_ARG || fid == OPTEE_SMC_CALL_WITH_REGD_ARG) {
		out = start_call(in);
	} else if (fid == OPTEE_SMC_CALL_RETURN_FROM_RPC) {
		out = resume_call(in);
	} else {
		// OP-TEE implements no other yielding call, and nothing in the
		// Trusted App range, nor any SMC64 id.
		std::lock_guard g(lock_);
		st_.rejected++;
		out = in;
		out[0] = OPTEE_SMC_RETURN_UNKNOWN_FUNCTION;
	}
	// x4..x7 are preserved across the call, as SMCCC asks.
	for (int i = 4; i < 8; i++)
		out[i] = in[i];
	TEEMED_PROBE4(smc_exit, label_, client_id_, fid, out[0]);
	reap();
	leave();
	return out;
}

// OP-TEE gives a thread to the next call the moment the last return of the
// call before leaves it, before that return reaches the library: the entry
// of a thread may already be another call's. Caller holds lock_.
void VmState::forget_thread(std::list<Call>::iterator it)
{
	if (!it->suspended)
		return;
	if (auto t = threads_.find(it->thread); t != threads_.end() && t->second == it)
		threads_.erase(t);
	it->suspended = false;
}

void VmState::erase_call(std::list<Call>::iterator it)
{
	// Caller holds lock_.
	forget_thread(it);
	if (it->reg_pending)
		pending_reg_.erase(it->reg_cookie);
	if (it->unreg_pending)
		unregistering_.erase(it->unreg_cookie);
	for (auto &b : it->temp)
		bury(std::move(b));
	if (it->reg)
		bury(std::move(*it->reg));
	calls_.erase(it);
	st_.live_calls = uint32_t(calls_.size());
}

void VmState::drop_shm(std::map<uint64_t, ShmBuf>::iterator it)
{
	// Caller holds lock_.
	bury(std::move(it->second.buf));
	shm_.erase(it);
}

void VmState::reap()
{
	std::vector<PinnedBuffer> dead;
	{
		std::lock_guard g(lock_);
		dead.swap(dead_);
	}
}

void VmState::close()
{
	std::call_once(close_once_, [this] { do_close(); });
}

void VmState::do_close()
{
	{
		std::unique_lock g(lock_);
		closed_ = true;
		lock_.wait(g, idle_, [&] { return active_ == 0; });
	}
	// No vCPU is inside now, and none can enter: unwind what OP-TEE still
	// holds suspended, so that its TAs clean up. What does not complete
	// goes with the partition: the backend keeps every page OP-TEE may
	// hold until VM_DESTROYED, whatever is released here.
	uint32_t stuck = 0;
	{
		std::unique_lock g(lock_);
		while (!calls_.empty()) {
			auto it = calls_.begin();
			g.unlock();
			bool done = it->suspended ? unwind(it) : true;
			g.lock();
			stuck += !done;
			erase_call(it);
		}
	}
	reap();
	// VM_DESTROYED: OP-TEE drops the partition with all its SHM, and the
	// backend everything it kept for it.
	ctx_->shutdown();
	{
		std::lock_guard g(lock_);
		while (!shm_.empty())
			drop_shm(shm_.begin());
		rpc_bufs_.clear();
	}
	reap();
	uint32_t leaked;
	{
		std::lock_guard g(lock_);
		st_.unwind_abandoned = stuck;
		leaked = st_.leaked_pages = acct_.pages.load();
	}
	TEEMED_PROBE3(vm_destroy, label_, client_id_, leaked);
	ctx_.reset();
}

VmStats VmState::stats() const
{
	std::lock_guard g(lock_);
	VmStats s = st_;
	s.pinned_pages = acct_.pages.load();
	s.pinned_pages_max = acct_.pages_max.load();
	s.pins = acct_.pins.load();
	s.unpins = acct_.unpins.load();
	s.live_calls = uint32_t(calls_.size());
	s.shm_buffers = uint32_t(shm_.size());
	s.rpc_buffers = uint32_t(rpc_bufs_.size());
	return s;
}

// ---- Vm --------------------------------------------------------------------

Vm::Vm(std::unique_ptr<VmState> state) : state_(std::move(state)) {}

Vm::~Vm() = default;

Result<std::unique_ptr<Vm>> Vm::create(Backend &backend, const Limits &limits, uint64_t label)
{
	auto ctx = backend.create_vm();
	if (!ctx)
		return make_error(ctx.error());
	auto st = std::make_unique<VmState>(backend, std::move(*ctx), limits, label);
	return std::unique_ptr<Vm>(new Vm(std::move(st)));
}

Result<void> Vm::add_region(const MemRegion &region) { return state_->memory().add_region(region); }

Result<void> Vm::remove_region(uint64_t ipa, uint64_t size) { return state_->remove_region(ipa, size); }

Result<void> VmState::remove_region(uint64_t ipa, uint64_t size)
{
	// The mediator keeps VMM addresses where a call's answer goes (the
	// guest's argument, its RPC argument, a registered buffer, one being
	// registered): the region may go only once none points into it, or
	// the VMM, unmapping it, would have the library write to memory no
	// longer there. Each is kept under lock_, after mapped() said it is
	// still guest RAM: none can slip in between.
	std::lock_guard g(lock_);
	return mem_.remove_region(ipa, size, [&](const MemRegion &r) {
		auto inside = [&](uint64_t va) { return va >= r.host_va && va - r.host_va < r.size; };
		auto span_inside = [&](const GuestSpan &s) {
			for (const auto &seg : s.segs)
				if (inside(seg.va))
					return true;
			return false;
		};
		for (const auto &c : calls_) {
			if (span_inside(c.arg_loc) || span_inside(c.rpc_loc) || span_inside(c.cmd_guest))
				return true;
			// A registration in flight: kept on success.
			if (c.reg)
				for (uint64_t va : c.reg->page_vas())
					if (inside(va))
						return true;
		}
		for (const auto &[cookie, shm] : shm_)
			for (uint64_t va : shm.buf.page_vas())
				if (inside(va))
					return true;
		return false;
	});
}

Result<SmcRegs> Vm::handle_smc(const SmcRegs &in) { return state_->handle_smc(in); }

void Vm::close() { state_->close(); }

void Vm::set_foreign_intr_budget(std::chrono::microseconds budget)
{
	state_->set_foreign_intr_budget(budget);
}

VmStats Vm::stats() const { return state_->stats(); }

uint32_t Vm::client_id() const { return state_->client_id(); }

uint64_t Vm::label() const { return state_->label(); }

} // namespace teemed
