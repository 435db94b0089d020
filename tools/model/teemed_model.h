/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The in-process OP-TEE model as a teemed_ctx backend, for tests and demos
 * of C VMMs without the patched host kernel. Link libteemed_model.
 */
#ifndef TEEMED_MODEL_H
#define TEEMED_MODEL_H

#include "teemed/teemed.h"

#ifdef __cplusplus
extern "C" {
#endif

/* threads: OP-TEE's CFG_NUM_THREADS; max_guests: CFG_VIRT_GUEST_COUNT. */
int teemed_ctx_open_model(uint32_t threads, uint32_t max_guests, teemed_ctx **out);

#ifdef __cplusplus
}
#endif

#endif /* TEEMED_MODEL_H */
