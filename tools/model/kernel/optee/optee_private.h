/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In the harness: what smc_vm.c uses of drivers/tee/optee/optee_private.h
 * with the series applied. struct optee keeps only those members; their
 * names and types are the series', so the code compiles as it is. The
 * functions of smc_abi.c and core.c it calls are kshim.cpp's, doing what
 * the series' do: VM_CREATED and VM_DESTROYED through invoke_fn, OP-TEE's
 * page lists (zeroed, the last link 0), and every page "normal memory".
 */
#ifndef KSHIM_OPTEE_PRIVATE_H
#define KSHIM_OPTEE_PRIVATE_H
#include <linux/arm-smccc.h>
#include <linux/rwsem.h>
#include <linux/tee_core.h>
#include <linux/xarray.h>
#include "optee_msg.h"

#define DRIVER_NAME "optee"
#define TEEC_SUCCESS 0x00000000
#define OPTEE_SMC_HOST_CLIENT_ID 1

typedef void (optee_invoke_fn)(unsigned long, unsigned long, unsigned long,
				unsigned long, unsigned long, unsigned long,
				unsigned long, unsigned long,
				struct arm_smccc_res *);

struct optee_smc {
	optee_invoke_fn *invoke_fn;
	u32 sec_caps;
	u32 client_id;
	bool host_uses_tee;
#ifdef KSHIM_SERIES_V3
	/* series v3's, for the proof that the harness finds what it let through */
	struct tee_device *vm_teedev;
	struct ida vm_ids;
	struct rw_semaphore vm_lock;
	bool vm_shutdown;
	struct list_head vms;
#else
	struct rw_semaphore lock;
	bool clients_gone;
	struct tee_device *vm_teedev;
	struct xarray vms;
#endif
};

struct optee {
	struct optee_smc smc;
	unsigned int rpc_param_count;
};

int optee_smc_vm_created(optee_invoke_fn *invoke_fn, u32 client_id);
int optee_smc_vm_destroyed(optee_invoke_fn *invoke_fn, u32 client_id);
void optee_smc_vm_init(struct optee *optee);
void optee_smc_vm_uninit(struct optee *optee);
void optee_smc_vm_shutdown(struct optee *optee);
u64 *optee_allocate_pages_list(size_t num_entries);
void optee_free_pages_list(void *list, size_t num_entries);
void optee_fill_pages_list(u64 *dst, struct page **pages, int num_pages,
			   size_t page_offset);
int optee_check_mem_type(unsigned long start, size_t num_pages);

#endif
