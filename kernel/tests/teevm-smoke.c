// SPDX-License-Identifier: BSD-2-Clause
/*
 * teevm-smoke — exercise the VM-context uapi of the kernel/ series on a
 * host with a virtualized OP-TEE (the board), without KVM or libteemed:
 * it plays a minimal VMM that issues a guest's calls itself.
 *
 *   1. /dev/teevm0 is 0600 and reports TEE_GEN_CAP_VM
 *   2. a context gets a client id >= 2; fast calls reach OP-TEE
 *   3. refused calls: GET_SHM_CONFIG, VM_CREATED (EPERM), RETURN_FROM_RPC
 *      of an unknown thread (ESRCH)
 *   4. REGISTER_SHM of two pinned pages (page list relocated into the
 *      argument shadow, the argument relocated into a1/a2), answering
 *      OP-TEE's RPCs with shadows; the relocated field reads back as
 *      written; UNREGISTER_SHM
 *   5. OPEN_SESSION of an unknown TA stops in an RPC (LOAD_TA) with the
 *      thread suspended; closing the context unwinds it; a new context
 *      then works (OP-TEE did not lose the thread)
 *   6. argument checks: quota (EDQUOT), unaligned pin, unknown handle,
 *      two A1A2 relocations (EINVAL), XFER round trip, and a second
 *      context at once: either OP-TEE has room or it says so (ENOSPC)
 *   7. four threads on one context, each REGISTER_SHM/UNREGISTER_SHM of
 *      its own pin 20 times, as vCPUs would: all succeed, nothing left
 *
 * Prints "teevm-smoke: N passed, M failed"; exit status 0 only if M is 0.
 * Run it by its full path: it is built beside the KVM selftest.
 * Build: aarch64-linux-gnu-gcc -static -O2 -I tools/lib/uapi ...
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/tee.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux/tee_vm.h"

/* OP-TEE SMC function ids (drivers/tee/optee/optee_smc.h) */
#define SMC_CALLS_UID		0xbf00ff01u
#define SMC_EXCHANGE_CAPS	0xb2000009u
#define SMC_GET_SHM_CONFIG	0xb2000007u
#define SMC_VM_CREATED		0xb200000du
#define SMC_CALL_WITH_ARG	0x32000004u
#define SMC_RETURN_FROM_RPC	0x32000003u
#define SMC_RETURN_OK		0u
#define SMC_RETURN_ETHREAD_LIMIT	1u
#define SMC_RPC_PREFIX		0xffff0000u
#define RPC_ALLOC		0
#define RPC_FREE		2
#define RPC_FOREIGN_INTR	4
#define RPC_CMD			5
#define SEC_CAP_VIRTUALIZATION	(1u << 3)

/* struct optee_msg_arg (drivers/tee/optee/optee_msg.h) */
#define MSG_CMD_OPEN_SESSION	0
#define MSG_CMD_REGISTER_SHM	4
#define MSG_CMD_UNREGISTER_SHM	5
#define MSG_ATTR_VALUE_INPUT	0x1
#define MSG_ATTR_RMEM_INPUT	0x5
#define MSG_ATTR_TMEM_OUTPUT	0xa
#define MSG_ATTR_META		(1u << 8)
#define MSG_ATTR_NONCONTIG	(1u << 9)

struct msg_param {
	uint64_t attr;
	uint64_t a, b, c;	/* tmem: buf_ptr, size, shm_ref; value: a, b, c */
};

struct msg_arg {
	uint32_t cmd, func, session, cancel_id, pad, ret, ret_origin, num_params;
	struct msg_param params[2];
};

static int passed, failed;

static void check(int ok, const char *what)
{
	printf("teevm-smoke: %s: %s\n", ok ? "ok" : "FAIL", what);
	if (ok)
		passed++;
	else
		failed++;
}

static int vm_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int smc(int vm, uint64_t *regs, struct tee_ioctl_vm_xfer *x, unsigned int nx,
	       struct tee_ioctl_vm_reloc *r, unsigned int nr)
{
	struct tee_ioctl_vm_call c = { 0 };
	int rc;

	memcpy(c.regs, regs, sizeof(c.regs));
	c.xfers = (uintptr_t)x;
	c.num_xfers = nx;
	c.relocs = (uintptr_t)r;
	c.num_relocs = nr;
	rc = vm_ioctl(vm, TEE_VM_IOC_CALL, &c);
	if (!rc)
		memcpy(regs, c.regs, sizeof(c.regs));
	return rc;
}

