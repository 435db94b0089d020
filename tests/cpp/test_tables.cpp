// SPDX-License-Identifier: BSD-2-Clause
// The OP-TEE model's kernel side makes exactly the SMCs tables/ says the
// kernel's VM context makes: each fast call the table lets through reaches
// OP-TEE, each one it refuses is EPERM with no SMC; the same for message
// commands.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "model_backend.hpp"
#include "optee_abi.hpp"

namespace teemed::test {
namespace {

using namespace abi;

TEST(Tables, ModelKernelMakesTheFastCallsTheTableLets)
{
	model::ModelBackend be;
	ASSERT_TRUE(be.register_host());
	auto ctx = be.create_vm();
	ASSERT_TRUE(ctx);
	unsigned forwarded = 0, refused = 0;
	for (const FastCallRule &r : kFastCallRules) {
		if (!is_fast(r.fid))
			continue;
		CallRequest req;
		req.regs[0] = r.fid;
		auto res = (*ctx)->call(req);
		if (r.kernel == Handling::refuse) {
			ASSERT_FALSE(res) << r.name;
			EXPECT_EQ(res.error(), EPERM) << r.name;
			refused++;
		} else {
			ASSERT_TRUE(res) << r.name;
			EXPECT_NE(res->regs[0], OPTEE_SMC_RETURN_UNKNOWN_FUNCTION) << r.name;
			forwarded++;
		}
	}
	// both kinds are in the table
	EXPECT_GT(forwarded, 0u);
	EXPECT_GT(refused, 0u);
}

TEST(Tables, ModelKernelSendsTheCommandsTheTableLets)
{
	model::ModelBackend be;
	ASSERT_TRUE(be.register_host());
	auto ctx = be.create_vm();
	ASSERT_TRUE(ctx);
	for (const CmdRule &r : kMsgCmdRules) {
		std::vector<std::byte> msg(arg_size(0));
		reinterpret_cast<MsgArgHeader *>(msg.data())->cmd = r.cmd;
		CallRequest req;
		req.regs[0] = OPTEE_SMC_CALL_WITH_ARG;
		req.msg = msg;
		req.msg_len = msg.size();
		auto res = (*ctx)->call(req);
		if (r.kernel == Handling::refuse) {
			ASSERT_FALSE(res) << r.name;
			EXPECT_EQ(res.error(), EPERM) << r.name;
		} else {
			// Let through: OP-TEE answers, or the kernel finds the
			// message wanting (REGISTER_SHM names no pin), but never
			// refuses the command as such.
			EXPECT_TRUE(res || res.error() != EPERM) << r.name;
		}
	}
}

} // namespace
} // namespace teemed::test
