// SPDX-License-Identifier: BSD-2-Clause
// RPCs: OP-TEE suspends a call and asks the normal world for something
// (ALLOC/FREE an argument buffer, serve a command, take a foreign
// interrupt). The guest serves it and resumes with RETURN_FROM_RPC; the
// mediator translates both directions so that OP-TEE only ever reads
// shadows and pinned pages, and the guest never learns a host address.
#include <cstring>

#include "teemed/bytes.hpp"
#include "vm_state.hpp"

namespace teemed {

using namespace abi;

namespace {

// Field `f` of parameter i of an argument held as bytes.
template <typename T>
T get(const std::vector<std::byte> &b, size_t off)
{
	T v;
	copy_bytes(&v, b.data() + off, sizeof(v));
	return v;
}

template <typename T>
void put(std::vector<std::byte> &b, size_t off, const T &v)
{
	copy_bytes(b.data() + off, &v, sizeof(v));
}

} // namespace

SmcRegs VmState::resume(const SmcRegs &in)
{
	std::list<Call>::iterator it;
	{
		std::lock_guard g(lock_);
		st_.rpc_returns++;
		auto t = threads_.find(uint32_t(in[3]));
		// Unknown thread, or one another vCPU is resuming right now:
		// OP-TEE's answer to resume information it cannot use.
		if (in[3] >> 32 || t == threads_.end() || t->second->busy) {
			st_.rejected++;
			return refusal(in, kReturnEResume);
		}
		it = t->second;
		it->busy = true;
	}
	return drive(it, resume_smc(*it, &in));
}

Result<SmcRegs> VmState::resume_smc(Call &c, const SmcRegs *guest)
{
	SmcRegs regs{};
	std::vector<std::byte> arg;
	std::vector<Reloc> relocs;
	build_rpc_reply(c, guest, regs, arg, relocs);
	std::vector<ShadowWrite> w;
	if (!arg.empty())
		w.push_back(ShadowWrite{c.cmd_shadow, c.cmd_shadow_off, arg});
	const ShadowRead r{c.shadow.handle(), 0, c.readback};
	return smc(CallRequest{regs, w, relocs, std::span(&r, 1)});
}

SmcRegs VmState::drive(std::list<Call>::iterator it, Result<SmcRegs> out)
{
	for (unsigned round = 0;; round++) {
		if (!out) {
			// The path to OP-TEE failed, so no SMC happened: the
			// call stays as it was (suspended, or never started).
			std::lock_guard g(lock_);
			it->busy = false;
			if (!it->suspended)
				erase_call(it);
			return refusal({}, kReturnENotAvail);
		}
		const SmcRegs &o = *out;
		if (!is_rpc(o[0])) {
			complete(*it, o);
			std::lock_guard g(lock_);
			erase_call(it);
			return refusal(o, o[0]);
		}
		{
			std::lock_guard g(lock_);
			if (!it->suspended || it->thread != uint32_t(o[3])) {
				if (it->suspended)
					threads_.erase(it->thread);
				it->thread = uint32_t(o[3]);
				it->suspended = true;
				threads_[it->thread] = it;
			}
		}
		if (auto to_guest = take_rpc(*it, o, true)) {
			std::lock_guard g(lock_);
			st_.rpcs++;
			it->busy = false;
			return *to_guest;
		}
		// Answered as failed by the mediator itself; OP-TEE then
		// winds the call down. Bounded in case it keeps asking.
		if (round >= kUnwindRounds) {
			std::lock_guard g(lock_);
			it->busy = false;
			return refusal({}, kReturnENotAvail);
		}
		out = resume_smc(*it, nullptr);
	}
}

std::optional<SmcRegs> VmState::take_rpc(Call &c, const SmcRegs &out, bool to_guest)
{
	SmcRegs g{};
	for (int i = 0; i < 4; i++)
		g[i] = out[i];
	c.rpc_func = rpc_func(out[0]);
	switch (c.rpc_func) {
	case kRpcFuncAlloc:
		c.alloc_size = uint32_t(out[1]);
		return to_guest ? std::optional(g) : std::nullopt;

	case kRpcFuncFree: {
		// OP-TEE let go of this argument buffer.
		std::lock_guard lg(lock_);
		rpc_bufs_.erase(reg_pair_to_64(out[1], out[2]));
		return to_guest ? std::optional(g) : std::nullopt;
	}

	case kRpcFuncCmd:
		break;

	default: // FOREIGN_INTR, and anything newer: the guest just resumes
		return to_guest ? std::optional(g) : std::nullopt;
	}

	// RPC CMD: find the argument OP-TEE wrote.
	uint32_t cap = 0;
	c.cmd_guest.segs.clear();
	if (c.mode != ArgMode::Plain) {
		c.cmd_shadow = c.shadow.handle();
		c.cmd_shadow_off = uint32_t(arg_size(c.hdr.num_params));
		cap = uint32_t(arg_size(rpc_param_count_));
		c.cmd_guest = c.rpc_loc;
	} else {
		std::lock_guard lg(lock_);
		auto rb = rpc_bufs_.find(reg_pair_to_64(out[1], out[2]));
		if (rb == rpc_bufs_.end())
			return std::nullopt;
		c.cmd_shadow = rb->second.shadow.handle();
		c.cmd_shadow_off = 0;
		cap = rb->second.size;
		if (auto va = mem_.translate(rb->second.guest_ipa, cap))
			c.cmd_guest.segs = {{*va, cap}};
	}
	const uint32_t want = std::min<uint32_t>(cap, arg_size(kRpcMaxNumParams));
	c.cmd_req.assign(want, std::byte{0});
	const ShadowRead r{c.cmd_shadow, c.cmd_shadow_off, c.cmd_req};
	if (want < sizeof(MsgArgHeader) || !ctx_->transfer({}, std::span(&r, 1)))
		return std::nullopt;
	const auto hdr = get<MsgArgHeader>(c.cmd_req, 0);
	if (hdr.num_params > kRpcMaxNumParams || arg_size(hdr.num_params) > want)
		return std::nullopt;
	c.cmd_req.resize(arg_size(hdr.num_params));
	for (size_t i = 0; i < hdr.num_params; i++) {
		const auto p = get<MsgParam>(c.cmd_req, param_off(i));
		// A TMEM OP-TEE fills names host physical memory: never shown
		// to a guest (we only give OP-TEE NONCONTIG, i.e. RMEM back).
		if (is_tmem(attr_type(p.attr)) && p.a)
			return std::nullopt;
	}
	if (hdr.cmd == kRpcCmdShmFree && hdr.num_params >= 1) {
		// OP-TEE dropped its reference before asking: unpin now.
		std::lock_guard lg(lock_);
		const uint64_t cookie = get<MsgParam>(c.cmd_req, param_off(0)).b;
		if (auto s = shm_.find(cookie); s != shm_.end() && s->second.from_rpc)
			shm_.erase(s);
	}
	if (!to_guest)
		return std::nullopt;
	if (c.cmd_guest.size() < c.cmd_req.size())
		return std::nullopt;
	c.cmd_guest.write(0, c.cmd_req);
	return g;
}

void VmState::build_rpc_reply(Call &c, const SmcRegs *guest, SmcRegs &regs,
			      std::vector<std::byte> &arg, std::vector<Reloc> &relocs)
{
	regs[0] = kReturnFromRpc;
	regs[3] = c.thread;

	if (c.rpc_func == kRpcFuncAlloc) {
		if (!guest)
			return; // no buffer: a1/a2 and the cookie stay 0
		const uint64_t ipa = reg_pair_to_64((*guest)[1], (*guest)[2]);
		const uint64_t cookie = reg_pair_to_64((*guest)[4], (*guest)[5]);
		if (!ipa)
			return;
		std::lock_guard g(lock_);
		// A cookie already naming a buffer must not reach OP-TEE: the
		// FREE it may send for the failed one would free the other.
		if (cookie_in_use(cookie))
			return;
		// Hand the cookie back with no buffer: OP-TEE frees it through
		// the guest, exactly as for any unusable address.
		regs[4] = reg_hi(cookie);
		regs[5] = reg_lo(cookie);
		// OP-TEE maps a dynamic RPC argument as one page.
		if (ipa & kPageMask || c.alloc_size > kPageSize || c.alloc_size == 0 ||
		    !mem_.translate(ipa, c.alloc_size) ||
		    rpc_bufs_.size() >= limits_.max_rpc_buffers_per_vm)
			return;
		auto shadow = ctx_->alloc_shadow();
		if (!shadow)
			return;
		RpcArgBuf rb{ipa, c.alloc_size, BackendObject(ctx_.get(), *shadow)};
		rpc_bufs_.emplace(cookie, std::move(rb));
		relocs.push_back(Reloc{*shadow, 0, Reloc::Target::A1A2, 0, 0});
		return;
	}
	if (c.rpc_func != kRpcFuncCmd || !guest || c.cmd_req.empty())
		return; // FREE, FOREIGN_INTR: nothing to answer; CMD unanswered: OP-TEE preset ret

	// The guest's answer, read once; only output fields of the request
	// OP-TEE made are taken from it.
	std::vector<std::byte> ans(c.cmd_req.size());
	if (c.cmd_guest.size() < ans.size())
		return;
	c.cmd_guest.read(ans);
	arg = c.cmd_req;
	const auto req = get<MsgArgHeader>(c.cmd_req, 0);
	const auto ahdr = get<MsgArgHeader>(ans, 0);
	put(arg, kOffRet, ahdr.ret);
	put(arg, kOffRetOrigin, ahdr.ret_origin);

	if (req.cmd == kRpcCmdShmAlloc && req.num_params == 1) {
		const auto p = get<MsgParam>(ans, param_off(0));
		MsgParam res{kAttrTmemOutput | kAttrNoncontig, 0, 0, 0};
		uint32_t err = 0;
		if (ahdr.ret != kTeecSuccess) {
			err = ahdr.ret;
		} else if (attr_type(p.attr) != kAttrTmemOutput || !(p.attr & kAttrNoncontig)) {
			err = kTeecErrorOutOfMemory; // only NONCONTIG is mediated
		} else {
			{
				std::lock_guard g(lock_);
				if (cookie_in_use(p.c) || buffers_in_use() >= limits_.max_buffers_per_vm)
					err = kTeecErrorOutOfMemory;
			}
			if (!err) {
				auto pin = pin_noncontig(p.a, p.b);
				std::lock_guard g(lock_);
				if (!pin || cookie_in_use(p.c)) {
					err = kTeecErrorOutOfMemory;
				} else {
					res = MsgParam{kAttrTmemOutput | kAttrNoncontig, pin->handle(), p.b, p.c};
					relocs.push_back(Reloc{pin->handle(), pin->first_offset(),
							       Reloc::Target::Shadow, c.cmd_shadow,
							       uint32_t(c.cmd_shadow_off + param_off(0) +
									offsetof(MsgParam, a))});
					shm_.emplace(p.c, ShmBuf{std::move(*pin), true});
				}
			}
		}
		put(arg, kOffRet, err);
		put(arg, param_off(0), res);
		return;
	}

	for (size_t i = 0; i < req.num_params; i++) {
		const auto rp = get<MsgParam>(c.cmd_req, param_off(i));
		const uint32_t t = attr_type(rp.attr);
		if (!is_output(t))
			continue;
		const auto ap = get<MsgParam>(ans, param_off(i));
		if (is_value(t)) {
			put(arg, param_off(i) + offsetof(MsgParam, a), ap.a);
			put(arg, param_off(i) + offsetof(MsgParam, b), ap.b);
			put(arg, param_off(i) + offsetof(MsgParam, c), ap.c);
		} else {
			put(arg, param_off(i) + offsetof(MsgParam, b), ap.b);
		}
	}
}

// Destroy path: answer every RPC of a suspended call as failed until
// OP-TEE completes it. False if it would not finish.
bool VmState::unwind(std::list<Call>::iterator it)
{
	for (unsigned round = 0; round < kUnwindRounds; round++) {
		auto out = resume_smc(*it, nullptr);
		if (!out)
			return false;
		if (!is_rpc((*out)[0]))
			return true;
		it->thread = uint32_t((*out)[3]);
		take_rpc(*it, *out, false);
	}
	return false;
}

} // namespace teemed
