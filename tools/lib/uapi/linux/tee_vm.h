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
#define TEE_GEN_CAP_VM		(1 << 5)

/*
 * VM contexts
 *
 * Each open file of a TEE device named /dev/teevmN is a VM context: a
 * client of the TEE of its own, for one virtual machine, driven by a
 * virtual machine monitor (VMM) that mediates the guest's calls. The
 * kernel allocates the client id and registers it with the TEE at open
 * (OP-TEE: VM_CREATED), and tells the TEE at close (VM_DESTROYED).
 *
 * The holder of the file is not trusted. Through the context the TEE
 * reaches only pages of the opener's address space that the context
 * pinned, and pages the kernel allocated for the context, and only while
 * they are pinned or allocated; both count against a quota, and pinned
 * pages against the opener's RLIMIT_MEMLOCK. The kernel writes every
 * physical address the TEE reads and builds every message the TEE reads
 * from the VMM's description of it; no physical address reaches user
 * space. Every ioctl made from another address space than the opener's
 * (a child after fork, a process the file was passed to) fails with EIO.
 */

/**
 * struct tee_ioctl_vm_pin - TEE_IOC_VM_PIN argument
 * @pages:	[in] user pointer to @num_pages __u64 page-aligned addresses
 *		in the caller's address space, in buffer order
 * @size:	[in] bytes of the buffer, at least 1; @offset + @size ends
 *		in the last page
 * @num_pages:	[in] number of pages, at least 1
 * @offset:	[in] offset of the buffer in its first page
 * @handle:	[out] handle of the pin
 * @flags:	[in] must be 0
 *
 * Pins the pages for writing (the TEE writes output buffers), for as long
 * as the pin exists: until TEE_IOC_VM_RELEASE and until the TEE let go of
 * it, whichever is later.
 */
struct tee_ioctl_vm_pin {
	__u64 pages;
	__u64 size;
	__u32 num_pages;
	__u32 offset;
	__u32 handle;
	__u32 flags;
};

/**
 * struct tee_ioctl_vm_release - TEE_IOC_VM_RELEASE argument
 * @handle:	[in] pin to release
 * @flags:	[in] must be 0
 *
 * The handle is gone at once. The pages stay pinned for as long as the TEE
 * may still use them: until it unregisters or frees the buffer, or the call
 * that uses it completes, or the context is closed.
 */
struct tee_ioctl_vm_release {
	__u32 handle;
	__u32 flags;
};

/**
 * struct tee_ioctl_vm_call - TEE_IOC_VM_CALL argument: one SMC
 * @regs:	[in] a0..a6 of the SMC, as the guest made it; which of them
 *		reach the TEE depends on a0, see below; a7 is the context's
 *		client id. [out] a0..a3 as returned by the TEE, a4..a7 zero
 * @msg:	user pointer to a buffer of @msg_size bytes: [in] the message
 *		of a yielding call or the answer to an RPC_CMD, [out] the
 *		completed message or OP-TEE's RPC_CMD request
 * @msg_size:	[in] bytes at @msg, at most 4096; [out] bytes of the message
 *		written to @msg, 0 if none
 * @flags:	[in] must be 0
 *
 * Messages have the layout of OP-TEE's struct optee_msg_arg (optee_msg.h),
 * except that a memory reference OP-TEE resolves by physical address
 * (OPTEE_MSG_ATTR_TYPE_TMEM_*, which must be OPTEE_MSG_ATTR_NONCONTIG)
 * holds, instead of its buf_ptr, the handle of a pin, and a size no larger
 * than the pin's; the kernel writes OP-TEE's page list for it, and an
 * empty one goes as a NULL reference. A memory reference by cookie
 * (OPTEE_MSG_ATTR_TYPE_RMEM_*) names a buffer the VMM registered, whose
 * REGISTER_SHM completed; UNREGISTER_SHM's one parameter must be one.
 *
 * Cookies are the VMM's own labels, both ways: OP-TEE sees only cookies
 * the kernel made (it looks a cookie up among every buffer of the client
 * and keeps a reference), and the VMM sees its own in every message, and
 * in a1/a2 of RPC_FREE, RPC_CMD and DISABLE_SHM_CACHE.
 *
 * By a0:
 *  - fast calls that a guest may make (CALLS_UID, CALLS_REVISION,
 *    GET_OS_UUID, GET_OS_REVISION, EXCHANGE_CAPABILITIES with a1,
 *    GET_THREAD_COUNT, ENABLE/DISABLE_SHM_CACHE): forwarded;
 *  - CALL_WITH_ARG, CALL_WITH_RPC_ARG: @msg is the call's message (cmd
 *    OPEN_SESSION, INVOKE_COMMAND, CLOSE_SESSION, CANCEL, REGISTER_SHM or
 *    UNREGISTER_SHM); the kernel copies it into a page of its own, with
 *    the RPC argument area behind it for CALL_WITH_RPC_ARG;
 *  - RETURN_FROM_RPC, a3 the thread an earlier call of the context left
 *    suspended, answers the RPC OP-TEE asked for: for RPC_ALLOC, a1 or a2
 *    non-zero asks for an argument buffer (the kernel allocates it and
 *    writes its address), a4/a5 the VMM's cookie for it, or for the
 *    refusal (OP-TEE frees that name too); for RPC_CMD, @msg
 *    is the answer, of which the kernel takes ret, ret_origin and the
 *    output fields of the parameters OP-TEE marked as output (and, for
 *    OPTEE_RPC_CMD_SHM_ALLOC, parameter 0 naming a pin); for other RPCs
 *    no register of the VMM's reaches OP-TEE.
 *
 * Errors, the TEE not reached: EPERM (a function id or message command a
 * guest may not use), EINVAL (a malformed call, message, answer or
 * memory reference), ENOENT (an unknown handle, or a cookie naming no
 * completed registration), EEXIST (REGISTER_SHM under a cookie the VMM
 * registered already), EBUSY (UNREGISTER_SHM of a registration a call
 * names, or a call naming one being unregistered), ESRCH (a thread not
 * suspended for the context), EDQUOT (the context's quota), ENOMEM, EIO
 * (another address space than the opener's), ESHUTDOWN (the TEE driver
 * is shutting down).
 * Once the SMC was made the ioctl returns 0 and @regs holds the result.
 */
