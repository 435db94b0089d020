// SPDX-License-Identifier: BSD-2-Clause
// Yielding calls: CALL_WITH_ARG, CALL_WITH_RPC_ARG and CALL_WITH_REGD_ARG.
// The guest's argument is snapshotted, checked as OP-TEE would check it,
// translated into a shadow only the kernel can address, and on completion
// only the fields OP-TEE outputs are copied back.
#include <cstring>

#include "teemed/bytes.hpp"
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

bool allowed_cmd(uint32_t cmd)
{
	switch (cmd) {
	case kCmdOpenSession:
	case kCmdInvokeCommand:
	case kCmdCloseSession:
	case kCmdCancel:
	case kCmdRegisterShm:
	case kCmdUnregisterShm:
		return true;
	default:
		// DO_BOTTOM_HALF and STOP_ASYNC_NOTIF belong to async
		// notifications, which guests are not offered.
		return false;
	}
}

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
	const uint32_t fid = uint32_t(in[0]);
	const uint64_t rpc_size = c.mode == ArgMode::Plain ? 0 : arg_size(rpc_param_count_);
	MsgArgHeader hdr;

	if (c.mode == ArgMode::Regd) {
		const uint64_t cookie = reg_pair_to_64(in[1], in[2]);
		const uint64_t offset = in[3];
		std::vector<uint64_t> vas;
		uint64_t size = 0, first = 0;
		{
			std::lock_guard g(lock_);
			auto it = shm_.find(cookie);
			if (it == shm_.end())
				return refusal(in, kReturnEBadAddr);
			vas = it->second.buf.page_vas();
			size = it->second.buf.size();
			first = it->second.buf.first_offset();
		}
		// OP-TEE: the argument must be aligned and lie inside the
		// registered buffer, the RPC argument right behind it.
		if (offset >= size || size - offset < sizeof(hdr) || (first + offset) % 8)
			return refusal(in, kReturnEBadAddr);
		span_in(vas, first + offset, sizeof(hdr)).read(std::as_writable_bytes(std::span(&hdr, 1)));
		if (hdr.num_params > kMaxNumParams)
			return refusal(in, kReturnEBadAddr);
		const uint64_t need = arg_size(hdr.num_params) + rpc_size;
		// The shadow is one page: an argument that needs more than
		// OP-TEE's own page-sized maximum cannot be mediated.
		if (need > size - offset || need > kPageSize)
			return refusal(in, kReturnEBadAddr);
		c.arg_loc = span_in(vas, first + offset, arg_size(hdr.num_params));
		c.rpc_loc = span_in(vas, first + offset + arg_size(hdr.num_params), rpc_size);
	} else {
		if (c.mode == ArgMode::RpcArg && !rpc_param_count_)
			return refusal(in, kReturnUnknownFunction);
		const uint64_t ipa = reg_pair_to_64(in[1], in[2]);
		// Not in reserved SHM (guests have none), so OP-TEE maps it
		// as one dynamic page: it must start one.
		if (ipa & kPageMask || !mem_.read_obj(ipa, hdr))
			return refusal(in, kReturnEBadAddr);
		if (hdr.num_params > kMaxNumParams)
			return refusal(in, kReturnEBadAddr);
		const uint64_t need = arg_size(hdr.num_params) + rpc_size;
		auto va = mem_.translate(ipa, need);
		if (need > kPageSize || !va)
			return refusal(in, kReturnEBadAddr);
		c.arg_loc.segs = {{*va, uint32_t(arg_size(hdr.num_params))}};
		if (rpc_size)
			c.rpc_loc.segs = {{*va + arg_size(hdr.num_params), uint32_t(rpc_size)}};
	}

	// One snapshot; every later decision uses it, whatever the guest
	// writes meanwhile.
	std::vector<std::byte> bytes(arg_size(hdr.num_params));
	c.arg_loc.read(bytes);
	copy_bytes(&c.hdr, bytes.data(), sizeof(c.hdr));
	c.hdr.num_params = hdr.num_params; // the size we checked is the size we use
	c.params.resize(hdr.num_params);
	copy_bytes(c.params.data(), bytes.data() + sizeof(c.hdr), c.params.size() * sizeof(MsgParam));
	(void)fid;
	return std::nullopt;
}

// Translate parameters into `out` (OP-TEE's view). Returns 0, or the
// GlobalPlatform error to answer the guest with (origin COMMS), as OP-TEE
// answers a parameter it cannot accept.
uint32_t VmState::translate_params(Call &c, std::vector<MsgParam> &out, std::vector<Reloc> &relocs)
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
			// A cookie OP-TEE resolves in this client's partition
			// only; nothing of the host is named.
			if (p.attr & kAttrNoncontig)
				return kTeecErrorBadParameters;
			continue;
		}
		if (!is_tmem(t))
			return kTeecErrorBadParameters;
		if (p.a == 0)
			continue; // NULL memref (MEMREF_NULL)
		if (!(p.attr & kAttrNoncontig))
			return kTeecErrorBadParameters; // contiguous = reserved SHM: none
		const bool reg = c.hdr.cmd == kCmdRegisterShm;
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
		const Handle h = pin->handle();
		p.a = h; // the kernel puts the page list's address here
		relocs.push_back(Reloc{h, pin->first_offset(), Reloc::Target::Shadow, c.shadow.handle(),
				       uint32_t(param_off(i) + offsetof(MsgParam, a))});
		if (reg) {
			std::lock_guard g(lock_);
			c.reg = std::move(*pin);
		} else {
			c.temp.push_back(std::move(*pin));
		}
	}
	return 0;
}

