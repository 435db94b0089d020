// SPDX-License-Identifier: BSD-2-Clause
// The host's interrupts (OPTEE_SMC_RPC_FUNC_FOREIGN_INTR): the mediator
// resumes OP-TEE itself within the VM's budget, and gives the guest the
// interrupt once the budget is spent, so that the guest's vCPU runs.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "guest_driver.hpp"
#include "null_backend.hpp"

namespace teemed::test {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

// OP-TEE interrupted `n` times in one yielding call, each slice taking
// `slice` of wall time, then done.
class TickedContext : public bench::NullContext {
public:
	TickedContext(unsigned n, milliseconds slice) : left_(n), slice_(slice) {}

	Result<CallResult> call(const CallRequest &req) override
	{
		std::this_thread::sleep_for(slice_);
		CallResult out;
		const bool yielding = req.regs[0] == OPTEE_SMC_CALL_WITH_ARG || req.regs[0] == OPTEE_SMC_CALL_RETURN_FROM_RPC;
		if (yielding && left_ > 0) {
			left_--;
			out.regs[0] = rpc_val(OPTEE_SMC_RPC_FUNC_FOREIGN_INTR);
			out.regs[3] = 7;
			return out;
		}
		out.regs[0] = OPTEE_SMC_RETURN_OK;
		out.msg_len = req.msg_len;
		return out;
	}

private:
	unsigned left_;
	milliseconds slice_;
};

using TickedBackend = bench::BackendOf<TickedContext, unsigned, milliseconds>;

// A CALL_WITH_ARG of an invoke with no parameters; the guest's answers to
// every RPC until the call is over. How many RPCs the guest saw.
unsigned call_to_the_end(Guest &g)
{
	auto a = Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND, {}, 0, 1);
	const uint64_t p = g.page();
	std::memcpy(g.at(p), a.data(), a.size());
	SmcRegs out = g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, p});
	unsigned seen = 0;
	while (is_rpc(out[0])) {
		EXPECT_EQ(out[0], rpc_val(OPTEE_SMC_RPC_FUNC_FOREIGN_INTR));
		seen++;
		out = g.smc({OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, out[3]});
	}
	EXPECT_EQ(out[0], OPTEE_SMC_RETURN_OK);
	return seen;
}

TEST(ForeignIntr, ResumedWithoutTheGuestWithinTheBudget)
{
	TickedBackend be(5, milliseconds(1));
	Guest g(be, 16);
	g.vm().set_foreign_intr_budget(std::chrono::seconds(60));
	EXPECT_EQ(call_to_the_end(g), 0u);
	EXPECT_EQ(g.vm().stats().foreign_intrs_resumed, 5u);
	EXPECT_EQ(g.vm().stats().rpcs, 0u);
	EXPECT_EQ(g.vm().stats().live_calls, 0u);
}

TEST(ForeignIntr, TheGuestGetsOneOnceTheBudgetIsSpent)
{
	// Each slice outlasts the budget: every interrupt goes to the guest,
	// which resumes it; none is lost, the call still completes.
	TickedBackend be(3, milliseconds(3));
	Guest g(be, 16);
	g.vm().set_foreign_intr_budget(milliseconds(1));
	EXPECT_EQ(call_to_the_end(g), 3u);
	EXPECT_EQ(g.vm().stats().foreign_intrs_resumed, 0u);
	EXPECT_EQ(g.vm().stats().rpcs, 3u);
}

TEST(ForeignIntr, NoBudgetGivesEveryOneToTheGuest)
{
	TickedBackend be(4, milliseconds(0));
	Guest g(be, 16);
	g.vm().set_foreign_intr_budget(microseconds(0));
	EXPECT_EQ(call_to_the_end(g), 4u);
	EXPECT_EQ(g.vm().stats().foreign_intrs_resumed, 0u);
}

} // namespace
} // namespace teemed::test
