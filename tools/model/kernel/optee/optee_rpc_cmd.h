/* SPDX-License-Identifier: GPL-2.0-only */
/* In the harness: OP-TEE's RPC commands are tables/' (teemed_tables.h) */
#include "optee_msg.h"
