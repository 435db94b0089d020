// SPDX-License-Identifier: BSD-2-Clause
// The C ABI as a C VMM uses it.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>

#include "optee_abi.hpp"
#include "teemed/teemed.h"
#include "teemed_model.h"

namespace {

TEST(CApi, LifecycleAndFastCall)
{
	teemed_ctx *ctx = nullptr;
	ASSERT_EQ(teemed_ctx_open_model(4, 2, &ctx), 0);
	teemed_vm *vm = nullptr;
	ASSERT_EQ(teemed_vm_create(ctx, nullptr, 7, &vm), 0);
	EXPECT_EQ(teemed_vm_client_id(vm), 2u);

	void *ram = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(ram, MAP_FAILED);
	EXPECT_EQ(teemed_vm_add_region(vm, 0x40000000, 1 << 20, ram), 0);
	EXPECT_EQ(teemed_vm_add_region(vm, 0x40000000, 1 << 20, ram), -EEXIST);
	EXPECT_EQ(teemed_vm_add_region(vm, 0x40000001, 4096, ram), -EINVAL);
	// removed by exactly what was added, then free to add again
	EXPECT_EQ(teemed_vm_remove_region(vm, 0x40000000, 4096), -ENOENT);
	EXPECT_EQ(teemed_vm_remove_region(vm, 0x40000000, 1 << 20), 0);
	EXPECT_EQ(teemed_vm_add_region(vm, 0x40000000, 1 << 20, ram), 0);

	teemed_regs r{{OPTEE_SMC_CALLS_UID, 0, 0, 0, 4, 5, 6, 7}};
	ASSERT_EQ(teemed_vm_handle_smc(vm, &r), 0);
	EXPECT_EQ(r.x[0], 0x384fb3e0u);
	EXPECT_EQ(r.x[4], 4u);
	EXPECT_EQ(r.x[7], 7u);

	teemed_vm_stats st;
	ASSERT_EQ(teemed_vm_get_stats(vm, &st, sizeof(st)), 0);
	EXPECT_EQ(st.fast_calls, 1u);
	EXPECT_EQ(st.client_id, 2u);
	// A caller built against 1.0 knows the structure without 1.1's field.
	st.foreign_intrs_resumed = 77;
	ASSERT_EQ(teemed_vm_get_stats(vm, &st, offsetof(teemed_vm_stats, foreign_intrs_resumed)), 0);
	EXPECT_EQ(st.foreign_intrs_resumed, 77u);
	EXPECT_EQ(teemed_vm_set_foreign_intr_budget(vm, 0), 0);
	EXPECT_EQ(teemed_vm_set_foreign_intr_budget(nullptr, 0), -EINVAL);

	// The context can go first: the VM keeps what it needs.
	teemed_ctx_close(ctx);
	teemed_vm_close(vm);
	EXPECT_EQ(teemed_vm_handle_smc(vm, &r), -ESHUTDOWN);
	teemed_vm_destroy(vm);
	munmap(ram, 1 << 20);
}

TEST(CApi, GuestLimitAndBadArguments)
{
	teemed_ctx *ctx = nullptr;
	ASSERT_EQ(teemed_ctx_open_model(4, 1, &ctx), 0);
	teemed_vm *a = nullptr, *b = nullptr;
	ASSERT_EQ(teemed_vm_create(ctx, nullptr, 0, &a), 0);
	EXPECT_EQ(teemed_vm_create(ctx, nullptr, 0, &b), -ENOSPC);
	EXPECT_EQ(teemed_vm_handle_smc(nullptr, nullptr), -EINVAL);
	EXPECT_EQ(teemed_vm_handle_smc(a, nullptr), -EINVAL);
	EXPECT_EQ(teemed_vm_create(nullptr, nullptr, 0, &b), -EINVAL);
	EXPECT_EQ(teemed_ctx_open_model(0, 1, &ctx), -EINVAL);
	teemed_vm_destroy(a);
	ASSERT_EQ(teemed_vm_create(ctx, nullptr, 0, &b), 0); // the slot came back
	teemed_vm_destroy(b);
	teemed_ctx_close(ctx);
}

TEST(CApi, Ranges)
{
	for (const auto &r : TEEMED_SMCCC_RANGES) {
		EXPECT_TRUE(teemed_is_mediated_fid(r[0]));
		EXPECT_TRUE(teemed_is_mediated_fid(r[0] + r[1] - 1));
		EXPECT_FALSE(teemed_is_mediated_fid(r[0] - 1));
	}
	EXPECT_FALSE(teemed_is_mediated_fid(0x84000000)); // PSCI
	teemed_limits l;
	teemed_limits_default(&l);
	EXPECT_EQ(l.max_pages_per_buffer, 129u);
	EXPECT_EQ(l.max_pinned_pages_per_vm, 16384u);
	EXPECT_EQ(l.max_buffers_per_vm, 16u);
}

TEST(CApi, KernelBackendAbsent)
{
	teemed_ctx *ctx = nullptr;
	EXPECT_EQ(teemed_ctx_open_kernel("/nonexistent/teevm0", &ctx), -ENOENT);
}

} // namespace
