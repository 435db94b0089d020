/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kernel/tests/adversarial-vmm.c's platform, in process: the device is the
 * series' VM-context code over the kernel shim with OP-TEE's model behind
 * it (adv_platform.cpp); another process is a thread with an address space
 * of its own; the kernel's log is the shim's count of warnings.
 */
#ifndef ADV_PLATFORM_H
#define ADV_PLATFORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int adv_open(void);
int adv_ioctl(int fd, unsigned long req, void *arg);
void adv_close(int fd);
uint64_t adv_phys_of(const void *va);
long adv_pinned_kb(void);
int adv_param(const char *name, unsigned int value, unsigned int *old);
int adv_child(int (*fn)(void *), void *arg);
int adv_drop_cap(int cap);
int adv_set_memlock(unsigned long bytes);
const char *adv_ta_dir(void);
long adv_log_mark(void);
int adv_log_warned(long mark);
void adv_attack(const char *name);

#ifdef __cplusplus
}
#endif

#endif
