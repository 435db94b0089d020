// SPDX-License-Identifier: BSD-2-Clause
// RPCs the model's threads make, as thread_optee_smc.c ("TOS") makes them:
// the RPC argument comes from the call (CALL_WITH_RPC_ARG) or through
// RPC_ALLOC, and goes with RPC_FREE at the end of the call unless the
// prealloc cache is on; payloads come from OPTEE_RPC_CMD_SHM_ALLOC and go
// back with OPTEE_RPC_CMD_SHM_FREE. Every buffer is listed under the
// cookie the normal world gave.
#include <cstring>

#include "bytes.hpp"
#include "optee_model.hpp"

namespace teemed::model {

using namespace abi;

// thread_rpc_free_arg (TOS 87-97): nothing for cookie 0
Task<uint32_t> OpteeModel::rpc_free_arg(uint32_t tid, uint64_t cookie)
{
	if (!cookie)
		co_return 0;
	SmcRegs f{};
	f[0] = rpc_val(OPTEE_SMC_RPC_FUNC_FREE);
	f[1] = reg_hi(cookie);
	f[2] = reg_lo(cookie);
	co_await Rpc{&thread(tid).ch, f};
	co_return co_await maybe_foreign_intr(tid);
}

// thread_rpc_alloc_arg (TOS 388-416): the alignment first, then one page
Task<MobjRef> OpteeModel::rpc_alloc_arg(uint32_t tid)
{
	SmcRegs req{};
	req[0] = rpc_val(OPTEE_SMC_RPC_FUNC_ALLOC);
	req[1] = arg_size(TEEMED_LIMIT_RPC_MAX_NUM_PARAMS);
	const SmcRegs nw = co_await Rpc{&thread(tid).ch, req};
	const uint64_t pa = reg_pair_to_64(nw[1], nw[2]);
	const uint64_t cookie = reg_pair_to_64(nw[4], nw[5]);
	MobjRef m;
	if (!(pa % alignof(uint64_t)) && !(pa & kPageMask))
		m = reg_shm_alloc({pa}, 0, kPageSize, cookie, "RPC argument");
	if (!m)
		co_await rpc_free_arg(tid, cookie);
	co_return m;
}

// clear_prealloc_rpc_cache (TOS 135-141): RPC_FREE first, put after
Task<uint32_t> OpteeModel::clear_prealloc_rpc_cache(uint32_t tid)
{
	const uint32_t client = cur_client_;
	MobjRef m = thread(tid).rpc_mobj;
	if (!m)
		co_return 0;
	co_await rpc_free_arg(tid, m->cookie);
	if (!partition(client))
		co_return 0;
	thread(tid).rpc_mobj.reset();
	put(m);
	co_return 0;
}

// get_rpc_arg, thread_rpc_cmd, get_rpc_arg_res (TOS 460-580)
Task<uint32_t> OpteeModel::rpc_cmd(uint32_t tid, uint32_t cmd, std::vector<MsgParam> &params)
{
	const uint32_t client = cur_client_;
	if (params.size() > TEEMED_LIMIT_RPC_MAX_NUM_PARAMS)
		co_return kTeecErrorBadParameters;
	if (!thread(tid).rpc_area && !thread(tid).rpc_mobj) {
		MobjRef m = co_await rpc_alloc_arg(tid);
		if (!partition(client))
			co_return kTeecErrorCommunication;
		if (!m)
			co_return kTeecErrorOutOfMemory;
		thread(tid).rpc_mobj = m;
	}
	const MobjRef where = thread(tid).rpc_area ? thread(tid).rpc_area : thread(tid).rpc_mobj;
	const size_t off = thread(tid).rpc_area ? thread(tid).rpc_area_off : 0;
	const uint64_t carg = thread(tid).rpc_area ? 0 : where->cookie;

	std::vector<std::byte> arg(arg_size(params.size()));
	MsgArgHeader h{};
	h.cmd = cmd;
	h.num_params = uint32_t(params.size());
	h.ret = kTeecErrorGeneric; // in case the normal world never answers
	copy_bytes(arg.data(), &h, sizeof(h));
	copy_bytes(arg.data() + sizeof(h), params.data(), params.size() * sizeof(MsgParam));
	if (Via v(*this, "writing an RPC request"); !write(*where, off, arg))
		co_return kTeecErrorCommunication;

	SmcRegs req{};
	req[0] = rpc_val(OPTEE_SMC_RPC_FUNC_CMD);
	req[1] = reg_hi(carg);
	req[2] = reg_lo(carg);
	co_await Rpc{&thread(tid).ch, req};
	if (!partition(client))
		co_return kTeecErrorCommunication;
	co_await maybe_foreign_intr(tid);

	// Read back ret and the outputs (get_rpc_arg_res), from the buffer
	// OP-TEE wrote: whoever else can write it, wrote it too.
	if (Via v(*this, "reading an RPC answer"); !read(*where, off, arg))
		co_return kTeecErrorCommunication;
	copy_bytes(&h, arg.data(), sizeof(h));
	for (size_t i = 0; i < params.size(); i++) {
		MsgParam out;
		copy_bytes(&out, arg.data() + param_off(i), sizeof(out));
		const uint32_t t = attr_type(params[i].attr);
		if (is_value(t) && is_output(t)) {
			params[i].a = out.a;
			params[i].b = out.b;
			params[i].c = out.c;
		} else if (is_output(t)) {
			params[i].b = out.b; // rmem.size, tmem.size
		} else if (cmd == OPTEE_RPC_CMD_SHM_ALLOC) {
			params[i] = out; // get_rpc_alloc_res reads the whole answer
		}
	}
	co_return h.ret;
}

// thread_rpc_alloc + get_rpc_alloc_res (TOS 609-674): only a NONCONTIG
// answer of the size asked for makes a buffer; one the model cannot build
// is given back with SHM_FREE and no buffer.
Task<MobjRef> OpteeModel::shm_alloc(uint32_t tid, uint32_t type, uint64_t size)
{
	const uint32_t client = cur_client_;
	std::vector<MsgParam> p{{kAttrValueInput, type, size, 8}};
	const uint32_t r = co_await rpc_cmd(tid, OPTEE_RPC_CMD_SHM_ALLOC, p);
	if (!partition(client) || r != kTeecSuccess)
		co_return nullptr;
	const MsgParam a = p[0];
	if (a.attr != (kAttrTmemOutput | kAttrNoncontig) || a.b < size)
		co_return nullptr;
	MobjRef m = from_noncontig(a.a, a.b, a.c, "RPC payload");
	if (!m) {
		// thread_rpc_free(bt, cookie, NULL)
		std::vector<MsgParam> f{{kAttrValueInput, type, a.c, 0}};
		co_await rpc_cmd(tid, OPTEE_RPC_CMD_SHM_FREE, f);
	}
	co_return m;
}

// thread_rpc_free (TOS 592-607): the reference dropped, then SHM_FREE
Task<uint32_t> OpteeModel::shm_free(uint32_t tid, uint32_t type, MobjRef m)
{
	const uint64_t cookie = m->cookie;
	put(m);
	m.reset();
	std::vector<MsgParam> p{{kAttrValueInput, type, cookie, 0}};
	co_return co_await rpc_cmd(tid, OPTEE_RPC_CMD_SHM_FREE, p);
}

} // namespace teemed::model
