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
		out.regs[0] = req.regs[0] == kCallWithArg ? kReturnUnknownFunction : kReturnOk;
		out.regs[3] = 5;
		return out;
	}
};

using UnknownBackend = bench::BackendOf<UnknownContext>;

TEST(AbiEdges, UnknownFunctionIsNotAnRpc)
{
	EXPECT_FALSE(is_rpc(kReturnUnknownFunction));
	EXPECT_TRUE(is_rpc(rpc_val(kRpcFuncCmd)));
	EXPECT_TRUE(is_rpc(0xffff1234u));

	UnknownBackend be;
	Guest g(be, 16);
	auto a = Guest::msg(kCmdCancel, {});
	const uint64_t p = g.page();
	std::memcpy(g.at(p), a.data(), a.size());
	SmcRegs out = g.smc({kCallWithArg, 0, p});
	EXPECT_EQ(out[0], kReturnUnknownFunction);
	EXPECT_EQ(g.vm().stats().live_calls, 0u);
	EXPECT_EQ(g.smc({kReturnFromRpc, 0, 0, 5})[0], kReturnEResume);
}

} // namespace
} // namespace teemed::test
