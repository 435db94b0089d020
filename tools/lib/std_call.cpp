// SPDX-License-Identifier: BSD-2-Clause
// A yielding call's life: OPTEE_SMC_CALL_WITH_ARG, OPTEE_SMC_CALL_WITH_RPC_ARG
// and OPTEE_SMC_CALL_WITH_REGD_ARG start one, OPTEE_SMC_CALL_RETURN_FROM_RPC
// resumes it after each RPC (rpc.cpp), and it ends when OP-TEE completes it.
// The guest's argument is snapshotted once and checked as OP-TEE would
// check it; the backend gets OP-TEE's message with pins in place of guest
// addresses, and on completion only the fields OP-TEE outputs go back.
#include <cstring>

#include "bytes.hpp"
#include "vm_state.hpp"

namespace teemed {

using namespace abi;

namespace {

// The bytes [off, off + len) of a pinned buffer, as VMM memory runs.
GuestSpan span_in(const std::vector<uint64_t> &page_vas, uint64_t off, size_t len)
{
	GuestSpan s;
	while (len) {
		const size_t page = off / kPageSize, in_page = off % kPageSize;
		const size_t n = std::min(len, kPageSize - in_page);
		s.segs.push_back({page_vas[page] + in_page, uint32_t(n)});
		off += n;
		len -= n;
	}
	return s;
}

constexpr uint64_t kKnownAttrBits =
	kAttrTypeMask | kAttrMeta | kAttrNoncontig | (uint64_t(kAttrCacheMask) << kAttrCacheShift);

} // namespace

uint32_t VmState::call_limit() const
{
	uint32_t lim = limits_.max_calls_per_vm;
	if (optee_threads_ && optee_threads_ < lim)
		lim = optee_threads_;
	return lim;
}

// Locate and snapshot the guest's argument. An answer means: refuse the
// call with it, as OP-TEE would.
std::optional<SmcRegs> VmState::load_arg(Call &c, const SmcRegs &in)
{
	const uint64_t rpc_size = c.mode == ArgMode::Plain ? 0 : arg_size(rpc_param_count_);
	MsgArgHeader hdr;
	GuestSpan arg, rpc;

	if (c.mode != ArgMode::Plain && !rpc_param_count_)
		return std_call_result(in, OPTEE_SMC_RETURN_UNKNOWN_FUNCTION); // no RPC_ARG: no such call
	if (c.mode == ArgMode::Regd) {
		const uint64_t cookie = reg_pair_to_64(in[1], in[2]);
		const uint64_t offset = in[3];
		std::vector<uint64_t> vas;
		uint64_t size = 0, first = 0;
		{
			std::lock_guard g(lock_);
			auto it = shm_.find(cookie);
			if (it == shm_.end() || unregistering_.count(cookie))
				return std_call_result(in, OPTEE_SMC_RETURN_EBADADDR);
			vas = it->second.buf.page_vas();
			size = it->second.buf.size();
			first = it->second.buf.first_offset();
		}
		// OP-TEE: the argument must be aligned and lie inside the
		// registered buffer, the RPC argument right behind it.
		if (offset >= size || size - offset < sizeof(hdr) || (first + offset) % 8)
			return std_call_result(in, OPTEE_SMC_RETURN_EBADADDR);
		span_in(vas, first + offset, sizeof(hdr)).read(std::as_writable_bytes(std::span(&hdr, 1)));
		if (hdr.num_params > kMaxNumParams)
			return std_call_result(in, OPTEE_SMC_RETURN_EBADADDR);
		const uint64_t need = arg_size(hdr.num_params) + rpc_size;
		// The kernel's argument is one page: an argument that needs more
		// than OP-TEE's own page-sized maximum cannot be mediated.
		if (need > size - offset || need > kPageSize)
			return std_call_result(in, OPTEE_SMC_RETURN_EBADADDR);
		arg = span_in(vas, first + offset, arg_size(hdr.num_params));
		rpc = span_in(vas, first + offset + arg_size(hdr.num_params), rpc_size);
	} else {
		const uint64_t ipa = reg_pair_to_64(in[1], in[2]);
		// Not in reserved SHM (guests have none), so OP-TEE maps it
		// as one dynamic page: it must start one.
		if (ipa & kPageMask || !mem_.read_obj(ipa, hdr))
			return std_call_result(in, OPTEE_SMC_RETURN_EBADADDR);
		if (hdr.num_params > kMaxNumParams)
			return std_call_result(in, OPTEE_SMC_RETURN_EBADADDR);
		const uint64_t need = arg_size(hdr.num_params) + rpc_size;
		auto va = mem_.translate(ipa, need);
		if (need > kPageSize || !va)
			return std_call_result(in, OPTEE_SMC_RETURN_EBADADDR);
		arg.segs = {{*va, uint32_t(arg_size(hdr.num_params))}};
		if (rpc_size)
			rpc.segs = {{*va + arg_size(hdr.num_params), uint32_t(rpc_size)}};
	}
	{
		// Kept from now on, where remove_region() sees them: still in
		// guest RAM, or the VMM removed the region meanwhile.
		std::lock_guard g(lock_);
		if (!mapped(arg) || !mapped(rpc))
			return std_call_result(in, OPTEE_SMC_RETURN_EBADADDR);
		c.arg_loc = std::move(arg);
		c.rpc_loc = std::move(rpc);
	}

	// One snapshot; every later decision uses it, whatever the guest
	// writes meanwhile.
	std::vector<std::byte> bytes(arg_size(hdr.num_params));
	c.arg_loc.read(bytes);
	copy_bytes(&c.hdr, bytes.data(), sizeof(c.hdr));
	c.hdr.num_params = hdr.num_params; // the size we checked is the size we use
	c.params.resize(hdr.num_params);
	copy_bytes(c.params.data(), bytes.data() + sizeof(c.hdr), c.params.size() * sizeof(MsgParam));
	return std::nullopt;
}

// Translate parameters into `out` (OP-TEE's message, a TMEM naming its pin
// by handle). Returns 0, or the GlobalPlatform error to answer the guest
// with (origin COMMS), as OP-TEE answers a parameter it cannot accept.
uint32_t VmState::translate_params(Call &c, std::vector<MsgParam> &out)
{
	out = c.params;
	for (size_t i = 0; i < out.size(); i++) {
		MsgParam &p = out[i];
		const uint32_t t = attr_type(p.attr);
		if (p.attr & ~kKnownAttrBits)
			return kTeecErrorBadParameters;
		if (t == kAttrTypeNone || is_value(t)) {
			if (p.attr & kAttrNoncontig)
				return kTeecErrorBadParameters;
			continue;
		}
		if (p.attr & kAttrMeta)
			return kTeecErrorBadParameters;
		if (is_rmem(t)) {
			if (p.attr & kAttrNoncontig)
				return kTeecErrorBadParameters;
			// A name OP-TEE resolves: only a registration it completed
			// may be named (the kernel refuses any other), as OP-TEE
			// answers a cookie it does not know. A registration still
			// in flight is UNREGISTER_SHM's to answer busy, below.
			// One being unregistered is gone for OP-TEE's callers.
			std::lock_guard g(lock_);
			auto s = shm_.find(p.c);
			const bool unreg = c.hdr.cmd == OPTEE_MSG_CMD_UNREGISTER_SHM;
			const bool busy = pending_reg_.count(p.c) || unregistering_.count(p.c);
			if (!(unreg && busy) &&
			    (s == shm_.end() || s->second.from_rpc || unregistering_.count(p.c)))
				return kTeecErrorBadParameters;
			continue;
		}
		if (!is_tmem(t))
			return kTeecErrorBadParameters;
		if (p.a == 0)
			continue; // NULL memref (MEMREF_NULL)
		if (!(p.attr & kAttrNoncontig))
			return kTeecErrorBadParameters; // contiguous = reserved SHM: none
		const bool reg = c.hdr.cmd == OPTEE_MSG_CMD_REGISTER_SHM;
		if (reg) {
			// Reserve the cookie now: another vCPU registering the
			// same one meanwhile must see it taken.
			std::lock_guard g(lock_);
			if (c.reg_pending || cookie_in_use(p.c))
				return kTeecErrorBadParameters;
			if (buffers_in_use() >= limits_.max_buffers_per_vm)
				return kTeecErrorOutOfMemory;
			pending_reg_.insert(p.c);
			c.reg_pending = true;
			c.reg_cookie = p.c;
		}
		auto pin = pin_noncontig(p.a, p.b);
		if (!pin)
			return pin.error() == ENOMEM ? kTeecErrorOutOfMemory : kTeecErrorBadParameters;
		p.a = pin->handle(); // the kernel writes OP-TEE's page list
		if (reg) {
			// The library writes a registered buffer (REGD arguments):
			// kept only if its pages are still the guest's RAM.
			std::lock_guard g(lock_);
			if (!mapped(*pin))
				return kTeecErrorBadParameters;
			c.reg = std::move(*pin);
		} else {
			c.temp.push_back(std::move(*pin));
		}
	}
	return 0;
}

SmcRegs VmState::start_call(const SmcRegs &in)
{
	const auto trapped = Clock::now();
	const uint32_t fid = uint32_t(in[0]);
	std::list<Call>::iterator it;
	{
		std::lock_guard g(lock_);
		st_.yielding_calls++;
		if (calls_.size() >= call_limit()) {
			st_.rejected++;
			return std_call_result(in, OPTEE_SMC_RETURN_ETHREAD_LIMIT);
		}
		it = calls_.emplace(calls_.end());
		it->busy = true;
		st_.live_calls = uint32_t(calls_.size());
		st_.live_calls_max = std::max(st_.live_calls_max, st_.live_calls);
	}
	Call &c = *it;
	c.mode = fid == OPTEE_SMC_CALL_WITH_ARG ? ArgMode::Plain
		 : fid == OPTEE_SMC_CALL_WITH_RPC_ARG ? ArgMode::RpcArg : ArgMode::Regd;

	auto refuse = [&](const SmcRegs &r) {
		std::lock_guard g(lock_);
		st_.rejected++;
		erase_call(it);
		return r;
	};
	if (auto early = load_arg(c, in))
		return refuse(*early);
	// DO_BOTTOM_HALF and STOP_ASYNC_NOTIF belong to asynchronous
	// notifications, which guests are not offered (tables/optee_msg.tsv).
	if (!cmd_forwarded(c.hdr.cmd, &CmdRule::library))
		return refuse(std_call_result(in, OPTEE_SMC_RETURN_EBADCMD));

	std::vector<MsgParam> params;
	if (uint32_t err = translate_params(c, params)) {
		// Answered like OP-TEE answers a parameter it rejects: the
		// call completes (OK) with the error in the argument.
		const uint32_t rv[2] = {err, kTeecOriginComms};
		c.arg_loc.write(kOffRet, std::as_bytes(std::span(rv)));
		return refuse(std_call_result(in, OPTEE_SMC_RETURN_OK));
	}
	if (c.hdr.cmd == OPTEE_MSG_CMD_UNREGISTER_SHM && !c.params.empty()) {
		c.unreg_cookie = c.params[0].c;
		// Its REGISTER_SHM is still in OP-TEE (another vCPU): had the
		// UNREGISTER_SHM gone through first, the registration would
		// complete into a buffer OP-TEE no longer has. Or another
		// UNREGISTER_SHM of it is: this one could overtake it, reach
		// OP-TEE after a new REGISTER_SHM of the cookie and take that
		// away unseen. Busy, as OP-TEE answers for a buffer in use.
		// Otherwise the cookie is this call's to unregister.
		std::lock_guard g(lock_);
		if (pending_reg_.count(c.unreg_cookie) || unregistering_.count(c.unreg_cookie)) {
			const uint32_t rv[2] = {kTeecErrorBusy, kTeecOriginComms};
			c.arg_loc.write(kOffRet, std::as_bytes(std::span(rv)));
			st_.rejected++;
			erase_call(it);
			return std_call_result(in, OPTEE_SMC_RETURN_OK);
		}
		unregistering_.insert(c.unreg_cookie);
		c.unreg_pending = true;
	}

	MsgArgHeader hdr = c.hdr;
	hdr.ret = 0;
	hdr.ret_origin = 0;
	copy_bytes(c.msg.data(), &hdr, sizeof(hdr));
	copy_bytes(c.msg.data() + sizeof(hdr), params.data(), params.size() * sizeof(MsgParam));

	// A REGD argument is copied like any other: the guest's registered
	// buffer never reaches OP-TEE as an argument.
	SmcRegs regs{};
	regs[0] = c.mode == ArgMode::Plain ? OPTEE_SMC_CALL_WITH_ARG : OPTEE_SMC_CALL_WITH_RPC_ARG;
	return drive(it, smc(regs, c, arg_size(params.size())), trapped);
}

SmcRegs VmState::resume_call(const SmcRegs &in)
{
	const auto trapped = Clock::now();
	std::list<Call>::iterator it;
	{
		std::lock_guard g(lock_);
		st_.rpc_returns++;
		auto t = threads_.find(uint32_t(in[3]));
		// Unknown thread, or one another vCPU is resuming right now:
		// OP-TEE's answer to resume information it cannot use.
		if (in[3] >> 32 || t == threads_.end() || t->second->busy) {
			st_.rejected++;
			return std_call_result(in, OPTEE_SMC_RETURN_ERESUME);
		}
		it = t->second;
		it->busy = true;
	}
	const RpcAnswer a = answer_rpc(*it, in);
	auto out = smc(a.regs, *it, a.msg_len);
	if (!out) {
		// Refused: OP-TEE got no buffer.
		std::lock_guard g(lock_);
		if (a.rpc_buf)
			rpc_bufs_.erase(*a.rpc_buf);
		if (a.shm)
			if (auto s = shm_.find(*a.shm); s != shm_.end())
				drop_shm(s);
	}
	return drive(it, std::move(out), trapped);
}

SmcRegs VmState::drive(std::list<Call>::iterator it, Result<CallResult> out,
		       Clock::time_point trapped)
{
	for (unsigned failed_answers = 0;;) {
		if (!out) {
			// Refused, or the path to OP-TEE failed: no SMC happened,
			// the call stays as it was (suspended, or never started).
			std::lock_guard g(lock_);
			it->busy = false;
			if (!it->suspended)
				erase_call(it);
			return std_call_result({}, OPTEE_SMC_RETURN_ENOTAVAIL);
		}
		const SmcRegs &o = out->regs;
		if (!is_rpc(o[0])) {
			complete(*it, *out);
			std::lock_guard g(lock_);
			erase_call(it);
			return std_call_result(o, o[0]);
		}
		{
			std::lock_guard g(lock_);
			if (!it->suspended || it->thread != uint32_t(o[3])) {
				forget_thread(it);
				it->thread = uint32_t(o[3]);
				it->suspended = true;
				threads_[it->thread] = it;
			}
		}
		note_rpc(*it, o, out->msg_len);
		if (resume_in_place(*it, trapped)) {
			out = smc(answer_rpc(*it, {}).regs, *it, 0);
			continue;
		}
		if (auto to_guest = show_rpc(*it, o)) {
			std::lock_guard g(lock_);
			st_.rpcs++;
			it->busy = false;
			return *to_guest;
		}
		// Answered as failed by the mediator itself; OP-TEE then
		// winds the call down. Bounded in case it keeps asking.
		if (failed_answers++ >= kUnwindRounds) {
			std::lock_guard g(lock_);
			it->busy = false;
			return std_call_result({}, OPTEE_SMC_RETURN_ENOTAVAIL);
		}
		const RpcAnswer a = answer_rpc_failed(*it);
		out = smc(a.regs, *it, a.msg_len);
	}
}

// OPTEE_SMC_RPC_FUNC_FOREIGN_INTR is the host's interrupt, taken by the
// host when OP-TEE returned; all the guest's driver would do is resume.
// Resuming here spares a trip through the guest per host tick (under
// emulation the trip costs more than the tick's slice of OP-TEE), for as
// long as the guest can go without running: its own interrupts wait
// while its vCPU is in the SMC.
bool VmState::resume_in_place(const Call &c, Clock::time_point trapped)
{
	if (c.rpc_func != OPTEE_SMC_RPC_FUNC_FOREIGN_INTR ||
	    Clock::now() - trapped >= foreign_intr_budget_.load())
		return false;
	std::lock_guard g(lock_);
	st_.foreign_intrs_resumed++;
	return true;
}

// The call is over in OP-TEE: copy back what OP-TEE outputs, keep or drop
// the buffers whose fate the call decided.
void VmState::complete(Call &c, const CallResult &out)
{
	if (out.regs[0] != OPTEE_SMC_RETURN_OK || out.msg_len < arg_size(c.params.size()))
		return; // nothing was done; pins of the call go with it

	MsgArgHeader hdr;
	copy_bytes(&hdr, c.msg.data(), sizeof(hdr));
	const uint32_t rv[2] = {hdr.ret, hdr.ret_origin};
	c.arg_loc.write(kOffRet, std::as_bytes(std::span(rv)));
	if (c.hdr.cmd == OPTEE_MSG_CMD_OPEN_SESSION)
		c.arg_loc.write(kOffSession, std::as_bytes(std::span(&hdr.session, 1)));

	for (size_t i = 0; i < c.params.size(); i++) {
		const uint32_t t = attr_type(c.params[i].attr); // the guest's, not OP-TEE's
		if (!is_output(t))
			continue;
		MsgParam p;
		copy_bytes(&p, c.msg.data() + param_off(i), sizeof(p));
		if (is_value(t)) {
			const uint64_t v[3] = {p.a, p.b, p.c};
			c.arg_loc.write(param_off(i) + offsetof(MsgParam, a), std::as_bytes(std::span(v)));
		} else {
			c.arg_loc.write(param_off(i) + offsetof(MsgParam, b),
					std::as_bytes(std::span(&p.b, 1)));
		}
	}

	std::lock_guard g(lock_);
	if (c.hdr.cmd == OPTEE_MSG_CMD_REGISTER_SHM && c.reg && hdr.ret == kTeecSuccess) {
		shm_.emplace(c.reg_cookie, ShmBuf{std::move(*c.reg), false});
		c.reg.reset();
		pending_reg_.erase(c.reg_cookie);
		c.reg_pending = false;
	}
	if (c.hdr.cmd == OPTEE_MSG_CMD_UNREGISTER_SHM && hdr.ret == kTeecSuccess)
		if (auto s = shm_.find(c.unreg_cookie); s != shm_.end())
			drop_shm(s);
	if (c.unreg_pending) {
		unregistering_.erase(c.unreg_cookie);
		c.unreg_pending = false;
	}
}

// Destroy path: answer every RPC of a suspended call as failed until
// OP-TEE completes it. False if it would not finish.
bool VmState::unwind(std::list<Call>::iterator it)
{
	for (unsigned round = 0; round < kUnwindRounds; round++) {
		const RpcAnswer a = answer_rpc_failed(*it);
		auto out = smc(a.regs, *it, a.msg_len);
		if (!out)
			return false;
		if (!is_rpc(out->regs[0]))
			return true;
		it->thread = uint32_t(out->regs[3]);
		note_rpc(*it, out->regs, out->msg_len);
	}
	return false;
}

} // namespace teemed
