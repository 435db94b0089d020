/* SPDX-License-Identifier: GPL-2.0-only */
/* In the harness: kshim.h has it all */
#include "kshim.h"