struct tee_ioctl_vm_call {
	__u64 regs[8];
	__u64 msg;
	__u32 msg_size;
	__u32 flags;
};

/**
 * struct tee_ioctl_vm_info - TEE_IOC_VM_INFO argument
 * @client_id:		[out] the context's client id
 * @pinned_pages:	[out] user pages pinned now
 * @kernel_pages:	[out] pages the kernel allocated for the context now
 *			(arguments, RPC argument buffers, page lists)
 * @max_pages:		[out] quota of @pinned_pages + @kernel_pages
 * @num_pins:		[out] pins the VMM holds a handle of
 * @held:		[out] buffers the TEE holds: pins registered or
 *			allocated through RPC, and RPC argument buffers
 * @suspended_threads:	[out] TEE threads suspended in an RPC
 * @reserved:		[out] zero
 * @smcs:		[out] SMCs made for the context
 */
struct tee_ioctl_vm_info {
	__u32 client_id;
	__u32 pinned_pages;
	__u32 kernel_pages;
	__u32 max_pages;
	__u32 num_pins;
	__u32 held;
	__u32 suspended_threads;
	__u32 reserved;
	__u64 smcs;
};

/**
 * TEE_IOC_VM_PIN - pin user pages for the TEE, on a VM context
 *
 * Takes a struct tee_ioctl_vm_pin. Returns 0 on success, or EINVAL,
 * EFAULT (a page that cannot be pinned for writing), EDQUOT (the
 * context's quota), ENOMEM (RLIMIT_MEMLOCK), EIO.
 */
#define TEE_IOC_VM_PIN		_IOWR(TEE_IOC_MAGIC, TEE_IOC_BASE + 11, \
				      struct tee_ioctl_vm_pin)
/**
 * TEE_IOC_VM_RELEASE - release a pin, on a VM context
 *
 * Takes a struct tee_ioctl_vm_release. Returns 0 on success, or ENOENT,
 * EINVAL, EIO.
 */
#define TEE_IOC_VM_RELEASE	_IOW(TEE_IOC_MAGIC, TEE_IOC_BASE + 12, \
				     struct tee_ioctl_vm_release)
/**
 * TEE_IOC_VM_CALL - issue one SMC for the guest, on a VM context
 *
 * Takes a struct tee_ioctl_vm_call. Returns 0 once the SMC was made,
 * whatever the TEE answered in a0, or an error of the list above.
 */
#define TEE_IOC_VM_CALL		_IOWR(TEE_IOC_MAGIC, TEE_IOC_BASE + 13, \
				      struct tee_ioctl_vm_call)
/**
 * TEE_IOC_VM_INFO - read the state of a VM context
 *
 * Takes a struct tee_ioctl_vm_info. Returns 0 on success, or EIO.
 */
#define TEE_IOC_VM_INFO		_IOR(TEE_IOC_MAGIC, TEE_IOC_BASE + 14, \
				     struct tee_ioctl_vm_info)

#endif