static uint32_t new_shadow(int vm)
{
	struct tee_ioctl_vm_shadow s = { 0 };

	return vm_ioctl(vm, TEE_VM_IOC_SHADOW, &s) ? 0 : s.handle;
}

static void release(int vm, uint32_t h)
{
	struct tee_ioctl_vm_release r = { .handle = h };

	vm_ioctl(vm, TEE_VM_IOC_RELEASE, &r);
}

/*
 * One std call with its argument in @shadow: CALL_WITH_ARG, then answer
 * OP-TEE's RPCs (ALLOC with a new shadow, FREE, FOREIGN_INTR) until it
 * completes. With @stop_at_cmd, return 1 at the first RPC_CMD, leaving
 * the thread suspended. Returns 0 when the call completed, < 0 on error.
 */
static int std_call(int vm, uint32_t shadow, struct msg_arg *arg,
		    struct tee_ioctl_vm_reloc *extra, unsigned int nextra,
		    int stop_at_cmd)
{
	struct tee_ioctl_vm_xfer x[2] = {
		{ (uintptr_t)arg, shadow, 0, sizeof(*arg), TEE_VM_XFER_TO_SHADOW },
		{ (uintptr_t)arg, shadow, 0, sizeof(*arg), TEE_VM_XFER_FROM_SHADOW },
	};
	struct tee_ioctl_vm_reloc r[4] = {
		{ shadow, 0, TEE_VM_RELOC_A1A2, 0, 0, 0 },
	};
	uint64_t regs[8] = { SMC_CALL_WITH_ARG };
	unsigned int n;
	int rc, rounds;

	for (n = 0; n < nextra && n < 3; n++)
		r[1 + n] = extra[n];
	/* Out of OP-TEE threads: wait and retry, as a guest's driver does */
	for (rounds = 0; rounds < 5000; rounds++) {
		regs[0] = SMC_CALL_WITH_ARG;
		rc = smc(vm, regs, x, 2, r, 1 + nextra);
		if (rc || regs[0] != SMC_RETURN_ETHREAD_LIMIT)
			break;
		usleep(200);
	}
	for (rounds = 0; !rc && rounds < 1000; rounds++) {
		uint64_t res[8] = { SMC_RETURN_FROM_RPC };
		struct tee_ioctl_vm_reloc a1a2 = { 0, 0, TEE_VM_RELOC_A1A2, 0, 0, 0 };
		int nr = 0;

		if ((regs[0] & 0xffff0000u) != SMC_RPC_PREFIX) {
			/* Done: the result is in the shadow now (XFER) */
			struct tee_ioctl_vm_xfers xs = { (uintptr_t)&x[1], 1, 0 };

			if (regs[0] != SMC_RETURN_OK)
				return -EIO;
			return vm_ioctl(vm, TEE_VM_IOC_XFER, &xs);
		}
		res[3] = regs[3];
		switch (regs[0] & 0xffff) {
		case RPC_ALLOC:
			a1a2.object = new_shadow(vm);
			if (!a1a2.object)
				return -ENOMEM;
			res[4] = 0;
			res[5] = a1a2.object;	/* cookie: the shadow's handle */
			nr = 1;
			break;
		case RPC_FREE:
			release(vm, (uint32_t)regs[2]);
			break;
		case RPC_FOREIGN_INTR:
			break;
		case RPC_CMD:
			if (stop_at_cmd)
				return 1;
			/* untouched: OP-TEE finds the error it preset */
			break;
		default:
			return -EPROTO;
		}
		rc = smc(vm, res, NULL, 0, &a1a2, nr);
		memcpy(regs, res, sizeof(res));
	}
	return rc ? rc : -ETIMEDOUT;
}

