/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VM contexts of the TEE subsystem: the userspace API that kernel/ adds to
 * include/uapi/linux/tee.h. This copy lets the library build against a
 * stock host's headers; `make kernel-check` verifies it matches the series.
 */
#ifndef TEEMED_UAPI_LINUX_TEE_VM_H
#define TEEMED_UAPI_LINUX_TEE_VM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef TEE_IOC_MAGIC
#define TEE_IOC_MAGIC	0xa4
#define TEE_IOC_BASE	0
#endif

/* tee_ioctl_version_data.gen_caps: the device serves VM contexts */
#define TEE_GEN_CAP_VM		(1 << 8)

/**
 * struct tee_ioctl_vm_create - TEE_IOC_VM_CREATE argument
 * @flags:		[in] must be 0
 * @client_id:		[out] client id the kernel allocated and registered
 *			with the TEE (OP-TEE: VM_CREATED); informational
 * @max_pinned_pages:	[in] pinned-page quota of the context, 0 = the
 *			driver's default; capped by the driver's limit
 * @reserved:		must be 0
 *
 * Returns a new file descriptor (O_CLOEXEC) for the VM context. Closing it
 * destroys the context: suspended TEE threads are unwound, the TEE is told
 * (OP-TEE: VM_DESTROYED) and every pin and shadow is freed.
 */
struct tee_ioctl_vm_create {
	__u32 flags;
	__u32 client_id;
	__u32 max_pinned_pages;
	__u32 reserved;
};

/**
 * struct tee_ioctl_vm_pin - TEE_VM_IOC_PIN argument
 * @pages:	[in] user pointer to @num_pages __u64 page-aligned virtual
 *		addresses of the caller, in buffer order
 * @num_pages:	[in] number of pages, at least 1
 * @handle:	[out] handle of the pinned buffer (its OP-TEE page list is
 *		built by the kernel)
 */
struct tee_ioctl_vm_pin {
	__u64 pages;
	__u32 num_pages;
	__u32 handle;
};

/**
 * struct tee_ioctl_vm_shadow - TEE_VM_IOC_SHADOW argument
 * @flags:	[in] must be 0
 * @handle:	[out] handle of a new zeroed kernel page, never mapped to
 *		userspace, that the TEE reads and writes
 */
struct tee_ioctl_vm_shadow {
	__u32 flags;
	__u32 handle;
};

/**
 * struct tee_ioctl_vm_release - TEE_VM_IOC_RELEASE argument
 * @handle:	[in] pin or shadow handle to free
 * @reserved:	must be 0
 */
struct tee_ioctl_vm_release {
	__u32 handle;
	__u32 reserved;
};

#define TEE_VM_XFER_TO_SHADOW	0	/* copy @buf into the shadow before the SMC */
#define TEE_VM_XFER_FROM_SHADOW	1	/* copy the shadow into @buf after the SMC */

/**
 * struct tee_ioctl_vm_xfer - one copy between user memory and a shadow
 * @buf:	user pointer
 * @handle:	shadow handle
 * @offset:	byte offset in the shadow
 * @len:	bytes; @offset + @len must not exceed the shadow
 * @dir:	TEE_VM_XFER_TO_SHADOW or TEE_VM_XFER_FROM_SHADOW
 */
struct tee_ioctl_vm_xfer {
	__u64 buf;
	__u32 handle;
	__u32 offset;
	__u32 len;
	__u32 dir;
};

#define TEE_VM_RELOC_A1A2	0	/* a1 = upper, a2 = lower 32 bits */
#define TEE_VM_RELOC_SHADOW	1	/* __u64 at @shadow + @shadow_offset */

/**
 * struct tee_ioctl_vm_reloc - "put the physical address of @object here"
 * @object:		pin or shadow handle whose address is written
 * @offset:		added to the address: for a shadow any offset within
 *			the page; for a pin the offset of the data in its
 *			first page (< 4096), giving an OP-TEE NONCONTIG
 *			buf_ptr (page list address | offset)
 * @target:		TEE_VM_RELOC_A1A2 or TEE_VM_RELOC_SHADOW
 * @shadow:		target shadow handle (TEE_VM_RELOC_SHADOW)
 * @shadow_offset:	8-byte aligned offset in @shadow (TEE_VM_RELOC_SHADOW)
 * @reserved:		must be 0
 *
 * Relocations are applied after the TO_SHADOW copies. The address stays
 * in the shadow, for the TEE to read when it likes (across the RPC round
 * trips of a call), until a TO_SHADOW copy overwrites the field or another
 * relocation replaces it. A FROM_SHADOW copy shows, in place of a field
 * still holding the address, the value userspace last wrote there, so a
 * physical address never reaches userspace; a field the TEE rewrote shows
 * the TEE's value.
 */
