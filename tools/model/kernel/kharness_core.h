/* SPDX-License-Identifier: GPL-2.0-only */
/* What tee_core.c's tee_vm_ioctl() needs of the rest of tee_core.c */
#ifndef KHARNESS_CORE_H
#define KHARNESS_CORE_H
#include <linux/ioctl.h>
#include <linux/tee_core.h>

long tee_ioctl_version(struct tee_context *ctx, struct tee_ioctl_version_data __user *uvers);
long tee_vm_ioctl(struct tee_context *ctx, unsigned int cmd, void __user *uarg);
#endif
