// SPDX-License-Identifier: BSD-2-Clause
// Answers of OP-TEE the mediator must not misread.
#include <gtest/gtest.h>

#include "guest_driver.hpp"
#include "null_backend.hpp"

namespace teemed::test {
namespace {

// OP-TEE answering a yielding call UNKNOWN_FUNCTION: an answer (it shares
// the RPC prefix bits), so the call is over, not suspended.
class UnknownContext : public bench::NullContext {
public:
	Result<CallResult> call(const CallRequest &req) override
	{
		CallResult out;
		out.regs[0] = req.regs[0] == OPTEE_SMC_CALL_WITH_ARG ? OPTEE_SMC_RETURN_UNKNOWN_FUNCTION : OPTEE_SMC_RETURN_OK;
		out.regs[3] = 5;
		return out;
	}
};

using UnknownBackend = bench::BackendOf<UnknownContext>;

TEST(AbiEdges, UnknownFunctionIsNotAnRpc)
{
	EXPECT_FALSE(is_rpc(OPTEE_SMC_RETURN_UNKNOWN_FUNCTION));
	EXPECT_TRUE(is_rpc(rpc_val(OPTEE_SMC_RPC_FUNC_CMD)));
	EXPECT_TRUE(is_rpc(0xffff1234u));

	UnknownBackend be;
	Guest g(be, 16);
	auto a = Guest::msg(OPTEE_MSG_CMD_CANCEL, {});
	const uint64_t p = g.page();
	std::memcpy(g.at(p), a.data(), a.size());
	SmcRegs out = g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, p});
	EXPECT_EQ(out[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	EXPECT_EQ(g.vm().stats().live_calls, 0u);
	EXPECT_EQ(g.smc({OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, 5})[0], OPTEE_SMC_RETURN_ERESUME);
}

} // namespace
} // namespace teemed::test