struct tee_ioctl_vm_reloc {
	__u32 object;
	__u32 offset;
	__u32 target;
	__u32 shadow;
	__u32 shadow_offset;
	__u32 reserved;
};

/**
 * struct tee_ioctl_vm_call - TEE_VM_IOC_CALL argument: one SMC
 * @regs:	[in] a0..a6 of the SMC, a7 is ignored (the kernel writes the
 *		context's client id); [out] a0..a3 as returned by the TEE,
 *		a4..a7 zero
 * @xfers:	user pointer to @num_xfers struct tee_ioctl_vm_xfer
 * @relocs:	user pointer to @num_relocs struct tee_ioctl_vm_reloc
 * @num_xfers:	at most TEE_VM_MAX_XFERS
 * @num_relocs:	at most TEE_VM_MAX_RELOCS
 *
 * Only the function ids a guest needs are forwarded (-EPERM otherwise).
 * For CALL_WITH_ARG, CALL_WITH_RPC_ARG and RETURN_FROM_RPC, a1/a2 are zero
 * unless a TEE_VM_RELOC_A1A2 relocation sets them. RETURN_FROM_RPC is
 * refused (-ESRCH) unless a3 names a TEE thread that an earlier call of
 * this context left suspended in an RPC.
 */
struct tee_ioctl_vm_call {
	__u64 regs[8];
	__u64 xfers;
	__u64 relocs;
	__u32 num_xfers;
	__u32 num_relocs;
};

#define TEE_VM_MAX_XFERS	8
#define TEE_VM_MAX_RELOCS	16

/**
 * struct tee_ioctl_vm_xfers - TEE_VM_IOC_XFER argument: copies, no SMC
 * @xfers:	user pointer to @num_xfers struct tee_ioctl_vm_xfer, done in
 *		order; FROM_SHADOW copies scrub relocated fields as for a call
 * @num_xfers:	at most TEE_VM_MAX_XFERS
 * @reserved:	must be 0
 *
 * Used to read an RPC argument whose shadow is only known from the RPC
 * the TEE returned (OP-TEE: the cookie in a1/a2 of RPC_CMD).
 */
struct tee_ioctl_vm_xfers {
	__u64 xfers;
	__u32 num_xfers;
	__u32 reserved;
};

/**
 * struct tee_ioctl_vm_info - TEE_VM_IOC_INFO argument
 * @client_id:		[out] the context's client id
 * @pinned_pages:	[out] pages pinned now
 * @max_pinned_pages:	[out] quota
 * @num_objects:	[out] live pins and shadows
 * @suspended_threads:	[out] TEE threads suspended in an RPC
 * @reserved:		zero
 */
struct tee_ioctl_vm_info {
	__u32 client_id;
	__u32 pinned_pages;
	__u32 max_pinned_pages;
	__u32 num_objects;
	__u32 suspended_threads;
	__u32 reserved;
};

/* On /dev/teevmN: create a VM context, returns its fd */
#define TEE_IOC_VM_CREATE	_IOWR(TEE_IOC_MAGIC, TEE_IOC_BASE + 16, \
				      struct tee_ioctl_vm_create)
/* On a VM-context fd */
#define TEE_VM_IOC_PIN		_IOWR(TEE_IOC_MAGIC, TEE_IOC_BASE + 17, \
				      struct tee_ioctl_vm_pin)
#define TEE_VM_IOC_SHADOW	_IOWR(TEE_IOC_MAGIC, TEE_IOC_BASE + 18, \
				      struct tee_ioctl_vm_shadow)
#define TEE_VM_IOC_RELEASE	_IOW(TEE_IOC_MAGIC, TEE_IOC_BASE + 19, \
				     struct tee_ioctl_vm_release)
#define TEE_VM_IOC_CALL		_IOWR(TEE_IOC_MAGIC, TEE_IOC_BASE + 20, \
				      struct tee_ioctl_vm_call)
#define TEE_VM_IOC_INFO		_IOR(TEE_IOC_MAGIC, TEE_IOC_BASE + 21, \
				     struct tee_ioctl_vm_info)
#define TEE_VM_IOC_XFER		_IOW(TEE_IOC_MAGIC, TEE_IOC_BASE + 22, \
				     struct tee_ioctl_vm_xfers)

#endif /* TEEMED_UAPI_LINUX_TEE_VM_H */
