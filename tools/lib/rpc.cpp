// SPDX-License-Identifier: BSD-2-Clause
// RPCs: OP-TEE suspends a call and asks the normal world for something:
// an argument buffer (OPTEE_SMC_RPC_FUNC_ALLOC), to take one back
// (OPTEE_SMC_RPC_FUNC_FREE), to serve a command (OPTEE_SMC_RPC_FUNC_CMD:
// OPTEE_RPC_CMD_SHM_ALLOC, OPTEE_RPC_CMD_SHM_FREE, and the supplicant's),
// or to let a foreign interrupt through (OPTEE_SMC_RPC_FUNC_FOREIGN_INTR).
// One function per kind and direction: what the mediator notes when OP-TEE
// asks, what the guest is shown, what OP-TEE gets from the guest's answer,
// and the answer the mediator gives alone when a call must wind down.
#include <cstring>

#include "bytes.hpp"
#include "vm_state.hpp"

namespace teemed {

using namespace abi;

namespace {

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

SmcRegs return_from_rpc(uint32_t thread)
{
	SmcRegs r{};
	r[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
	r[3] = thread;
	return r;
}

} // namespace

// ---- OP-TEE asks ----------------------------------------------------------

void VmState::note_rpc(Call &c, const SmcRegs &out, size_t msg_len)
{
	c.rpc_func = rpc_func(out[0]);
	c.cmd_req.clear();
	switch (c.rpc_func) {
	case OPTEE_SMC_RPC_FUNC_ALLOC:
		note_rpc_alloc(c, out);
		break;
	case OPTEE_SMC_RPC_FUNC_FREE:
		note_rpc_free(out);
		break;
	case OPTEE_SMC_RPC_FUNC_CMD:
		note_rpc_cmd(c, out, msg_len);
		break;
	default: // OPTEE_SMC_RPC_FUNC_FOREIGN_INTR, and anything newer
		break;
	}
}

// OPTEE_SMC_RPC_FUNC_ALLOC: a1 bytes of argument buffer, please.
void VmState::note_rpc_alloc(Call &c, const SmcRegs &out)
{
	c.alloc_size = uint32_t(out[1]);
}

// OPTEE_SMC_RPC_FUNC_FREE: OP-TEE let go of the buffer of cookie a1/a2.
void VmState::note_rpc_free(const SmcRegs &out)
{
	std::lock_guard g(lock_);
	rpc_bufs_.erase(reg_pair_to_64(out[1], out[2]));
}

// OPTEE_SMC_RPC_FUNC_CMD: the request, as the backend read it from OP-TEE's
// RPC argument (in the call's page with RPC_ARG, else the buffer of cookie
// a1/a2), with no physical address in it.
void VmState::note_rpc_cmd(Call &c, const SmcRegs &out, size_t msg_len)
{
	{
		std::lock_guard g(lock_);
		c.cmd_guest.segs.clear();
	}
	if (msg_len < sizeof(MsgArgHeader) || msg_len > c.msg.size())
		return;
	c.cmd_req.assign(c.msg.begin(), c.msg.begin() + msg_len);
	const auto hdr = get<MsgArgHeader>(c.cmd_req, 0);
	if (hdr.num_params > TEEMED_LIMIT_RPC_MAX_NUM_PARAMS || arg_size(hdr.num_params) != msg_len) {
		c.cmd_req.clear();
		return;
	}
	if (hdr.cmd == OPTEE_RPC_CMD_SHM_FREE)
		note_rpc_cmd_shm_free(c);

	// Where the guest expects it: behind its argument, or in the buffer
	// it gave for the cookie.
	std::lock_guard g(lock_);
	if (c.mode != ArgMode::Plain) {
		c.cmd_guest = c.rpc_loc;
		return;
	}
	auto rb = rpc_bufs_.find(reg_pair_to_64(out[1], out[2]));
	if (rb != rpc_bufs_.end())
		if (auto va = mem_.translate(rb->second.guest_ipa, rb->second.size))
			c.cmd_guest.segs = {{*va, rb->second.size}};
}

// OPTEE_RPC_CMD_SHM_FREE: OP-TEE dropped its reference before asking, so
// the buffer it allocated through OPTEE_RPC_CMD_SHM_ALLOC can go now.
void VmState::note_rpc_cmd_shm_free(const Call &c)
{
	if (get<MsgArgHeader>(c.cmd_req, 0).num_params < 1)
		return;
	const uint64_t cookie = get<MsgParam>(c.cmd_req, param_off(0)).b;
	std::lock_guard g(lock_);
	if (auto s = shm_.find(cookie); s != shm_.end() && s->second.from_rpc)
		drop_shm(s);
}

// What the guest sees of an RPC; nothing if it cannot be shown, and the
// mediator answers it as failed instead.
RpcToGuest VmState::show_rpc(Call &c, const SmcRegs &out)
{
	if (c.rpc_func == OPTEE_SMC_RPC_FUNC_CMD)
		return show_rpc_cmd(c, out);
	SmcRegs g{};
	for (int i = 0; i < 4; i++)
		g[i] = out[i];
	return g;
}

RpcToGuest VmState::show_rpc_cmd(Call &c, const SmcRegs &out)
{
	if (c.cmd_req.empty() || c.cmd_guest.size() < c.cmd_req.size())
		return std::nullopt;
	c.cmd_guest.write(0, c.cmd_req);
	SmcRegs g{};
	for (int i = 0; i < 4; i++)
		g[i] = out[i];
	return g;
}

// ---- the guest answers -------------------------------------------------

RpcAnswer VmState::answer_rpc(Call &c, const SmcRegs &guest)
{
	switch (c.rpc_func) {
	case OPTEE_SMC_RPC_FUNC_ALLOC:
		return answer_rpc_alloc(c, guest);
	case OPTEE_SMC_RPC_FUNC_CMD:
		return answer_rpc_cmd(c);
	default:
		// FREE, FOREIGN_INTR: nothing of the guest's reaches OP-TEE.
		return RpcAnswer(return_from_rpc(c.thread));
	}
}

// RPC_ALLOC answered with the guest's buffer (a1/a2) and cookie (a4/a5).
// OP-TEE gets the kernel's page under that cookie; the guest's buffer is
// where the mediator shows the requests OP-TEE writes there.
RpcAnswer VmState::answer_rpc_alloc(Call &c, const SmcRegs &guest)
{
	RpcAnswer a(return_from_rpc(c.thread));
	const uint64_t ipa = reg_pair_to_64(guest[1], guest[2]);
	const uint64_t cookie = reg_pair_to_64(guest[4], guest[5]);
	std::lock_guard g(lock_);
	// A cookie already naming a buffer must not reach OP-TEE: the FREE
	// it would send for either would free both.
	if (cookie_in_use(cookie))
		return a;
	// A buffer OP-TEE cannot use goes with its cookie, which OP-TEE
	// hands back through RPC_FREE, as it does for any address it
	// cannot map. OP-TEE maps a dynamic RPC argument as one page.
	a.regs[4] = reg_hi(cookie);
	a.regs[5] = reg_lo(cookie);
	if (!ipa || !cookie || ipa & kPageMask || c.alloc_size > kPageSize ||
	    c.alloc_size == 0 || !mem_.translate(ipa, c.alloc_size) ||
	    rpc_bufs_.size() >= limits_.max_rpc_buffers_per_vm)
		return a;
	rpc_bufs_.emplace(cookie, RpcArgBuf{ipa, c.alloc_size});
	a.rpc_buf = cookie;
	a.regs[1] = 1; // a buffer, please
	a.regs[4] = reg_hi(cookie);
	a.regs[5] = reg_lo(cookie);
	return a;
}

// RPC_CMD answered in the guest's buffer: read once; the backend takes
// from it only what OP-TEE reads back of its own request.
RpcAnswer VmState::answer_rpc_cmd(Call &c)
{
	if (c.cmd_req.empty())
		return RpcAnswer(return_from_rpc(c.thread));
	std::vector<std::byte> ans(c.cmd_req.size());
	if (c.cmd_guest.size() < ans.size())
		return answer_rpc_failed(c);
	c.cmd_guest.read(ans);
	const auto req = get<MsgArgHeader>(c.cmd_req, 0);
	auto hdr = get<MsgArgHeader>(ans, 0);
	// The request's own header: the guest answers ret and outputs only.
	const uint32_t ret = hdr.ret, origin = hdr.ret_origin;
	hdr = req;
	hdr.ret = ret;
	hdr.ret_origin = origin;
	put(ans, 0, hdr);

	RpcAnswer a(return_from_rpc(c.thread), ans.size());
	if (req.cmd == OPTEE_RPC_CMD_SHM_ALLOC && req.num_params == 1 && ret == kTeecSuccess) {
		auto p = get<MsgParam>(ans, param_off(0));
		const uint64_t want = get<MsgParam>(c.cmd_req, param_off(0)).b;
		if (uint32_t err = answer_rpc_cmd_shm_alloc(c, p, want)) {
			hdr.ret = err;
			put(ans, 0, hdr);
		} else {
			put(ans, param_off(0), p);
			a.shm = p.c;
		}
	}
	copy_bytes(c.msg.data(), ans.data(), ans.size());
	return a;
}

// OPTEE_RPC_CMD_SHM_ALLOC answered with the guest's page list in `p`:
// pinned, and named by its handle. 0, or the error to answer instead.
uint32_t VmState::answer_rpc_cmd_shm_alloc(Call &, MsgParam &p, uint64_t size)
{
	if (p.attr != (kAttrTmemOutput | kAttrNoncontig) || p.b < size)
		return kTeecErrorOutOfMemory; // only NONCONTIG is mediated
	{
		std::lock_guard g(lock_);
		if (!p.c || cookie_in_use(p.c) || buffers_in_use() >= limits_.max_buffers_per_vm)
			return kTeecErrorOutOfMemory;
	}
	auto pin = pin_noncontig(p.a, p.b);
	std::lock_guard g(lock_);
	if (!pin || cookie_in_use(p.c) || !mapped(*pin))
		return kTeecErrorOutOfMemory;
	p.a = pin->handle();
	shm_.emplace(p.c, ShmBuf{std::move(*pin), true});
	return 0;
}

// ---- the mediator answers alone ----------------------------------------

// As failed: ALLOC gets no buffer; a command goes back as OP-TEE wrote it,
// with the TEE_ERROR_GENERIC it preset; the others just resume.
RpcAnswer VmState::answer_rpc_failed(Call &c)
{
	if (c.rpc_func == OPTEE_SMC_RPC_FUNC_CMD && !c.cmd_req.empty()) {
		copy_bytes(c.msg.data(), c.cmd_req.data(), c.cmd_req.size());
		return RpcAnswer(return_from_rpc(c.thread), c.cmd_req.size());
	}
	return RpcAnswer(return_from_rpc(c.thread));
}

} // namespace teemed
