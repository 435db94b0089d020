/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In the harness: the TEE core as a driver of VM contexts sees it. The
 * device is the harness's (kharness.c), which serves the VM ioctls as
 * tee_core.c's tee_vm_ioctl() does; the uapi is the library's copy,
 * which kernel-check holds to the series' include/uapi/linux/tee.h.
 */
#ifndef KSHIM_TEE_CORE_H
#define KSHIM_TEE_CORE_H
#include "kshim.h"

#include <linux/tee.h>		/* the host's uapi: version data, impl ids */
#include "linux/tee_vm.h"	/* tools/lib/uapi: the VM contexts' */

struct tee_device {
	const struct tee_desc *desc;
	void *driver_data;
};

struct tee_context {
	struct tee_device *teedev;
	void *data;
};

struct tee_driver_ops {
	void (*get_version)(struct tee_device *teedev,
			    struct tee_ioctl_version_data *vers);
	int (*open)(struct tee_context *ctx);
	void (*release)(struct tee_context *ctx);
	int (*vm_pin)(struct tee_context *ctx, struct tee_ioctl_vm_pin *arg);
	int (*vm_release)(struct tee_context *ctx, u32 handle);
	int (*vm_call)(struct tee_context *ctx, struct tee_ioctl_vm_call *arg);
	int (*vm_info)(struct tee_context *ctx, struct tee_ioctl_vm_info *info);
};

#define TEE_DESC_PRIVILEGED	0x1
#define TEE_DESC_VM		0x2

struct tee_desc {
	const char *name;
	const struct tee_driver_ops *ops;
	struct module *owner;
	u32 flags;
};

struct tee_shm_pool;
struct device;
struct tee_device *tee_device_alloc(const struct tee_desc *teedesc,
				    struct device *dev,
				    struct tee_shm_pool *pool,
				    void *driver_data);
int tee_device_register(struct tee_device *teedev);
void tee_device_unregister(struct tee_device *teedev);
void *tee_get_drvdata(struct tee_device *teedev);

#endif
