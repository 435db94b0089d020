// SPDX-License-Identifier: BSD-2-Clause
// RPCs the model's threads make, in the shape of OP-TEE's
// thread_optee_smc.c: the RPC argument comes from the call (RPC_ARG) or is
// allocated through RPC ALLOC and freed with RPC FREE at the end of the
// call unless the prealloc cache is on; SHM for payloads comes from RPC CMD
// SHM_ALLOC and goes back with SHM_FREE.
#include <cstring>

#include "bytes.hpp"
#include "optee_model.hpp"

namespace teemed::model {

using namespace abi;

Task<uint32_t> OpteeModel::rpc_cmd(uint32_t tid, uint32_t cmd, std::vector<MsgParam> &params)
{
	if (params.size() > kRpcMaxNumParams)
		co_return kTeecErrorBadParameters;
	if (!thread(tid).rpc_arg) {
		const size_t sz = arg_size(kRpcMaxNumParams);
		SmcRegs req{};
		req[0] = rpc_val(kRpcFuncAlloc);
		req[1] = sz;
		SmcRegs nw = co_await Rpc{&thread(tid).ch, req};
		const uint64_t pa = reg_pair_to_64(nw[1], nw[2]);
		const uint64_t cookie = reg_pair_to_64(nw[4], nw[5]);
		// rpc_shm_mobj_alloc: dynamic, so page aligned and one page.
		std::byte *p = (pa & kPageMask) ? nullptr : phys_.map(pa, sz);
		if (!p) {
			// Unusable: give the cookie back (thread_rpc_free_arg).
			thread(tid).rpc_cookie = cookie;
			co_await free_rpc_arg(tid);
			co_return kTeecErrorOutOfMemory;
		}
		thread(tid).rpc_arg = p;
		thread(tid).rpc_cookie = cookie;
	}
	std::byte *arg = thread(tid).rpc_arg;
	MsgArgHeader h{};
	h.cmd = cmd;
	h.num_params = uint32_t(params.size());
	h.ret = kTeecErrorGeneric; // in case the normal world never answers
	std::memset(arg, 0, arg_size(params.size()));
	copy_bytes(arg, &h, sizeof(h));
	copy_bytes(arg + sizeof(h), params.data(), params.size() * sizeof(MsgParam));

	SmcRegs req{};
	req[0] = rpc_val(kRpcFuncCmd);
	req[1] = reg_hi(thread(tid).rpc_cookie);
	req[2] = reg_lo(thread(tid).rpc_cookie);
	co_await Rpc{&thread(tid).ch, req};

	// The argument may have moved under us only if the thread's argument
	// was freed meanwhile, which nothing does while the thread runs.
	arg = thread(tid).rpc_arg;
	copy_bytes(&h, arg, sizeof(h));
	for (size_t i = 0; i < params.size(); i++) {
		MsgParam out;
		copy_bytes(&out, arg + param_off(i), sizeof(out));
		const uint32_t t = attr_type(params[i].attr);
		if (is_value(t) && is_output(t)) {
			params[i].a = out.a;
			params[i].b = out.b;
			params[i].c = out.c;
		} else if (is_output(t)) {
			params[i] = MsgParam{out.attr, out.a, out.b, out.c};
		}
	}
	co_return h.ret;
}

Task<std::optional<std::pair<uint64_t, Mobj>>> OpteeModel::shm_alloc(uint32_t tid, uint32_t type,
								     uint64_t size)
{
	std::vector<MsgParam> p{{kAttrValueInput, type, size, 0}};
	// The answer comes back in the same parameter as a TMEM_OUTPUT.
	p[0].attr = kAttrValueInput;
	const uint32_t r = co_await rpc_cmd(tid, kRpcCmdShmAlloc, p);
	// Without an RPC argument (its ALLOC failed) there is no answer.
	if (r != kTeecSuccess || !thread(tid).rpc_arg)
		co_return std::nullopt;
	// rpc_cmd only copies outputs of output params; read the answer
	// straight from the argument, as get_rpc_alloc_res does.
	MsgParam a;
	copy_bytes(&a, thread(tid).rpc_arg + param_off(0), sizeof(a));
	std::optional<Mobj> m;
	if (attr_type(a.attr) == kAttrTmemOutput && (a.attr & kAttrNoncontig) && a.b >= size)
		m = mobj_from_noncontig(a.a, a.b);
	if (!m) {
		co_await shm_free(tid, type, a.c);
		co_return std::nullopt;
	}
	co_return std::make_pair(a.c, std::move(*m));
}

Task<uint32_t> OpteeModel::shm_free(uint32_t tid, uint32_t type, uint64_t cookie)
{
	std::vector<MsgParam> p{{kAttrValueInput, type, cookie, 0}};
	co_return co_await rpc_cmd(tid, kRpcCmdShmFree, p);
}

Task<uint32_t> OpteeModel::free_rpc_arg(uint32_t tid)
{
	const uint64_t cookie = thread(tid).rpc_cookie;
	thread(tid).rpc_arg = nullptr;
	thread(tid).rpc_cookie = 0;
	if (cookie) {
		SmcRegs f{};
		f[0] = rpc_val(kRpcFuncFree);
		f[1] = reg_hi(cookie);
		f[2] = reg_lo(cookie);
		co_await Rpc{&thread(tid).ch, f};
	}
	co_return 0;
}

} // namespace teemed::model
