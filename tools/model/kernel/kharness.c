// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host around the series' code, in process: the OP-TEE driver's probe
 * as far as VM contexts go (optee_smc_vm_init() after the host registered
 * itself), open, ioctl and release of /dev/teevm0 (tee_core.c's
 * tee_vm_ioctl() itself, extracted from the series), shutdown and remove.
 * SMCs go to the harness's caller: OP-TEE's model.
 */
#include <stdlib.h>

#include "kharness.h"
#include "kharness_core.h"
#include "kshim_runtime.h"
#include "optee_private.h"

struct kharness {
	struct optee optee;
	kharness_smc_fn *smc;
	void *arg;
};

/* An open file: the context, its driver's and its client id */
struct kh_file {
	struct tee_context ctx;
	struct kharness *h;
	uint32_t client_id;
};

/* invoke_fn has no argument: the harness of this thread's call */
static __thread struct kharness *t_harness;

static void kharness_invoke(unsigned long a0, unsigned long a1, unsigned long a2,
			    unsigned long a3, unsigned long a4, unsigned long a5,
			    unsigned long a6, unsigned long a7,
			    struct arm_smccc_res *res)
{
	const unsigned long a[7] = { a0, a1, a2, a3, a4, a5, a6 };
	unsigned long out[4];

	if (!t_harness)
		kshim_bug("an SMC outside a call of the harness");
	t_harness->smc(t_harness->arg, a, a7, out);
	res->a0 = out[0];
	res->a1 = out[1];
	res->a2 = out[2];
	res->a3 = out[3];
}

struct kharness *kharness_new(kharness_smc_fn *smc, void *arg, uint32_t sec_caps,
			      unsigned int rpc_param_count, uint32_t host_client)
{
	struct kharness *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->smc = smc;
	h->arg = arg;
	h->optee.smc.invoke_fn = kharness_invoke;
	h->optee.smc.sec_caps = sec_caps;
	h->optee.smc.client_id = host_client;
	h->optee.smc.host_uses_tee = host_client != 0;
	h->optee.rpc_param_count = rpc_param_count;
#ifndef KSHIM_SERIES_V3
	init_rwsem(&h->optee.smc.lock);
#endif
	t_harness = h;
	optee_smc_vm_init(&h->optee);
	t_harness = NULL;
	if (!h->optee.smc.vm_teedev) {
		optee_smc_vm_uninit(&h->optee);
		free(h);
		return NULL;
	}
	return h;
}

void kharness_shutdown(struct kharness *h)
{
	/* optee_shutdown()'s part: the host's own VM_DESTROYED is not ours */
	t_harness = h;
#ifdef KSHIM_SERIES_V3
	optee_smc_vm_shutdown(&h->optee);
#else
	down_write(&h->optee.smc.lock);
	h->optee.smc.clients_gone = true;
	optee_smc_vm_shutdown(&h->optee);
	up_write(&h->optee.smc.lock);
#endif
	t_harness = NULL;
}

void kharness_free(struct kharness *h)
{
	optee_smc_vm_uninit(&h->optee);
	free(h);
}

int kharness_open(struct kharness *h, struct tee_context **ctx)
{
	const struct tee_desc *desc = h->optee.smc.vm_teedev->desc;
	struct tee_ioctl_vm_info info = { 0 };
	struct kh_file *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	f->h = h;
	f->ctx.teedev = h->optee.smc.vm_teedev;
	t_harness = h;
	rc = desc->ops->open(&f->ctx);
	t_harness = NULL;
	if (rc) {
		free(f);
		return rc;
	}
	desc->ops->vm_info(&f->ctx, &info);
	f->client_id = info.client_id;
	*ctx = &f->ctx;
	return 0;
}

long kharness_ioctl(struct tee_context *ctx, unsigned int cmd, void *uarg)
{
	struct kh_file *f = container_of(ctx, struct kh_file, ctx);
	uint32_t owner = kshim_owner();
	long rc;

	kshim_set_owner(f->client_id);
	t_harness = f->h;
	rc = tee_vm_ioctl(ctx, cmd, uarg);
	t_harness = NULL;
	kshim_set_owner(owner);
	return rc;
}

void kharness_close(struct tee_context *ctx)
{
	struct kh_file *f = container_of(ctx, struct kh_file, ctx);
	uint32_t owner = kshim_owner();

	kshim_set_owner(f->client_id);
	t_harness = f->h;
	ctx->teedev->desc->ops->release(ctx);
	t_harness = NULL;
	kshim_set_owner(owner);
	free(f);
}

/* tee_core.c's, for TEE_IOC_VERSION */
long tee_ioctl_version(struct tee_context *ctx, struct tee_ioctl_version_data __user *uvers)
{
	struct tee_ioctl_version_data vers;

	ctx->teedev->desc->ops->get_version(ctx->teedev, &vers);
	if (copy_to_user(uvers, &vers, sizeof(vers)))
		return -EFAULT;
	return 0;
}
