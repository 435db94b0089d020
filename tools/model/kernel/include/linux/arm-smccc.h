/* SPDX-License-Identifier: GPL-2.0-only */
/* In the harness: the registers an SMC returns */
#ifndef KSHIM_ARM_SMCCC_H
#define KSHIM_ARM_SMCCC_H
#include "kshim.h"

struct arm_smccc_res {
	unsigned long a0, a1, a2, a3;
};
#endif
