/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * OP-TEE SMC function ids and return codes the tools classify by, for both
 * the BPF programs and the loaders. The numbers are fixed by the OP-TEE SMC
 * ABI (optee_smc.h); tools/include/teemed/optee_abi.hpp is the library's
 * copy of the same table.
 */
#ifndef __TEEMED_OPTEE_FIDS_H
#define __TEEMED_OPTEE_FIDS_H

#define OPTEE_FAST_CALL		0x80000000u
#define OPTEE_STD_VAL(f)	((50u << 24) | (f))
#define OPTEE_CALL_WITH_ARG	OPTEE_STD_VAL(4)
#define OPTEE_RETURN_FROM_RPC	OPTEE_STD_VAL(3)
#define OPTEE_CALL_WITH_RPC_ARG	OPTEE_STD_VAL(18)
#define OPTEE_CALL_WITH_REGD_ARG OPTEE_STD_VAL(19)

#define OPTEE_RETURN_ERESUME	3u
#define OPTEE_RETURN_UNKNOWN_FUNCTION 0xffffffffu
#define OPTEE_RPC_PREFIX_MASK	0xffff0000u
#define OPTEE_RPC_PREFIX	0xffff0000u

static inline int optee_is_fast(unsigned int fid) { return !!(fid & OPTEE_FAST_CALL); }

/* A call that starts a yielding call (a thread in OP-TEE). */
static inline int optee_is_start(unsigned int fid)
{
	return fid == OPTEE_CALL_WITH_ARG || fid == OPTEE_CALL_WITH_RPC_ARG ||
	       fid == OPTEE_CALL_WITH_REGD_ARG;
}

/* An answer that is an RPC request: the yielding call is suspended.
 * UNKNOWN_FUNCTION has the prefix too but is not one (OPTEE_SMC_RETURN_IS_RPC). */
static inline int optee_is_rpc(unsigned long long a0)
{
	return (unsigned int)a0 != OPTEE_RETURN_UNKNOWN_FUNCTION &&
	       ((unsigned int)a0 & OPTEE_RPC_PREFIX_MASK) == OPTEE_RPC_PREFIX;
}

#endif /* __TEEMED_OPTEE_FIDS_H */