/* Register and unregister a pinned page, as one vCPU of a guest would */
static int shm_cycle(int vm, uint64_t cookie)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint8_t *buf = mmap(NULL, psz, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t va = (uintptr_t)buf;
	struct tee_ioctl_vm_pin pin = { (uintptr_t)&va, 1, 0 };
	uint32_t sh = new_shadow(vm);
	struct msg_arg arg;
	struct tee_ioctl_vm_reloc rl = { 0, 0, TEE_VM_RELOC_SHADOW, sh,
					 offsetof(struct msg_arg, params[0].a), 0 };
	int rc = -EIO;

	if (buf == MAP_FAILED || !sh)
		return -ENOMEM;
	buf[0] = 1;
	if (vm_ioctl(vm, TEE_VM_IOC_PIN, &pin))
		goto out;
	memset(&arg, 0, sizeof(arg));
	arg.cmd = MSG_CMD_REGISTER_SHM;
	arg.num_params = 1;
	arg.params[0].attr = MSG_ATTR_TMEM_OUTPUT | MSG_ATTR_NONCONTIG;
	arg.params[0].b = psz;
	arg.params[0].c = cookie;
	rl.object = pin.handle;
	if (std_call(vm, sh, &arg, &rl, 1, 0) || arg.ret)
		goto out_release;
	memset(&arg, 0, sizeof(arg));
	arg.cmd = MSG_CMD_UNREGISTER_SHM;
	arg.num_params = 1;
	arg.params[0].attr = MSG_ATTR_RMEM_INPUT;
	arg.params[0].c = cookie;
	if (!std_call(vm, sh, &arg, NULL, 0, 0) && !arg.ret)
		rc = 0;
out_release:
	release(vm, pin.handle);
out:
	release(vm, sh);
	munmap(buf, psz);
	return rc;
}

struct worker {
	pthread_t thread;
	int vm;
	int index;
	int failures;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	int n;

	for (n = 0; n < 20; n++)
		if (shm_cycle(w->vm, 0x10000 * (w->index + 1) + n))
			w->failures++;
	return NULL;
}

static int create(int dev, uint32_t *client)
{
	struct tee_ioctl_vm_create c = { 0 };
	int fd = ioctl(dev, TEE_IOC_VM_CREATE, &c);

	if (fd >= 0)
		*client = c.client_id;
	return fd;
}

