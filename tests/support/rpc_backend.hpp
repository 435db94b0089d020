// SPDX-License-Identifier: BSD-2-Clause
// A backend whose yielding calls stop at one FOREIGN_INTR RPC (a new
// "thread" each) and complete on RETURN_FROM_RPC: with it a VM can hold
// any number of calls in flight, to see that lookups stay flat.
#pragma once

#include "null_backend.hpp"

namespace teemed::bench {

class RpcContext : public NullContext {
public:
	Result<CallResult> call(const CallRequest &req) override
	{
		CallResult out;
		if (req.regs[0] == OPTEE_SMC_CALL_WITH_ARG || req.regs[0] == OPTEE_SMC_CALL_WITH_RPC_ARG) {
			out.regs[0] = abi::rpc_val(OPTEE_SMC_RPC_FUNC_FOREIGN_INTR);
			out.regs[3] = next_thread_++;
			return out;
		}
		out.regs[0] = OPTEE_SMC_RETURN_OK;
		return out;
	}

private:
	uint32_t next_thread_ = 0;
};

using RpcBackend = BackendOf<RpcContext>;

} // namespace teemed::bench
