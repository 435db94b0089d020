/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In the harness: OP-TEE's SMC interface, as drivers/tee/optee/optee_smc.h
 * has it. The function ids and return codes are tables/' (teemed_tables.h,
 * which kernel-check holds to the series' optee_smc.h).
 */
#ifndef KSHIM_OPTEE_SMC_H
#define KSHIM_OPTEE_SMC_H
#include <linux/kshim.h>
#include "teemed_tables.h"

#define OPTEE_SMC_RETURN_IS_RPC(ret) \
	(((ret) != OPTEE_SMC_RETURN_UNKNOWN_FUNCTION) && \
	 ((((ret) & OPTEE_SMC_RETURN_RPC_PREFIX_MASK) == OPTEE_SMC_RETURN_RPC_PREFIX)))
#define OPTEE_SMC_RETURN_GET_RPC_FUNC(ret) ((ret) & 0xffff)
#define OPTEE_SMC_SEC_CAP_VIRTUALIZATION BIT(3)

#endif