int main(void)
{
	struct tee_ioctl_version_data ver = { 0 };
	struct tee_ioctl_vm_info info = { 0 };
	uint32_t client = 0, client2 = 0;
	struct stat st;
	int dev, vm, vm2;

	dev = open("/dev/teevm0", O_RDWR | O_CLOEXEC);
	check(dev >= 0, "open /dev/teevm0");
	if (dev < 0)
		goto out;
	check(!fstat(dev, &st) && (st.st_mode & 0777) == 0600, "/dev/teevm0 is 0600");
	check(!ioctl(dev, TEE_IOC_VERSION, &ver) && (ver.gen_caps & TEE_GEN_CAP_VM),
	      "TEE_IOC_VERSION reports TEE_GEN_CAP_VM");

	vm = create(dev, &client);
	check(vm >= 0 && client >= 2, "TEE_IOC_VM_CREATE: fd and client id >= 2");
	if (vm < 0)
		goto out;

	{
		uint64_t r[8] = { SMC_CALLS_UID };

		check(!smc(vm, r, NULL, 0, NULL, 0) && r[0] == 0x384fb3e0 &&
		      r[1] == 0xe7f811e3 && r[2] == 0xaf630002 && r[3] == 0xa5d5c51b,
		      "CALLS_UID is OP-TEE's");
	}
	{
		uint64_t r[8] = { SMC_EXCHANGE_CAPS };

		check(!smc(vm, r, NULL, 0, NULL, 0) && r[0] == SMC_RETURN_OK &&
		      (r[1] & SEC_CAP_VIRTUALIZATION),
		      "EXCHANGE_CAPABILITIES: OK, VIRTUALIZATION");
	}
	{
		uint64_t r1[8] = { SMC_GET_SHM_CONFIG }, r2[8] = { SMC_VM_CREATED, 7 };
		uint64_t r3[8] = { SMC_RETURN_FROM_RPC, 0, 0, 5 };

		check(smc(vm, r1, NULL, 0, NULL, 0) == -EPERM, "GET_SHM_CONFIG refused (EPERM)");
		check(smc(vm, r2, NULL, 0, NULL, 0) == -EPERM, "VM_CREATED refused (EPERM)");
		check(smc(vm, r3, NULL, 0, NULL, 0) == -ESRCH,
		      "RETURN_FROM_RPC of a thread not suspended refused (ESRCH)");
	}

	/* REGISTER_SHM / UNREGISTER_SHM of two pinned pages */
	{
		long psz = sysconf(_SC_PAGESIZE);
		uint8_t *buf = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t vas[2] = { (uintptr_t)buf, (uintptr_t)buf + psz };
		struct tee_ioctl_vm_pin pin = { (uintptr_t)vas, 2, 0 };
		uint32_t sh = new_shadow(vm);
		struct msg_arg arg;
		struct tee_ioctl_vm_reloc rl = { 0, 0, TEE_VM_RELOC_SHADOW, sh,
						 offsetof(struct msg_arg, params[0].a), 0 };
		int rc;

		memset(buf, 0x5a, 2 * psz);
		check(buf != MAP_FAILED && !vm_ioctl(vm, TEE_VM_IOC_PIN, &pin) && sh,
		      "PIN two pages, SHADOW");
		check(!vm_ioctl(vm, TEE_VM_IOC_INFO, &info) && info.pinned_pages == 2 &&
		      info.num_objects == 2 && info.client_id == client,
		      "INFO: 2 pages pinned, 2 objects");

		memset(&arg, 0, sizeof(arg));
		arg.cmd = MSG_CMD_REGISTER_SHM;
		arg.num_params = 1;
		arg.params[0].attr = MSG_ATTR_TMEM_OUTPUT | MSG_ATTR_NONCONTIG;
		arg.params[0].a = 0xdead0000;	/* relocated: page list address */
		arg.params[0].b = 2 * psz;
		arg.params[0].c = 0x1234;	/* cookie of the registration */
		rl.object = pin.handle;
		rc = std_call(vm, sh, &arg, &rl, 1, 0);
		printf("teevm-smoke: REGISTER_SHM rc=%d ret=%#x origin=%u\n", rc, arg.ret,
		       arg.ret_origin);
		check(!rc && arg.ret == 0, "REGISTER_SHM through a pin: TEEC_SUCCESS");
		check(arg.params[0].a == 0xdead0000,
		      "relocated buf_ptr reads back as written (no address leaks)");

		memset(&arg, 0, sizeof(arg));
		arg.cmd = MSG_CMD_UNREGISTER_SHM;
		arg.num_params = 1;
		arg.params[0].attr = MSG_ATTR_RMEM_INPUT;
		arg.params[0].c = 0x1234;
		rc = std_call(vm, sh, &arg, NULL, 0, 0);
		printf("teevm-smoke: UNREGISTER_SHM rc=%d ret=%#x origin=%u\n", rc, arg.ret,
		       arg.ret_origin);
		check(!rc && arg.ret == 0, "UNREGISTER_SHM: TEEC_SUCCESS");

		release(vm, pin.handle);
		release(vm, sh);
		check(!vm_ioctl(vm, TEE_VM_IOC_INFO, &info) && info.pinned_pages == 0 &&
		      info.suspended_threads == 0, "INFO after release: nothing pinned");
	}

	/* A call left suspended in an RPC is unwound when the context dies */
	{
		uint32_t sh = new_shadow(vm);
		struct msg_arg arg;
		int rc;

		memset(&arg, 0, sizeof(arg));
		arg.cmd = MSG_CMD_OPEN_SESSION;
		arg.num_params = 2;
		arg.params[0].attr = MSG_ATTR_VALUE_INPUT | MSG_ATTR_META;
		arg.params[0].a = 0x0123456789abcdefull;	/* no such TA */
		arg.params[0].b = 0xfedcba9876543210ull;
		arg.params[1].attr = MSG_ATTR_VALUE_INPUT | MSG_ATTR_META;
		rc = std_call(vm, sh, &arg, NULL, 0, 1);
		check(rc == 1 && !vm_ioctl(vm, TEE_VM_IOC_INFO, &info) &&
		      info.suspended_threads == 1,
		      "OPEN_SESSION of an unknown TA stops in RPC_CMD, 1 thread suspended");
		close(vm);
	}

	vm2 = create(dev, &client2);
	check(vm2 >= 0, "a new context after the unwind");
	if (vm2 >= 0) {
		uint32_t sh = new_shadow(vm2);
		struct msg_arg arg;

		memset(&arg, 0, sizeof(arg));
		arg.cmd = MSG_CMD_OPEN_SESSION;
		arg.num_params = 2;
		arg.params[0].attr = MSG_ATTR_VALUE_INPUT | MSG_ATTR_META;
		arg.params[0].a = 0x0123456789abcdefull;
		arg.params[0].b = 0xfedcba9876543210ull;
		arg.params[1].attr = MSG_ATTR_VALUE_INPUT | MSG_ATTR_META;
		/* answered as failed: the call completes with an error */
		check(std_call(vm2, sh, &arg, NULL, 0, 0) == 0 && arg.ret != 0,
		      "OPEN_SESSION with RPC_CMD answered as failed completes with an error");
		close(vm2);
	}
	/* Argument checks */
	{
		struct tee_ioctl_vm_create c = { .max_pinned_pages = 1 };
		long psz = sysconf(_SC_PAGESIZE);
		uint8_t *buf = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t vas[2] = { (uintptr_t)buf, (uintptr_t)buf + psz };
		uint64_t odd = (uintptr_t)buf + 8;
		struct tee_ioctl_vm_pin two = { (uintptr_t)vas, 2, 0 };
		struct tee_ioctl_vm_pin unaligned = { (uintptr_t)&odd, 1, 0 };
		struct tee_ioctl_vm_release rel = { .handle = 0x7ffffff0 };
		char in[16] = "teevm-smoke xfer", out[16] = { 0 };
		uint32_t sh;
		int fd = ioctl(dev, TEE_IOC_VM_CREATE, &c);
		int other;

		check(fd >= 0, "a context with a quota of 1 page");
		if (fd < 0)
			goto out;
		memset(buf, 1, 2 * psz);
		check(vm_ioctl(fd, TEE_VM_IOC_PIN, &two) == -EDQUOT, "pin beyond the quota: EDQUOT");
		check(vm_ioctl(fd, TEE_VM_IOC_PIN, &unaligned) == -EINVAL, "unaligned pin: EINVAL");
		check(vm_ioctl(fd, TEE_VM_IOC_RELEASE, &rel) == -ENOENT, "unknown handle: ENOENT");
		sh = new_shadow(fd);
		{
			struct tee_ioctl_vm_reloc r[2] = {
				{ sh, 0, TEE_VM_RELOC_A1A2, 0, 0, 0 },
				{ sh, 8, TEE_VM_RELOC_A1A2, 0, 0, 0 },
			};
			uint64_t regs[8] = { SMC_CALL_WITH_ARG };

			check(smc(fd, regs, NULL, 0, r, 2) == -EINVAL, "two A1A2 relocations: EINVAL");
		}
		{
			struct tee_ioctl_vm_xfer x[2] = {
				{ (uintptr_t)in, sh, 100, sizeof(in), TEE_VM_XFER_TO_SHADOW },
				{ (uintptr_t)out, sh, 100, sizeof(out), TEE_VM_XFER_FROM_SHADOW },
			};
			struct tee_ioctl_vm_xfers xs = { (uintptr_t)x, 2, 0 };

			check(!vm_ioctl(fd, TEE_VM_IOC_XFER, &xs) && !memcmp(in, out, sizeof(in)),
			      "XFER to and from a shadow");
		}
		other = create(dev, &client2);
		if (other >= 0)
			printf("teevm-smoke: a second context at once: client %u\n", client2);
		else
			printf("teevm-smoke: a second context at once: %s\n", strerror(errno));
		check(other >= 0 || errno == ENOSPC,
		      "a second context at once: created, or ENOSPC (CFG_VIRT_GUEST_COUNT)");
		if (other >= 0)
			close(other);
		close(fd);
	}

	/* Four vCPUs on one context */
	{
		struct worker w[4];
		int fd = create(dev, &client2), n, fails = 0;

		check(fd >= 0, "a context for four threads");
		if (fd < 0)
			goto out;
		for (n = 0; n < 4; n++) {
			w[n] = (struct worker){ .vm = fd, .index = n };
			pthread_create(&w[n].thread, NULL, worker_main, &w[n]);
		}
		for (n = 0; n < 4; n++) {
			pthread_join(w[n].thread, NULL);
			fails += w[n].failures;
		}
		printf("teevm-smoke: four threads: %d of 80 cycles failed\n", fails);
		check(!fails, "four threads x 20 REGISTER/UNREGISTER_SHM on one context");
		check(!vm_ioctl(fd, TEE_VM_IOC_INFO, &info) && !info.pinned_pages &&
		      !info.num_objects && !info.suspended_threads,
		      "after them: nothing pinned, no object, no thread suspended");
		close(fd);
	}
out:
	printf("teevm-smoke: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
