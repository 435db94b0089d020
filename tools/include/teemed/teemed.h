/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libteemed C API, for VMMs written in C (QEMU, kvmtool, ...).
 *
 * Embedding, in four steps:
 *   1. teemed_ctx_open_kernel("/dev/teevm0", &ctx) once per process;
 *   2. per guest: teemed_vm_create(ctx, NULL, label, &vm), then
 *      teemed_vm_add_region() for each RAM slot, and install KVM's SMCCC
 *      filter (TEEMED_SMCCC_RANGES) with KVM_SMCCC_FILTER_FWD_TO_USER;
 *   3. on each KVM_EXIT_HYPERCALL whose nr is in those ranges: read x0..x7,
 *      teemed_vm_handle_smc(vm, &regs), write x0..x3 back;
 *   4. teemed_vm_destroy(vm) when the guest is gone.
 *
 * Every function returns 0 or a negative errno. No exception, no global
 * state: everything hangs off the teemed_ctx.
 *
 * This is the stable interface: a program built against version N.x runs
 * with any N.y, y >= x (SONAME libteemed.so.N). Structures only grow at
 * their end, and those the library fills take their size.
 */
#ifndef TEEMED_H
#define TEEMED_H

#include <stddef.h>
#include <stdint.h>

#include "teemed/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct teemed_ctx teemed_ctx;
typedef struct teemed_vm teemed_vm;

/* x0..x7 of a trapped SMC; on return x0..x3 hold the answer. */
struct teemed_regs {
	uint64_t x[8];
};

/* Per-VM limits; see Documentation/limits.md for the reason of each. */
struct teemed_limits {
	uint32_t max_pages_per_buffer;
	uint32_t max_pinned_pages_per_vm;
	uint32_t max_buffers_per_vm;
	uint32_t max_rpc_buffers_per_vm;
	uint32_t max_calls_per_vm;
};

struct teemed_vm_stats {
	uint32_t client_id;
	uint64_t fast_calls;
	uint64_t yielding_calls;
	uint64_t rpc_returns;
	uint64_t rpcs;
	uint64_t rejected;
	uint64_t backend_calls;
	uint64_t backend_errors;
	uint64_t pins;
	uint64_t unpins;
	uint32_t pinned_pages;
	uint32_t pinned_pages_max;
	uint32_t shm_buffers;
	uint32_t rpc_buffers;
	uint32_t live_calls;
	uint32_t live_calls_max;
	uint32_t leaked_pages;
	uint32_t unwind_abandoned;
	uint64_t foreign_intrs_resumed; /* 1.1 */
};

/* The SMCCC function-id ranges to forward to userspace (base, count). */
#define TEEMED_SMCCC_NR_RANGES 4
TEEMED_API extern const uint32_t TEEMED_SMCCC_RANGES[TEEMED_SMCCC_NR_RANGES][2];

/* Nonzero if fid is one the mediator handles (Trusted App/OS owners). */
TEEMED_API int teemed_is_mediated_fid(uint32_t fid);

/* Open the host kernel's VM-context device (NULL: "/dev/teevm0"). */
TEEMED_API int teemed_ctx_open_kernel(const char *dev, teemed_ctx **out);
/* Drop the context; VMs created from it stay usable until destroyed. */
TEEMED_API void teemed_ctx_close(teemed_ctx *ctx);

TEEMED_API void teemed_limits_default(struct teemed_limits *lim);

/* Register a new VM with the TEE. lim may be NULL for the defaults. */
TEEMED_API int teemed_vm_create(teemed_ctx *ctx, const struct teemed_limits *lim, uint64_t label,
		     teemed_vm **out);
/* Guest RAM: page-aligned IPA, size and host address. -EEXIST if it
 * overlaps a region already added. */
TEEMED_API int teemed_vm_add_region(teemed_vm *vm, uint64_t ipa, uint64_t size, void *host);
/* Forget the region added at this ipa with this size (-ENOENT if none):
 * the guest's later calls cannot name it. What OP-TEE still holds of it
 * stays pinned by the host kernel until OP-TEE lets go. */
TEEMED_API int teemed_vm_remove_region(teemed_vm *vm, uint64_t ipa, uint64_t size);
/* One trapped SMC. Thread-safe across vCPUs. -ESHUTDOWN after close. */
TEEMED_API int teemed_vm_handle_smc(teemed_vm *vm, struct teemed_regs *regs);
/* How long one trapped SMC may resume OP-TEE after the host's interrupts
 * (OPTEE_SMC_RPC_FUNC_FOREIGN_INTR) without returning to the guest, in
 * microseconds; past it the guest gets the interrupt and its vCPU runs.
 * 0: every one goes to the guest. Default 20000 (Documentation/limits.md). */
TEEMED_API int teemed_vm_set_foreign_intr_budget(teemed_vm *vm, uint32_t usecs);
/* Fill the first size bytes of *out (sizeof(*out) as the caller knows it). */
TEEMED_API int teemed_vm_get_stats(teemed_vm *vm, struct teemed_vm_stats *out, size_t size);
TEEMED_API uint32_t teemed_vm_client_id(const teemed_vm *vm);
/* Unwind, tell the TEE, unpin; later handle_smc calls get -ESHUTDOWN. */
TEEMED_API void teemed_vm_close(teemed_vm *vm);
/* Close and free. No other thread may still use vm. */
TEEMED_API void teemed_vm_destroy(teemed_vm *vm);

#ifdef __cplusplus
}
#endif

#endif /* TEEMED_H */
