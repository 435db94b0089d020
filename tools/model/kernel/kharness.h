/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host as a VMM sees it, in process: the series' VM-context code
 * (smc_vm.c, and tee_core.c's tee_vm_ioctl()) over the kernel shim, with
 * OP-TEE behind invoke_fn. One kharness is one OP-TEE driver instance;
 * each open context is an open file of /dev/teevm0.
 */
#ifndef KHARNESS_H
#define KHARNESS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kharness;
struct tee_context;
struct arm_smccc_res;

typedef void(kharness_smc_fn)(void *arg, const unsigned long *a, unsigned long a7,
			      unsigned long out[4]);

/*
 * The driver probed on an OP-TEE whose SMCs go to @smc: with
 * OPTEE_SMC_SEC_CAP_VIRTUALIZATION in @sec_caps and the host as client
 * @host_client (0: host_client=0), it offers VM contexts. NULL if not.
 */
struct kharness *kharness_new(kharness_smc_fn *smc, void *arg, uint32_t sec_caps,
			      unsigned int rpc_param_count, uint32_t host_client);
/* Shutdown (kexec): VM_DESTROYED for every context, no SMC after */
void kharness_shutdown(struct kharness *h);
/* Remove: every context must be closed */
void kharness_free(struct kharness *h);

/* open(/dev/teevm0): 0 and the context, or -errno */
int kharness_open(struct kharness *h, struct tee_context **ctx);
/* ioctl() on it: 0 or -errno */
long kharness_ioctl(struct tee_context *ctx, unsigned int cmd, void *uarg);
/* the last close() */
void kharness_close(struct tee_context *ctx);

#ifdef __cplusplus
}
#endif

#endif