SmcRegs VmState::start_call(const SmcRegs &in)
{
	const uint32_t fid = uint32_t(in[0]);
	std::list<Call>::iterator it;
	{
		std::lock_guard g(lock_);
		st_.yielding_calls++;
		if (calls_.size() >= call_limit()) {
			st_.rejected++;
			return refusal(in, kReturnEThreadLimit);
		}
		it = calls_.emplace(calls_.end());
		it->busy = true;
		st_.live_calls = uint32_t(calls_.size());
		st_.live_calls_max = std::max(st_.live_calls_max, st_.live_calls);
	}
	Call &c = *it;
	c.mode = fid == kCallWithArg ? ArgMode::Plain
		 : fid == kCallWithRpcArg ? ArgMode::RpcArg : ArgMode::Regd;

	auto refuse = [&](const SmcRegs &r) {
		std::lock_guard g(lock_);
		st_.rejected++;
		erase_call(it);
		return r;
	};
	if (auto early = load_arg(c, in))
		return refuse(*early);
	if (!allowed_cmd(c.hdr.cmd))
		return refuse(refusal(in, kReturnEBadCmd));

	auto shadow = ctx_->alloc_shadow();
	if (!shadow)
		return refuse(refusal(in, kReturnENoMem));
	c.shadow = BackendObject(ctx_.get(), *shadow);

	std::vector<MsgParam> params;
	std::vector<Reloc> relocs;
	if (uint32_t err = translate_params(c, params, relocs)) {
		// Answered like OP-TEE answers a parameter it rejects: the
		// call "completes" with the error in the argument.
		const uint32_t rv[2] = {err, kTeecOriginComms};
		c.arg_loc.write(kOffRet, std::as_bytes(std::span(rv)));
		return refuse(refusal(in, kReturnOk));
	}
	if (c.hdr.cmd == kCmdUnregisterShm && !c.params.empty())
		c.unreg_cookie = c.params[0].c;

	std::vector<std::byte> arg(arg_size(params.size()));
	MsgArgHeader hdr = c.hdr;
	hdr.ret = 0;
	hdr.ret_origin = 0;
	copy_bytes(arg.data(), &hdr, sizeof(hdr));
	copy_bytes(arg.data() + sizeof(hdr), params.data(), params.size() * sizeof(MsgParam));
	relocs.push_back(Reloc{c.shadow.handle(), 0, Reloc::Target::A1A2, 0, 0});
	c.readback.resize(arg.size());

	SmcRegs regs{};
	regs[0] = c.mode == ArgMode::Plain ? kCallWithArg : kCallWithRpcArg;
	const ShadowWrite w{c.shadow.handle(), 0, arg};
	const ShadowRead r{c.shadow.handle(), 0, c.readback};
	return drive(it, smc(CallRequest{regs, std::span(&w, 1), relocs, std::span(&r, 1)}));
}

// The call is over in OP-TEE: copy back what OP-TEE outputs, keep or drop
// the buffers whose fate the call decided.
void VmState::complete(Call &c, const SmcRegs &out)
{
	if (out[0] != kReturnOk)
		return; // nothing was done; pins of the call go with it

	MsgArgHeader hdr;
	copy_bytes(&hdr, c.readback.data(), sizeof(hdr));
	const uint32_t rv[2] = {hdr.ret, hdr.ret_origin};
	c.arg_loc.write(kOffRet, std::as_bytes(std::span(rv)));
	if (c.hdr.cmd == kCmdOpenSession)
		c.arg_loc.write(kOffSession, std::as_bytes(std::span(&hdr.session, 1)));

	for (size_t i = 0; i < c.params.size(); i++) {
		const uint32_t t = attr_type(c.params[i].attr); // the guest's, not OP-TEE's
		if (!is_output(t))
			continue;
		MsgParam p;
		copy_bytes(&p, c.readback.data() + param_off(i), sizeof(p));
		if (is_value(t)) {
			const uint64_t v[3] = {p.a, p.b, p.c};
			c.arg_loc.write(param_off(i) + offsetof(MsgParam, a), std::as_bytes(std::span(v)));
		} else {
			c.arg_loc.write(param_off(i) + offsetof(MsgParam, b),
					std::as_bytes(std::span(&p.b, 1)));
		}
	}

	std::lock_guard g(lock_);
	if (c.hdr.cmd == kCmdRegisterShm && c.reg && hdr.ret == kTeecSuccess) {
		shm_.emplace(c.reg_cookie, ShmBuf{std::move(*c.reg), false});
		c.reg.reset();
		pending_reg_.erase(c.reg_cookie);
		c.reg_pending = false;
	}
	if (c.hdr.cmd == kCmdUnregisterShm && hdr.ret == kTeecSuccess)
		shm_.erase(c.unreg_cookie);
}

} // namespace teemed
