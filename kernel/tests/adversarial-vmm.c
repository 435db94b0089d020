// SPDX-License-Identifier: BSD-2-Clause
/*
 * adversarial-vmm — a VMM taken over by its guest, on a host with a
 * virtualized OP-TEE (the board): it holds a real VM context and tries,
 * through it, to make OP-TEE touch memory it does not own, to keep OP-TEE
 * using memory after it was let go, and to exceed what it is charged for.
 * Each attack asserts its exact outcome: a refusal (with the errno the
 * uapi documents, and the context's SMC count unchanged: OP-TEE was never
 * reached), or the safe behaviour the design chose.
 *
 * Built against tools/lib/uapi/linux/tee_vm.h. The "before" column of
 * Documentation/threat-model.md was measured with the version of commit
 * 346940a, whose transport ran the same attacks through the first series'
 * shadows and relocations (built against that series' header).
 *
 * Prints "adversarial-vmm: ok|FAIL: <attack>: <detail>" per check and
 * "adversarial-vmm: N passed, M failed"; exit status 0 only if M is 0.
 * Needs root (the pagemap, /dev/teevm0, the quota parameter), the Debian
 * xtest TAs in /lib/optee_armtz, and OP-TEE's invoke-tests pseudo TA.
 *
 * The same attacks run in process, against the series' own code and
 * OP-TEE's model (tools/model): built with ADV_IN_PROCESS, the platform
 * below (the device, physical addresses, module parameters, another
 * process, the kernel's log) is tests/kernel/adv_platform.cpp's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/tee.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "linux/tee_vm.h"


#define PG 4096u

/* OP-TEE SMC function ids and returns (optee_smc.h) */
#define SMC_CALLS_UID		0xbf00ff01u
#define SMC_GET_SHM_CONFIG	0xb2000007u
#define SMC_ENABLE_SHM_CACHE	0xb200000bu
#define SMC_DISABLE_SHM_CACHE	0xb200000au
#define SMC_VM_CREATED		0xb200000du
#define SMC_VM_DESTROYED	0xb200000eu
#define SMC_CALL_WITH_ARG	0x32000004u
#define SMC_CALL_WITH_REGD_ARG	0x32000013u
#define SMC_RETURN_FROM_RPC	0x32000003u
#define SMC_OK			0u
#define SMC_ETHREAD_LIMIT	1u
#define SMC_ENOTAVAIL		7u
#define RPC_PREFIX		0xffff0000u
#define RPC_ALLOC		0
#define RPC_FREE		2
#define RPC_FOREIGN_INTR	4
#define RPC_CMD			5

/* OP-TEE messages (optee_msg.h, optee_rpc_cmd.h) */
#define CMD_OPEN_SESSION	0
#define CMD_INVOKE		1
#define CMD_CLOSE_SESSION	2
#define CMD_REGISTER_SHM	4
#define CMD_UNREGISTER_SHM	5
#define ATTR_VALUE_IN		0x1
#define ATTR_VALUE_OUT		0x2
#define ATTR_RMEM_IN		0x5
#define ATTR_RMEM_OUT		0x6
#define ATTR_RMEM_INOUT		0x7
#define ATTR_TMEM_IN		0x9
#define ATTR_TMEM_OUT		0xa
#define ATTR_TMEM_INOUT		0xb
#define ATTR_META		(1u << 8)
#define ATTR_NONCONTIG		(1u << 9)
#define RPC_LOAD_TA		0
#define RPC_FS			2
#define RPC_GET_TIME		3
#define RPC_NOTIFICATION	4
#define RPC_SUSPEND		5
#define RPC_SHM_ALLOC		6
#define RPC_SHM_FREE		7
#define TEEC_SUCCESS		0u
#define TEEC_ERROR_GENERIC	0xffff0000u
#define TEEC_ERROR_ITEM_NOT_FOUND 0xffff0008u
#define TEEC_ERROR_NOT_SUPPORTED 0xffff000au
#define TEEC_ERROR_BAD_PARAMETERS 0xffff0006u

/* OP-TEE's invoke-tests pseudo TA and the os_test TA of optee_test */
static const uint8_t pta_invoke_tests[16] = {
	0xd9, 0x6a, 0x5b, 0x40, 0xc3, 0xe5, 0x21, 0xe3,
	0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b };
#define PTA_CMD_PARAMS		1	/* 1 in/out memref: byte 0 = sum of bytes */
static const uint8_t ta_os_test[16] = {
	0x5b, 0x9e, 0x0e, 0x40, 0x26, 0x36, 0x11, 0xe1,
	0xad, 0x9e, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b };
#define OS_TEST_CMD_WAIT	9	/* TEE_Wait(value a ms) */

struct prm {
	uint64_t attr;
	uint64_t a, b, c; /* tmem: buf_ptr (here: pin handle), size, shm_ref */
};

#define MAXP 6
struct msg {
	uint32_t cmd, func, session, cancel_id, pad, ret, ret_origin, num_params;
	struct prm p[MAXP];
};
#define MSG_SIZE(n) (32u + 32u * (n))

/* ---- results ------------------------------------------------------------ */

static int passed, failed, debug;

static void check(int ok, const char *what, const char *fmt, ...)
{
	char detail[256] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("adversarial-vmm: %s: %s: %s\n", ok ? "ok" : "FAIL", what, detail);
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static void die(const char *what)
{
	printf("adversarial-vmm: FAIL: %s: %s\n", what, strerror(errno));
	printf("adversarial-vmm: %d passed, %d failed\n", passed, failed + 1);
	exit(1);
}

/* ---- memory helpers ------------------------------------------------------- */

/* A page-aligned, locked buffer of n pages, filled with @fill */
static uint8_t *pages(unsigned int n, int fill)
{
	uint8_t *p = mmap(NULL, (size_t)n * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, fill, (size_t)n * PG);
	mlock(p, (size_t)n * PG);
	return p;
}

/*
 * ---- the platform: the board's kernel, or the harness in process ----------
 *
 * adv_open()/adv_ioctl()/adv_close(): /dev/teevm0 (-errno on failure);
 * adv_phys_of(): the physical address of a page of ours; adv_pinned_kb():
 * the process's pinned memory (VmPin); adv_param(): set a module parameter
 * of the driver, giving back the old value; adv_child(): run fn as another
 * process would (its own address space; adv_drop_cap() and
 * adv_set_memlock() then change that process only), its exit status;
 * adv_log_mark()/adv_log_warned(): whether the kernel warned since;
 * adv_attack(): an attack begins (in process, its ioctls are recorded as a
 * seed of the fuzzer: tests/fuzz/kernel_ops.hpp).
 */
#ifdef ADV_IN_PROCESS
#include "adv_platform.h"
#else
static int adv_open(void)
{
	int fd = open("/dev/teevm0", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int adv_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static void adv_close(int fd)
{
	close(fd);
}

/* Through the pagemap (root only) */
static uint64_t adv_phys_of(const void *va)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &e, 8, ((uintptr_t)va / PG) * 8) != 8)
		return 0;
	close(fd);
	if (!(e & (1ull << 63)) || !(e & ((1ull << 55) - 1)))
		return 0;
	return (e & ((1ull << 55) - 1)) * PG + ((uintptr_t)va & (PG - 1));
}

/* VmPin of /proc/self/status, in kB */
static long adv_pinned_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int adv_param(const char *name, unsigned int value, unsigned int *old)
{
	char path[96];
	unsigned int was = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/optee/parameters/%s", name);
	f = fopen(path, "r+");
	if (!f)
		return -errno;
	if (fscanf(f, "%u", &was) != 1) {
		fclose(f);
		return -EINVAL;
	}
	rewind(f);
	fprintf(f, "%u\n", value);
	if (fclose(f))
		return -errno;
	if (old)
		*old = was;
	return 0;
}

static int adv_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st = 0;

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Drop @cap from the effective set of this process */
static int adv_drop_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap / 32].effective &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &h, d);
}

static int adv_set_memlock(unsigned long bytes)
{
	struct rlimit rl = { bytes, bytes };

	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

static const char *adv_ta_dir(void)
{
	return "/lib/optee_armtz";
}

static void adv_attack(const char *name)
{
	(void)name;
}

static long adv_log_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Whether the kernel warned since @mark; its lines of optee, as notes */
static int adv_log_warned(long mark)
{
	char line[512];
	int warned = 0;
	ssize_t n;

	while (mark >= 0 && (n = read((int)mark, line, sizeof(line) - 1)) > 0) {
		line[n] = 0;
		if (strstr(line, "WARNING") || strstr(line, "leaking"))
			warned = 1;
		if (strstr(line, "optee"))
			printf("adversarial-vmm: note: kmsg: %s", strchr(line, ';') ?
			       strchr(line, ';') + 1 : line);
	}
	if (mark >= 0)
		close((int)mark);
	return warned;
}
#endif

static uint64_t phys_of(const void *va)
{
	uint64_t pa = adv_phys_of(va);

	if (!pa)
		die("no physical address (not root?)");
	return pa;
}

static int set_quota(unsigned int pages)
{
	return adv_param("vm_max_pages", pages, NULL);
}

/* ---- the transport: one VM context through the uapi under test ----------- */

struct shm {
	uint64_t cookie;
	uint32_t handle;
	uint8_t *buf;
	size_t len;
};

struct vm {
	int fd;
	uint32_t client;
	uint64_t next_cookie;
	struct shm shm[64];	/* the supplicant's SHM_ALLOC buffers */
};

struct info {
	uint32_t client, pinned, kernel, max, pins, held, suspended;
	int64_t smcs;	/* -1: the uapi has no counter */
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	return adv_ioctl(fd, req, arg);
}

/* One yielding call in progress */
struct call {
	struct msg *m;		/* the caller's message, updated at completion */
	uint64_t regs[8];	/* OP-TEE's last answer */
	struct msg req;		/* RPC_CMD: OP-TEE's request */
};


static int vm_open(struct vm *vm)
{
	struct tee_ioctl_vm_info i = { 0 };

	memset(vm, 0, sizeof(*vm));
	vm->fd = adv_open();
	if (vm->fd < 0)
		return vm->fd;
	if (xioctl(vm->fd, TEE_IOC_VM_INFO, &i))
		return -EIO;
	vm->client = i.client_id;
	vm->next_cookie = 0x1000;
	return 0;
}

static void vm_close(struct vm *vm)
{
	adv_close(vm->fd);
}

static int vm_info(struct vm *vm, struct info *i)
{
	struct tee_ioctl_vm_info o = { 0 };
	int rc = xioctl(vm->fd, TEE_IOC_VM_INFO, &o);

	*i = (struct info){ o.client_id, o.pinned_pages, o.kernel_pages, o.max_pages,
			    o.num_pins, o.held, o.suspended_threads, (int64_t)o.smcs };
	return rc;
}

static int vm_pin_vas(struct vm *vm, const uint64_t *vas, unsigned int n,
		      uint32_t off, uint64_t size, uint32_t *h)
{
	struct tee_ioctl_vm_pin p = { (uintptr_t)vas, size, n, off, 0, 0 };
	int rc = xioctl(vm->fd, TEE_IOC_VM_PIN, &p);

	if (!rc)
		*h = p.handle;
	return rc;
}

static int vm_release(struct vm *vm, uint32_t h)
{
	struct tee_ioctl_vm_release r = { .handle = h };

	return xioctl(vm->fd, TEE_IOC_VM_RELEASE, &r);
}

static int vm_call_raw(struct vm *vm, uint64_t *regs, void *msg, uint32_t *size)
{
	struct tee_ioctl_vm_call c = { { 0 }, (uintptr_t)msg, size ? *size : 0, 0 };
	int rc;

	memcpy(c.regs, regs, sizeof(c.regs));
	rc = xioctl(vm->fd, TEE_IOC_VM_CALL, &c);
	if (!rc) {
		memcpy(regs, c.regs, sizeof(c.regs));
		if (size)
			*size = c.msg_size;
	}
	return rc;
}

static int vm_fast(struct vm *vm, uint64_t *regs)
{
	return vm_call_raw(vm, regs, NULL, NULL);
}

/* After an SMC: the completed message, or OP-TEE's RPC_CMD request */
static void call_took(struct call *c, const struct msg *buf, uint32_t size)
{
	if ((c->regs[0] & 0xffff0000u) == RPC_PREFIX) {
		memset(&c->req, 0, sizeof(c->req));
		memcpy(&c->req, buf, size < sizeof(c->req) ? size : sizeof(c->req));
	} else if (size) {
		memcpy(c->m, buf, size < sizeof(*c->m) ? size : sizeof(*c->m));
	}
}

static int call_start(struct vm *vm, struct call *c, struct msg *m)
{
	struct msg buf = *m;
	uint32_t size = sizeof(buf);
	int rc;

	c->m = m;
	memset(c->regs, 0, sizeof(c->regs));
	c->regs[0] = SMC_CALL_WITH_ARG;
	rc = vm_call_raw(vm, c->regs, &buf, &size);
	if (!rc)
		call_took(c, &buf, size);
	return rc;
}

static int read_request(struct vm *vm, struct call *c)
{
	(void)vm;
	(void)c;
	return 0; /* the request came with the RPC */
}

static int call_resume(struct vm *vm, struct call *c, const uint64_t *regs,
		       const struct msg *ans)
{
	struct msg buf;
	uint32_t size = 0;
	uint64_t r[8] = { SMC_RETURN_FROM_RPC };
	unsigned int k;
	int rc;

	for (k = 1; k < 7; k++)
		r[k] = regs ? regs[k] : 0;
	r[3] = c->regs[3];
	memset(&buf, 0, sizeof(buf));
	if (ans) {
		buf = *ans;
		size = sizeof(buf);
	} else {
		size = sizeof(buf);
	}
	rc = vm_call_raw(vm, r, &buf, &size);
	if (!rc) {
		memcpy(c->regs, r, sizeof(r));
		call_took(c, &buf, size);
	}
	return rc;
}

static void rpc_free(struct vm *vm, uint64_t cookie)
{
	(void)vm;
	(void)cookie; /* the kernel's buffer: the kernel frees it */
}

static void call_end(struct vm *vm, struct call *c)
{
	(void)vm;
	(void)c;
}


static int pin_buf(struct vm *vm, const void *buf, size_t len, uint32_t *h)
{
	uintptr_t start = (uintptr_t)buf & ~(uintptr_t)(PG - 1);
	unsigned int n = (unsigned int)(((uintptr_t)buf + len - start + PG - 1) / PG), k;
	uint64_t *vas = calloc(n, 8);
	int rc;

	for (k = 0; k < n; k++)
		vas[k] = start + (uint64_t)k * PG;
	rc = vm_pin_vas(vm, vas, n, (uint32_t)((uintptr_t)buf - start), len, h);
	free(vas);
	return rc;
}

static int64_t smcs(struct vm *vm)
{
	struct info i;

	vm_info(vm, &i);
	return i.smcs;
}

/* "OP-TEE was not reached": the SMC count did not move (or, on the old
 * uapi, which counts nothing, we cannot tell) */
static int untouched(int64_t before, int64_t after)
{
	return before < 0 || before == after;
}

/* ---- a minimal supplicant: what OP-TEE asks of a normal world ----------- */

static struct shm *shm_find(struct vm *vm, uint64_t cookie)
{
	unsigned int k;

	for (k = 0; k < 64; k++)
		if (vm->shm[k].cookie == cookie && vm->shm[k].buf)
			return vm->shm + k;
	return NULL;
}

static void uuid_path(const void *octets, char *path, size_t len)
{
	const uint8_t *d = octets;

	snprintf(path, len,
		 "%s/%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x.ta", adv_ta_dir(),
		 d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10],
		 d[11], d[12], d[13], d[14], d[15]);
}

static uint32_t load_ta(struct vm *vm, const struct msg *req, struct msg *ans)
{
	char path[256];
	struct stat st;
	struct shm *s;
	int fd;

	uuid_path(&req->p[0].a, path, sizeof(path));
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		return TEEC_ERROR_ITEM_NOT_FOUND;
	}
	ans->p[1].b = st.st_size; /* tmem.size and rmem.size share a place */
	s = shm_find(vm, req->p[1].c);
	if ((req->p[1].attr & 0xff) == ATTR_RMEM_OUT && s) {
		if ((size_t)st.st_size > s->len ||
		    pread(fd, s->buf, st.st_size, 0) != st.st_size) {
			close(fd);
			return TEEC_ERROR_GENERIC;
		}
	}
	close(fd);
	return TEEC_SUCCESS;
}

static uint32_t shm_alloc(struct vm *vm, const struct msg *req, struct msg *ans)
{
	size_t len = (req->p[0].b + PG - 1) & ~(size_t)(PG - 1);
	unsigned int k;
	uint32_t h;

	for (k = 0; k < 64 && vm->shm[k].buf; k++)
		;
	if (k == 64 || !len)
		return TEEC_ERROR_GENERIC;
	vm->shm[k].buf = pages(len / PG, 0);
	if (pin_buf(vm, vm->shm[k].buf, len, &h)) {
		munmap(vm->shm[k].buf, len);
		vm->shm[k].buf = NULL;
		return TEEC_ERROR_GENERIC;
	}
	vm->shm[k].len = len;
	vm->shm[k].handle = h;
	vm->shm[k].cookie = vm->next_cookie++;
	ans->p[0] = (struct prm){ ATTR_TMEM_OUT | ATTR_NONCONTIG, h, req->p[0].b,
				  vm->shm[k].cookie };
	return TEEC_SUCCESS;
}

static uint32_t shm_free(struct vm *vm, const struct msg *req)
{
	struct shm *s = shm_find(vm, req->p[0].b);

	if (!s)
		return TEEC_ERROR_GENERIC;
	vm_release(vm, s->handle);
	munmap(s->buf, s->len);
	memset(s, 0, sizeof(*s));
	return TEEC_SUCCESS;
}

/*
 * OP-TEE's REE FS in memory, enough for what loading a TA stores (the TA
 * version database): files by name, descriptors are indexes + 1.
 */
#define NFILES 16
static struct file {
	char name[128];
	uint8_t *data;
	size_t len;
} files[NFILES];

static uint8_t *memref(struct vm *vm, const struct prm *p, size_t *len)
{
	struct shm *s = shm_find(vm, p->c);

	if (!s || p->a > s->len || p->b > s->len - p->a)
		return NULL;
	*len = p->b;
	return s->buf + p->a;
}

static struct file *file_named(struct vm *vm, const struct prm *p, int create)
{
	size_t len, k;
	uint8_t *name = memref(vm, p, &len);
	struct file *free_slot = NULL;

	if (!name)
		return NULL;
	len = strnlen((char *)name, len); /* a string in a bigger buffer */
	if (!len || len >= sizeof(files[0].name))
		return NULL;
	for (k = 0; k < NFILES; k++) {
		if (files[k].name[0] && strlen(files[k].name) == len &&
		    !memcmp(files[k].name, name, len))
			return files + k;
		if (!files[k].name[0] && !free_slot)
			free_slot = files + k;
	}
	if (!create || !free_slot)
		return NULL;
	memcpy(free_slot->name, name, len);
	free_slot->name[len] = 0;
	return free_slot;
}

static uint32_t ree_fs(struct vm *vm, const struct msg *req, struct msg *ans)
{
	uint64_t op = req->p[0].a, fd = req->p[0].b, off = req->p[0].c;
	struct file *f = fd >= 1 && fd <= NFILES ? files + fd - 1 : NULL;
	struct file *g;
	size_t len;
	uint8_t *buf;

	switch (op) {
	case 0: /* OPEN */
	case 1: /* CREATE */
		f = file_named(vm, &req->p[1], op == 1);
		if (!f)
			return TEEC_ERROR_ITEM_NOT_FOUND;
		if (op == 1) {
			free(f->data);
			f->data = NULL;
			f->len = 0;
		}
		ans->p[2].a = f - files + 1;
		return TEEC_SUCCESS;
	case 2: /* CLOSE */
		return TEEC_SUCCESS;
	case 3: /* READ */
		buf = memref(vm, &req->p[1], &len);
		if (!f || !buf)
			return TEEC_ERROR_GENERIC;
		len = off >= f->len ? 0 : (f->len - off < len ? f->len - off : len);
		memcpy(buf, f->data + off, len);
		ans->p[1].b = len;
		return TEEC_SUCCESS;
	case 4: /* WRITE */
		buf = memref(vm, &req->p[1], &len);
		if (!f || !buf || off + len > (1u << 20))
			return TEEC_ERROR_GENERIC;
		if (off + len > f->len) {
			f->data = realloc(f->data, off + len);
			memset(f->data + f->len, 0, off + len - f->len);
			f->len = off + len;
		}
		memcpy(f->data + off, buf, len);
		return TEEC_SUCCESS;
	case 5: /* TRUNCATE */
		if (!f || off > (1u << 20))
			return TEEC_ERROR_GENERIC;
		f->data = realloc(f->data, off ? off : 1);
		if (off > f->len)
			memset(f->data + f->len, 0, off - f->len);
		f->len = off;
		return TEEC_SUCCESS;
	case 6: /* REMOVE */
		f = file_named(vm, &req->p[1], 0);
		if (!f)
			return TEEC_ERROR_ITEM_NOT_FOUND;
		free(f->data);
		memset(f, 0, sizeof(*f));
		return TEEC_SUCCESS;
	case 7: /* RENAME */
		f = file_named(vm, &req->p[1], 0);
		if (!f)
			return TEEC_ERROR_ITEM_NOT_FOUND;
		g = file_named(vm, &req->p[2], 0);
		if (g && g != f) {
			if (!fd)
				return 0xffff3001u; /* TEE_ERROR_ACCESS_CONFLICT */
			free(g->data);
			memset(g, 0, sizeof(*g));
		}
		buf = memref(vm, &req->p[2], &len);
		if (!buf)
			return TEEC_ERROR_GENERIC;
		len = strnlen((char *)buf, len);
		if (len >= sizeof(f->name))
			return TEEC_ERROR_GENERIC;
		memcpy(f->name, buf, len);
		f->name[len] = 0;
		return TEEC_SUCCESS;
	default: /* directories: none */
		return TEEC_ERROR_ITEM_NOT_FOUND;
	}
}

static void supplicant(struct vm *vm, const struct msg *req, struct msg *ans)
{
	struct timespec ts;

	*ans = *req;
	ans->ret_origin = 2; /* TEEC_ORIGIN_COMMS */
	switch (req->cmd) {
	case RPC_LOAD_TA:
		ans->ret = load_ta(vm, req, ans);
		break;
	case RPC_SHM_ALLOC:
		ans->ret = shm_alloc(vm, req, ans);
		break;
	case RPC_SHM_FREE:
		ans->ret = shm_free(vm, req);
		break;
	case RPC_FS:
		ans->ret = ree_fs(vm, req, ans);
		break;
	case RPC_SUSPEND:
	case RPC_NOTIFICATION:
		ans->ret = TEEC_SUCCESS;
		break;
	case RPC_GET_TIME:
		clock_gettime(CLOCK_REALTIME, &ts);
		ans->p[0].a = ts.tv_sec;
		ans->p[0].b = ts.tv_nsec;
		ans->ret = TEEC_SUCCESS;
		break;
	default:
		ans->ret = TEEC_ERROR_NOT_SUPPORTED;
	}
	if (debug)
		printf("adversarial-vmm: debug: rpc cmd %u p0 %#llx/%#llx/%#llx/%#llx -> ret %#x\n",
		       req->cmd, (unsigned long long)req->p[0].attr,
		       (unsigned long long)req->p[0].a, (unsigned long long)req->p[0].b,
		       (unsigned long long)req->p[0].c, ans->ret),
		printf("adversarial-vmm: debug:   p1 %#llx/%#llx/%#llx/%#llx shm %p\n",
		       (unsigned long long)req->p[1].attr, (unsigned long long)req->p[1].a,
		       (unsigned long long)req->p[1].b, (unsigned long long)req->p[1].c,
		       (void *)shm_find(vm, req->p[1].c));
}

/* ---- driving a yielding call ------------------------------------------- */

/* Ways an attack bends the protocol; all NULL/0 is an honest VMM */
struct hooks {
	/* Return 1 at the n-th RPC_CMD (1-based) of command @stop_cmd (-1:
	 * any), leaving the thread suspended */
	int stop_at;
	int stop_cmd;
	/* Replace the answer to an RPC_CMD the supplicant made */
	void (*answer)(struct vm *vm, const struct msg *req, struct msg *ans, void *arg);
	/* Replace the VMM registers of the answer to an RPC_ALLOC */
	void (*alloc)(struct vm *vm, uint64_t *regs, void *arg);
	void *arg;
	/* Return 1 at the next RPC_ALLOC, before answering it */
	int stop_alloc;
	/* Return 1 at the next RPC_FREE, before resuming; the cookie in @freed */
	int stop_free;
	uint64_t freed;
	int cmds;	/* out: RPC_CMDs served */
	int last_rc;	/* out: the ioctl error that ended the call, if any */
};

/*
 * Serve OP-TEE's RPCs for the call in @c until it completes: 0, 1 when
 * stopped (hooks), < 0 an ioctl error, or 0x10000 | a0 when OP-TEE refused
 * the call itself. Without hooks (@h NULL), answered honestly: that is how
 * a call left suspended is finished, so that it does not keep one of the
 * partition's few OP-TEE threads.
 */
static int serve_call(struct vm *vm, struct call *c, struct hooks *h, int rc)
{
	struct hooks none = { 0 };
	int rounds;

	if (!h)
		h = &none;
	for (rounds = 0; !rc && rounds < 100000; rounds++) {
		uint64_t regs[8] = { 0 };
		struct msg ans;

		if ((c->regs[0] & 0xffff0000u) != RPC_PREFIX) {
			call_end(vm, c);
			return c->regs[0] == SMC_OK ? 0 : (int)(0x10000 | c->regs[0]);
		}
		switch (c->regs[0] & 0xffff) {
		case RPC_ALLOC:
			if (h->stop_alloc) {
				h->stop_alloc = 0;
				return 1;
			}
			regs[1] = 1; /* a buffer, please */
			regs[5] = vm->next_cookie++;
			if (h->alloc)
				h->alloc(vm, regs, h->arg);
			rc = call_resume(vm, c, regs, NULL);
			break;
		case RPC_FREE:
			if (h->stop_free) {
				h->stop_free = 0;
				h->freed = ((uint64_t)(uint32_t)c->regs[1] << 32) |
					   (uint32_t)c->regs[2];
				return 1;
			}
			rpc_free(vm, ((uint64_t)(uint32_t)c->regs[1] << 32) |
					     (uint32_t)c->regs[2]);
			rc = call_resume(vm, c, NULL, NULL);
			break;
		case RPC_CMD:
			rc = read_request(vm, c);
			if (rc)
				break;
			h->cmds++;
			if (h->stop_at && (h->stop_cmd < 0 || (int)c->req.cmd == h->stop_cmd) &&
			    !--h->stop_at)
				return 1;
			supplicant(vm, &c->req, &ans);
			if (h->answer)
				h->answer(vm, &c->req, &ans, h->arg);
			rc = call_resume(vm, c, NULL, &ans);
			break;
		default: /* FOREIGN_INTR */
			rc = call_resume(vm, c, NULL, NULL);
		}
	}
	h->last_rc = rc;
	return rc ? rc : -ETIMEDOUT;
}

static int finish_call(struct vm *vm, struct call *c)
{
	return serve_call(vm, c, NULL, 0);
}

/* CALL_WITH_ARG of @m, served by serve_call() with @h, @m updated */
static int run_call(struct vm *vm, struct msg *m, struct hooks *h, struct call *c)
{
	int rc, tries;

	memset(c, 0, sizeof(*c));
	for (tries = 0; tries < 2000; tries++) {
		rc = call_start(vm, c, m);
		if (rc || c->regs[0] != SMC_ETHREAD_LIMIT)
			break;
		call_end(vm, c);
		usleep(500);
	}
	return serve_call(vm, c, h, rc);
}

static void msg_init(struct msg *m, uint32_t cmd, uint32_t n)
{
	memset(m, 0, sizeof(*m));
	m->cmd = cmd;
	m->num_params = n;
}

/* OPEN_SESSION of the TA @uuid, public login */
static void msg_open_session(struct msg *m, const uint8_t uuid[16])
{
	msg_init(m, CMD_OPEN_SESSION, 2);
	m->p[0].attr = ATTR_VALUE_IN | ATTR_META;
	memcpy(&m->p[0].a, uuid, 16);
	m->p[1].attr = ATTR_VALUE_IN | ATTR_META;
}

/* OPEN_SESSION of a TA or pseudo TA; the session id, or 0 */
static uint32_t open_session(struct vm *vm, const uint8_t *uuid)
{
	struct call c;
	struct msg m;

	msg_open_session(&m, uuid);
	if (run_call(vm, &m, NULL, &c) || m.ret)
		return 0;
	return m.session;
}

static void close_session(struct vm *vm, uint32_t session)
{
	struct call c;
	struct msg m;

	msg_init(&m, CMD_CLOSE_SESSION, 0);
	m.session = session;
	run_call(vm, &m, NULL, &c);
}

/* The pseudo TA's PARAMS command over one in/out memref @p: byte 0 of the
 * buffer becomes the sum of its bytes */
static int pta_sum(struct vm *vm, uint32_t session, const struct prm *p, uint32_t *ret)
{
	struct call c;
	struct msg m;
	int rc;

	msg_init(&m, CMD_INVOKE, 1);
	m.session = session;
	m.func = PTA_CMD_PARAMS;
	m.p[0] = *p;
	rc = run_call(vm, &m, NULL, &c);
	*ret = m.ret;
	return rc;
}

static int register_shm(struct vm *vm, uint32_t handle, uint64_t size, uint64_t cookie,
			uint32_t *ret)
{
	struct call c;
	struct msg m;
	int rc;

	msg_init(&m, CMD_REGISTER_SHM, 1);
	m.p[0] = (struct prm){ ATTR_TMEM_OUT | ATTR_NONCONTIG, handle, size, cookie };
	rc = run_call(vm, &m, NULL, &c);
	*ret = m.ret;
	return rc;
}

static int unregister_shm(struct vm *vm, uint64_t cookie, uint32_t *ret)
{
	struct call c;
	struct msg m;
	int rc;

	msg_init(&m, CMD_UNREGISTER_SHM, 1);
	m.p[0] = (struct prm){ ATTR_RMEM_IN, 0, 0, cookie };
	rc = run_call(vm, &m, NULL, &c);
	*ret = m.ret;
	return rc;
}

/*
 * A victim: a page of ours that no pin covers, 16 bytes of 1 at its
 * start, and a page list naming it, in another unpinned page of ours.
 * If OP-TEE runs the pseudo TA's sum over it, byte 0 becomes 16.
 */
struct victim {
	uint8_t *page;
	uint64_t *list;
	uint64_t page_pa, list_pa;
};

static void victim_init(struct victim *v)
{
	v->page = pages(1, 0);
	memset(v->page, 1, 16);
	v->list = (uint64_t *)pages(1, 0);
	v->page_pa = phys_of(v->page);
	v->list[0] = v->page_pa;
	v->list_pa = phys_of(v->list);
}

/* ---- the attacks ------------------------------------------------------------ */

struct ctx {
	struct vm vm;
	uint32_t pta;	/* a session of the invoke-tests pseudo TA */
};

/* Raw physical addresses where OP-TEE takes one: call, REGISTER_SHM */
static void attack_raw_tmem(struct ctx *x)
{
	struct prm p = { ATTR_TMEM_INOUT | ATTR_NONCONTIG, 0, 16, 0 };
	struct victim v;
	uint32_t ret = 0;
	int64_t s0;
	int rc;

	victim_init(&v);
	p.a = v.list_pa;
	s0 = smcs(&x->vm);
	rc = pta_sum(&x->vm, x->pta, &p, &ret);
	check(v.page[0] == 1 && rc < 0 && rc != -ETIMEDOUT && untouched(s0, smcs(&x->vm)),
	      "raw physical address in a call's TMEM",
	      "ioctl %d (%s), victim byte %u (16: OP-TEE wrote a page nobody pinned)",
	      rc, rc < 0 ? strerror(-rc) : "ok", v.page[0]);

	memset(v.page, 1, 16);
	{
		struct call c;
		struct msg m;
		struct info i;

		msg_init(&m, CMD_REGISTER_SHM, 1);
		m.p[0] = (struct prm){ ATTR_TMEM_OUT | ATTR_NONCONTIG, v.list_pa, 16, 0x5157 };
		s0 = smcs(&x->vm);
		rc = run_call(&x->vm, &m, NULL, &c);
		vm_info(&x->vm, &i);
		check(rc < 0 && rc != -ETIMEDOUT && untouched(s0, smcs(&x->vm)),
		      "raw physical address as REGISTER_SHM's page list",
		      "ioctl %d (%s), OP-TEE ret %#x, pinned pages %u", rc,
		      rc < 0 ? strerror(-rc) : "ok", m.ret, i.pinned);
		if (!rc && !m.ret) {
			struct prm r = { ATTR_RMEM_INOUT, 0, 16, 0x5157 };

			pta_sum(&x->vm, x->pta, &r, &ret);
			printf("adversarial-vmm: note: through the registered raw page the pseudo TA "
			       "wrote the victim: byte %u\n", v.page[0]);
			unregister_shm(&x->vm, 0x5157, &ret);
		}
	}
	munmap(v.page, PG);
	munmap(v.list, PG);
}

/* A SHM_ALLOC answer naming a raw physical address (TA loading asks one) */
static void raw_shm_alloc_answer(struct vm *vm, const struct msg *req, struct msg *ans,
				 void *arg)
{
	struct victim *v = arg;

	(void)vm;
	if (req->cmd == RPC_SHM_ALLOC) {
		ans->ret = TEEC_SUCCESS;
		ans->p[0] = (struct prm){ ATTR_TMEM_OUT | ATTR_NONCONTIG, v->list_pa,
					  req->p[0].b, 0x7777 };
	}
}

static void attack_raw_shm_alloc(struct ctx *x)
{
	struct hooks h = { .answer = raw_shm_alloc_answer };
	struct victim v;
	struct call c;
	struct msg m;
	int rc;

	victim_init(&v);
	h.arg = &v;
	msg_open_session(&m, ta_os_test);
	rc = run_call(&x->vm, &m, &h, &c);
	/* OP-TEE accepting the raw list asks LOAD_TA again with the buffer */
	check(rc < 0 && rc != -ETIMEDOUT && h.cmds <= 2,
	      "raw physical address in a SHM_ALLOC answer",
	      "ioctl %d (%s), RPC_CMDs served %d (3 or more: OP-TEE took the raw list)",
	      rc, rc < 0 ? strerror(-rc) : "ok", h.cmds);
	if (rc < 0 && rc != -ETIMEDOUT)
		finish_call(&x->vm, &c); /* the SHM_ALLOC still waits for an answer */
	munmap(v.page, PG);
	munmap(v.list, PG);
}

/* An RPC_ALLOC reply naming a raw physical address */
static void raw_alloc_reply(struct vm *vm, uint64_t *regs, void *arg)
{
	struct victim *v = arg;

	(void)vm;
	regs[1] = v->page_pa >> 32;
	regs[2] = (uint32_t)v->page_pa;
}

static void attack_raw_alloc_reply(struct ctx *x)
{
	struct hooks h = { .alloc = raw_alloc_reply, .stop_at = 1, .stop_cmd = -1 };
	struct victim v;
	struct call c;
	struct msg m;
	int rc;

	victim_init(&v);
	memset(v.page, 0xa5, PG);
	h.arg = &v;
	msg_open_session(&m, ta_os_test);
	rc = run_call(&x->vm, &m, &h, &c);
	/* If OP-TEE took the raw page as its RPC argument, it wrote a LOAD_TA
	 * request there: cmd 0 and 2 parameters */
	check(((uint32_t *)v.page)[7] == 0xa5a5a5a5u,
	      "raw physical address in an RPC_ALLOC reply",
	      "run %d, victim num_params word %#x (2: OP-TEE wrote its request there)",
	      rc, ((uint32_t *)v.page)[7]);
	if (rc == 1)
		finish_call(&x->vm, &c);
	munmap(v.page, PG);
	munmap(v.list, PG);
}

/* TMEM size or offset past the pinned object */
static void attack_past_pin(struct ctx *x)
{
	uint8_t *buf = pages(2, 1);
	uint32_t h, ret = 0;
	struct prm p;
	int64_t s0;
	int rc;

	if (pin_buf(&x->vm, buf, PG, &h)) {
		check(0, "size past the pin", "pin failed");
		return;
	}
	p = (struct prm){ ATTR_TMEM_INOUT | ATTR_NONCONTIG, h, 2 * PG, 0 };
	s0 = smcs(&x->vm);
	rc = pta_sum(&x->vm, x->pta, &p, &ret);
	check(rc == -EINVAL && untouched(s0, smcs(&x->vm)), "TMEM size past the pinned object",
	      "ioctl %d (%s), OP-TEE ret %#x", rc, rc < 0 ? strerror(-rc) : "reached OP-TEE",
	      ret);
	{
		uint32_t h2;

		rc = pin_buf(&x->vm, buf + 100, PG, &h2);
		check(rc == 0, "a pin of 4096 bytes at offset 100 spans 2 pages", "pin %d", rc);
		if (!rc) {
			p = (struct prm){ ATTR_TMEM_INOUT | ATTR_NONCONTIG, h2, PG + 1, 0 };
			s0 = smcs(&x->vm);
			rc = pta_sum(&x->vm, x->pta, &p, &ret);
			check(rc == -EINVAL && untouched(s0, smcs(&x->vm)),
			      "TMEM one byte past an offset pin", "ioctl %d (%s)", rc,
			      rc < 0 ? strerror(-rc) : "reached OP-TEE");
			vm_release(&x->vm, h2);
		}
	}
	{
		uint32_t h3;

		rc = pin_buf(&x->vm, buf, 2 * PG, &h3);
		if (!rc) {
			struct info i;

			vm_info(&x->vm, &i);
			vm_release(&x->vm, h3);
		}
	}
	vm_release(&x->vm, h);
	munmap(buf, 2 * PG);
}

/* Release a registered pin before UNREGISTER_SHM: OP-TEE still holds it */
static void attack_release_registered(struct ctx *x)
{
	uint8_t *buf = pages(1, 0);
	struct info i0, i1, i2;
	uint32_t h, ret = 0;
	int rc;

	memset(buf, 1, 16);
	vm_info(&x->vm, &i0);
	if (pin_buf(&x->vm, buf, PG, &h) || register_shm(&x->vm, h, PG, 0xabc1, &ret) || ret) {
		check(0, "release of a registered pin", "could not register (ret %#x)", ret);
		return;
	}
	rc = vm_release(&x->vm, h);
	vm_info(&x->vm, &i1);
	check(rc == 0 && i1.pinned == i0.pinned + 1, "release of a registered pin before UNREGISTER_SHM",
	      "release %d; pinned pages %u -> %u (must stay: OP-TEE holds them)", rc, i0.pinned,
	      i1.pinned);
	{
		struct prm r = { ATTR_RMEM_INOUT, 0, 16, 0xabc1 };

		rc = pta_sum(&x->vm, x->pta, &r, &ret);
		check(!rc && !ret && buf[0] == 16, "the released, registered pages stay usable by OP-TEE",
		      "invoke %d ret %#x, byte %u (16)", rc, ret, buf[0]);
	}
	rc = unregister_shm(&x->vm, 0xabc1, &ret);
	vm_info(&x->vm, &i2);
	check(!rc && !ret && i2.pinned == i0.pinned, "UNREGISTER_SHM lets the pages go",
	      "unregister %d ret %#x; pinned pages %u", rc, ret, i2.pinned);
	munmap(buf, PG);
}

/* An RPC argument buffer kept by ENABLE_SHM_CACHE */
static void attack_release_cached(struct ctx *x)
{
	uint64_t r[8] = { SMC_ENABLE_SHM_CACHE };
	struct info i0, i1, i2;
	int rc, n;

	rc = vm_fast(&x->vm, r);
	if (rc || r[0] != SMC_OK) {
		check(0, "ENABLE_SHM_CACHE", "rc %d a0 %#llx", rc, (unsigned long long)r[0]);
		return;
	}
	/* A call that makes OP-TEE allocate its RPC argument (LOAD_TA of an
	 * unknown TA), which the cache keeps */
	{
		static const uint8_t nosuch[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
						    15, 16 };
		open_session(&x->vm, nosuch);
	}
	vm_info(&x->vm, &i0);
	(void)n;
	i1 = i0;
	check(i0.held >= 1 && i0.kernel >= 1,
	      "a buffer OP-TEE caches (ENABLE_SHM_CACHE) is the kernel's, out of the VMM's reach",
	      "held %u, kernel pages %u", i0.held, i0.kernel);
	for (n = 0; n < 64; n++) {
		uint64_t d[8] = { SMC_DISABLE_SHM_CACHE };

		if (vm_fast(&x->vm, d) || d[0] != SMC_OK)
			break;
	}
	vm_info(&x->vm, &i2);
	check(i2.held == i0.held - 1 && i2.kernel == i0.kernel - 1,
	      "DISABLE_SHM_CACHE hands the cached buffer back, the kernel frees it",
	      "%d returned; held %u -> %u", n, i1.held, i2.held);
}

/* Writes into a suspended call's argument */
static void attack_suspended_arg(struct ctx *x)
{
	struct hooks h = { .stop_at = 1, .stop_cmd = RPC_LOAD_TA };
	static const uint8_t nosuch[16] = { 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };
	struct call c;
	struct msg m;
	int rc;

	msg_open_session(&m, nosuch);
	rc = run_call(&x->vm, &m, &h, &c);
	if (rc != 1) {
		check(0, "a suspended call", "did not stop in LOAD_TA: %d", rc);
		return;
	}
	{
		/* The only write the protocol allows now is the answer; one that
		 * rewrites input fields and the header of OP-TEE's request */
		struct msg ans = c.req;
		struct info i0, i1;

		ans.cmd = 77;
		ans.num_params = 6;
		ans.p[0].attr = ATTR_TMEM_INOUT | ATTR_NONCONTIG;
		ans.p[0].a = 0x12345678;
		ans.ret = TEEC_ERROR_ITEM_NOT_FOUND;
		vm_info(&x->vm, &i0);
		rc = call_resume(&x->vm, &c, NULL, &ans);
		vm_info(&x->vm, &i1);
		/* The kernel takes ret and the output size only: OP-TEE sees a
		 * clean "not found" and fails the open */
		while (!rc && (c.regs[0] & 0xffff0000u) == RPC_PREFIX) {
			struct msg a2;

			if ((c.regs[0] & 0xffff) == RPC_CMD) {
				supplicant(&x->vm, &c.req, &a2);
				rc = call_resume(&x->vm, &c, NULL, &a2);
			} else {
				rc = call_resume(&x->vm, &c, NULL, NULL);
			}
		}
		check(!rc && c.regs[0] == SMC_OK && m.ret == TEEC_ERROR_ITEM_NOT_FOUND,
		      "an answer rewriting a suspended call's request: only outputs taken",
		      "resume %d a0 %#llx ret %#x", rc, (unsigned long long)c.regs[0], m.ret);
		(void)i1;
	}
}

/* A partial write over a field holding a physical address, then a read */
static void attack_partial_write(struct ctx *x)
{
	uint8_t *buf = pages(1, 1);
	uint32_t h;

	if (pin_buf(&x->vm, buf, PG, &h)) {
		check(0, "partial write", "pin failed");
		return;
	}
	{
		/* Addresses never leave the kernel: a completed call shows the
		 * handle where OP-TEE got the page list's address */
		struct prm p = { ATTR_TMEM_INOUT | ATTR_NONCONTIG, h, 16, 0 };
		struct call c;
		struct msg m;
		int rc;

		msg_init(&m, CMD_INVOKE, 1);
		m.session = x->pta;
		m.func = PTA_CMD_PARAMS;
		m.p[0] = p;
		rc = run_call(&x->vm, &m, NULL, &c);
		check(!rc && m.p[0].a == h && buf[0] == 16,
		      "no physical address reaches user space (buf_ptr reads back as the handle)",
		      "run %d buf_ptr %#llx handle %u byte %u", rc,
		      (unsigned long long)m.p[0].a, h, buf[0]);
	}
	vm_release(&x->vm, h);
	munmap(buf, PG);
}

/* Objects of the wrong kind where OP-TEE takes an address */
static void attack_wrong_kind(struct ctx *x)
{
	uint8_t *buf = pages(1, 1);
	uint32_t h;
	int rc;

	if (pin_buf(&x->vm, buf, PG, &h)) {
		check(0, "wrong kinds", "pin failed");
		return;
	}
	{
		/* There are no shadow handles: a TMEM must name a pin */
		struct prm p = { ATTR_TMEM_INOUT | ATTR_NONCONTIG, 0x7fff0000, 16, 0 };
		uint32_t ret = 0;
		int64_t s0 = smcs(&x->vm);

		rc = pta_sum(&x->vm, x->pta, &p, &ret);
		check(rc == -ENOENT && untouched(s0, smcs(&x->vm)),
		      "a TMEM naming no pin (no shadow handles exist)", "ioctl %d (%s)", rc,
		      rc < 0 ? strerror(-rc) : "reached OP-TEE");
		/* a1/a2 of the VMM never reach OP-TEE: the kernel's page is the
		 * argument, whatever a1/a2 say */
		{
			struct msg m, buf;
			struct call c = { .m = &m, .regs = { SMC_CALL_WITH_ARG, 0, h, 0 } };
			uint32_t size = sizeof(buf);

			msg_init(&m, CMD_INVOKE, 1);
			m.session = x->pta;
			m.func = PTA_CMD_PARAMS;
			m.p[0] = (struct prm){ 3, 2, 3, 0 }; /* value in/out: a += b */
			buf = m;
			rc = vm_call_raw(&x->vm, c.regs, &buf, &size);
			if (!rc) {
				call_took(&c, &buf, size);
				rc = finish_call(&x->vm, &c); /* interrupts may come */
			}
			check(!rc && m.ret == 0 && m.p[0].a == 5,
			      "a1/a2 naming a pin are ignored: the argument is the kernel's",
			      "call %d ret %#x value %llu (2+3)", rc, m.ret,
			      (unsigned long long)m.p[0].a);
		}
		/* A contiguous TMEM (OP-TEE would take buf_ptr as an address) */
		p = (struct prm){ ATTR_TMEM_INOUT, h, 16, 0 };
		s0 = smcs(&x->vm);
		rc = pta_sum(&x->vm, x->pta, &p, &ret);
		check(rc == -EINVAL && untouched(s0, smcs(&x->vm)),
		      "a TMEM without NONCONTIG", "ioctl %d (%s)", rc,
		      rc < 0 ? strerror(-rc) : "reached OP-TEE");
	}
	vm_release(&x->vm, h);
	munmap(buf, PG);
}

/* Function ids that carry or return addresses, or are the hypervisor's */
static void attack_forbidden_fids(struct ctx *x)
{
	static const struct { uint32_t fid; const char *name; } fids[] = {
		{ SMC_GET_SHM_CONFIG, "GET_SHM_CONFIG" },
		{ SMC_VM_CREATED, "VM_CREATED" },
		{ SMC_VM_DESTROYED, "VM_DESTROYED" },
		{ SMC_CALL_WITH_REGD_ARG, "CALL_WITH_REGD_ARG" },
	};
	unsigned int k;

	for (k = 0; k < sizeof(fids) / sizeof(fids[0]); k++) {
		uint64_t r[8] = { fids[k].fid, x->vm.client, 0x1000, 0 };
		int64_t s0 = smcs(&x->vm);
		int rc = vm_fast(&x->vm, r);

		check(rc == -EPERM && untouched(s0, smcs(&x->vm)), fids[k].name,
		      "ioctl %d (%s)", rc, rc < 0 ? strerror(-rc) : "reached OP-TEE");
	}
	{
		uint64_t r[8] = { SMC_RETURN_FROM_RPC, 0, 0, 3 };
		int64_t s0 = smcs(&x->vm);
		int rc = vm_fast(&x->vm, r);

		check(rc == -ESRCH && untouched(s0, smcs(&x->vm)),
		      "RETURN_FROM_RPC of a thread not suspended", "ioctl %d (%s)", rc,
		      rc < 0 ? strerror(-rc) : "reached OP-TEE");
	}
}

/* RPC_ALLOC replies with a cookie OP-TEE would misuse */
static uint64_t alloc_cookie;
static void alloc_with_cookie(struct vm *vm, uint64_t *regs, void *arg)
{
	(void)vm;
	(void)arg;
	regs[4] = alloc_cookie >> 32;
	regs[5] = (uint32_t)alloc_cookie;
}

/*
 * RPC_ALLOC answered under the VMM's cookie 0, and under a cookie another
 * suspended thread's buffer has: the VMM's cookies are only its labels,
 * OP-TEE gets the kernel's, so both are taken and both threads complete
 */
static void attack_alloc_cookies(struct ctx *x)
{
	static const uint8_t nosuch[16] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };
	struct hooks h = { .alloc = alloc_with_cookie };
	struct call c;
	struct msg m;
	int rc;

	msg_open_session(&m, nosuch);
	alloc_cookie = 0;
	rc = run_call(&x->vm, &m, &h, &c);
	check(rc == 0 && m.ret == TEEC_ERROR_ITEM_NOT_FOUND,
	      "an RPC_ALLOC buffer under the VMM's cookie 0: OP-TEE gets the kernel's",
	      "run %d (%s), ret %#x", rc, rc < 0 ? strerror(-rc) : "ok", m.ret);
	{
		/* A holds its buffer (and a lock of OP-TEE's B then waits
		 * for, in an RPC of its own): A finishes first */
		struct hooks ha = { .alloc = alloc_with_cookie, .stop_at = 1,
				    .stop_cmd = RPC_LOAD_TA };
		struct hooks hb = { .stop_alloc = 1 }, hc = { .stop_at = 1, .stop_cmd = -1 };
		uint64_t page[8] = { 0, 1, 0, 0, 0, 0x4242 };
		struct call ca, cb;
		struct msg ma, mb;
		int ra, rb;

		msg_open_session(&ma, nosuch);
		mb = ma;
		alloc_cookie = 0x4242;
		ra = run_call(&x->vm, &ma, &ha, &ca);
		rb = run_call(&x->vm, &mb, &hb, &cb);
		rc = rb == 1 ? call_resume(&x->vm, &cb, page, NULL) : rb;
		rb = serve_call(&x->vm, &cb, &hc, rc);
		ra = ra == 1 ? finish_call(&x->vm, &ca) : ra;
		rb = rb == 1 ? finish_call(&x->vm, &cb) : rb;
		check(rc == 0 && ra == 0 && rb == 0 && ma.ret == TEEC_ERROR_ITEM_NOT_FOUND &&
		      mb.ret == TEEC_ERROR_ITEM_NOT_FOUND,
		      "an RPC_ALLOC buffer under the VMM's cookie of another thread's buffer",
		      "B's answer %d (%s); thread A %d ret %#x, thread B %d ret %#x", rc,
		      rc < 0 ? strerror(-rc) : "taken", ra, ma.ret, rb, mb.ret);
	}
}

/*
 * ---- names: every cookie OP-TEE resolves is the kernel's -----------------
 *
 * OP-TEE looks a cookie up among every buffer of the partition (registered
 * SHM, a call's memory references, RPC arguments, RPC payloads), first
 * match, and takes a reference of its own; RPC_FREE comes before it drops
 * its own. A VMM may name to OP-TEE only what it registered.
 */

/* An RMEM naming @cookie, for the pseudo TA's sum: refused before OP-TEE */
static void check_unnamed(struct ctx *x, uint64_t cookie, const char *what)
{
	struct prm r = { ATTR_RMEM_INOUT, 0, 16, cookie };
	uint32_t ret = 0;
	int64_t s0 = smcs(&x->vm);
	int rc = pta_sum(&x->vm, x->pta, &r, &ret);

	check(rc == -ENOENT && untouched(s0, smcs(&x->vm)), what,
	      "ioctl %d (%s), OP-TEE ret %#x", rc, rc < 0 ? strerror(-rc) : "reached OP-TEE",
	      ret);
}

/* The kernel pages of the context when each RPC_CMD was answered */
static void note_kernel_pages(struct vm *vm, const struct msg *req, struct msg *ans, void *arg)
{
	struct info i;

	(void)req;
	(void)ans;
	vm_info(vm, &i);
	*(uint32_t *)arg = i.kernel;
}

/* The RPC argument buffer of a thread OP-TEE sent RPC_FREE for */
static void attack_rpc_arg_by_name(struct ctx *x)
{
	static const uint8_t nosuch[16] = { 0x51, 0x50, 5, 1, 5, 0, 5, 1, 5, 0, 5, 1, 5, 0, 5, 1 };
	uint32_t at_last_cmd = 0;
	struct hooks h = { .alloc = alloc_with_cookie, .stop_free = 1,
			   .answer = note_kernel_pages, .arg = &at_last_cmd };
	struct info i0, i1, i2;
	struct call c;
	struct msg m;
	int rc;

	vm_info(&x->vm, &i0);
	msg_open_session(&m, nosuch);
	alloc_cookie = 0x5150;
	rc = run_call(&x->vm, &m, &h, &c);
	vm_info(&x->vm, &i1);
	/* the RPC page is among them still, as at the last RPC_CMD */
	check(rc == 1 && h.freed == 0x5150 && at_last_cmd >= i0.kernel + 2 &&
	      i1.kernel == at_last_cmd,
	      "RPC_FREE: the buffer stays until the thread returns again",
	      "run %d, RPC_FREE of %#llx (0x5150: the VMM's name), kernel pages %u, %u at "
	      "the last RPC_CMD, %u at RPC_FREE", rc, (unsigned long long)h.freed, i0.kernel,
	      at_last_cmd, i1.kernel);
	check_unnamed(x, 0x5150, "an RMEM naming the RPC argument of a thread in RPC_FREE");
	if (rc == 1)
		rc = finish_call(&x->vm, &c);
	vm_info(&x->vm, &i2);
	check(rc == 0 && i2.kernel == i0.kernel,
	      "the RPC argument is freed at the thread's next return",
	      "finish %d, kernel pages %u", rc, i2.kernel);
}

/* Two threads in RPC_ALLOC: one answered with no buffer, the other with a
 * page, under one cookie of the VMM's */
static void attack_nobuf_cookie(struct ctx *x)
{
	static const uint8_t nosuch[16] = { 0x61, 0x61, 6, 1, 6, 1, 6, 1, 6, 1, 6, 1, 6, 1, 6, 1 };
	struct hooks ha = { .stop_alloc = 1 }, hb = { .stop_alloc = 1 };
	struct hooks hl = { .stop_at = 1, .stop_cmd = -1 };
	uint64_t page[8] = { 0, 1, 0, 0, 0, 0x6161 }, none[8] = { 0, 0, 0, 0, 0, 0x6161 };
	struct info i0, i1, i2;
	struct call ca, cb;
	struct msg ma, mb;
	uint64_t freed = 0;
	int ra, rb;

	vm_info(&x->vm, &i0);
	msg_open_session(&ma, nosuch);
	mb = ma;
	ra = run_call(&x->vm, &ma, &ha, &ca);
	rb = run_call(&x->vm, &mb, &hb, &cb);
	if (ra != 1 || rb != 1) {
		check(0, "two threads in RPC_ALLOC", "A %d B %d", ra, rb);
		return;
	}
	rb = call_resume(&x->vm, &cb, page, NULL);
	rb = serve_call(&x->vm, &cb, &hl, rb);	/* B holds its page, in an RPC_CMD */
	ra = call_resume(&x->vm, &ca, none, NULL);	/* A: no buffer */
	while (!ra && (ca.regs[0] & 0xffffffffu) == (RPC_PREFIX | RPC_FOREIGN_INTR))
		ra = call_resume(&x->vm, &ca, NULL, NULL);
	if (!ra && (ca.regs[0] & 0xffffffffu) == (RPC_PREFIX | RPC_FREE))
		freed = ((uint64_t)(uint32_t)ca.regs[1] << 32) | (uint32_t)ca.regs[2];
	vm_info(&x->vm, &i1);
	check(rb == 1 && ra == 0 && freed == 0x6161 && i1.kernel == i0.kernel + 3,
	      "a \"no buffer\" answer under the cookie of another thread's page: its RPC_FREE frees nothing of the other's",
	      "B %d, A's answer %d (%s), RPC_FREE of %#llx, kernel pages %u -> %u (+3: two arguments, B's page)",
	      rb, ra, ra < 0 ? strerror(-ra) : "taken", (unsigned long long)freed, i0.kernel,
	      i1.kernel);
	if (ra == -EEXIST)
		ca.regs[0] = RPC_PREFIX | RPC_ALLOC;
	ra = finish_call(&x->vm, &ca);
	rb = finish_call(&x->vm, &cb);
	vm_info(&x->vm, &i2);
	check(rb == 0 && mb.ret == TEEC_ERROR_ITEM_NOT_FOUND && i2.kernel == i0.kernel,
	      "the thread with the page completes; everything freed after",
	      "A %d ret %#x, B %d ret %#x, kernel pages %u", ra, ma.ret, rb, mb.ret, i2.kernel);
}

/* A call's TMEM, named by another call while it is suspended */
static void attack_temp_by_name(struct ctx *x)
{
	static const uint8_t nosuch[16] = { 0x70, 0x01, 7, 0, 7, 0, 7, 0, 7, 0, 7, 0, 7, 0, 7, 0 };
	struct hooks h = { .stop_at = 1, .stop_cmd = RPC_LOAD_TA };
	uint8_t *buf = pages(1, 1);
	struct call c;
	struct msg m;
	uint32_t hp;
	int rc;

	if (pin_buf(&x->vm, buf, PG, &hp)) {
		check(0, "a call's TMEM by name", "pin failed");
		return;
	}
	msg_open_session(&m, nosuch);
	m.num_params = 3;
	m.p[2] = (struct prm){ ATTR_TMEM_INOUT | ATTR_NONCONTIG, hp, 16, 0x7001 };
	rc = run_call(&x->vm, &m, &h, &c);
	check(rc == 1, "a call with a TMEM suspended in LOAD_TA", "run %d", rc);
	check_unnamed(x, 0x7001, "an RMEM naming the TMEM of a suspended call");
	if (rc == 1)
		finish_call(&x->vm, &c);
	vm_release(&x->vm, hp);
	munmap(buf, PG);
}

/* Names the VMM never gave, or may not give */
static void attack_other_names(struct ctx *x)
{
	uint8_t *buf = pages(1, 1);
	uint32_t h, ret = 0;
	int64_t s0;
	int rc;

	check_unnamed(x, 0, "an RMEM naming cookie 0 (OP-TEE's own arguments and lists have it)");
	check_unnamed(x, 0xdead0001, "an RMEM naming a cookie nothing was registered under");
	if (pin_buf(&x->vm, buf, PG, &h)) {
		check(0, "REGISTER_SHM under cookie 0", "pin failed");
		return;
	}
	s0 = smcs(&x->vm);
	rc = register_shm(&x->vm, h, PG, 0, &ret);
	check(rc == -EINVAL && untouched(s0, smcs(&x->vm)), "REGISTER_SHM under cookie 0",
	      "ioctl %d (%s)", rc, rc < 0 ? strerror(-rc) : "reached OP-TEE");
	{
		/* OP-TEE reads UNREGISTER_SHM's cookie whatever the type */
		struct call c;
		struct msg m;

		msg_init(&m, CMD_UNREGISTER_SHM, 1);
		m.p[0] = (struct prm){ ATTR_VALUE_IN, 0, 0, 1 };
		s0 = smcs(&x->vm);
		rc = run_call(&x->vm, &m, NULL, &c);
		check(rc == -EINVAL && untouched(s0, smcs(&x->vm)),
		      "UNREGISTER_SHM of a value parameter (a guessed cookie of the kernel's)",
		      "ioctl %d (%s)", rc, rc < 0 ? strerror(-rc) : "reached OP-TEE");
	}
	vm_release(&x->vm, h);
	munmap(buf, PG);
}

/* UNREGISTER_SHM of a registration another call names (RMEM) */
static void attack_unregister_in_use(struct ctx *x)
{
	static const uint8_t nosuch[16] = { 0x80, 0x01, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0, 8, 0 };
	struct hooks h = { .stop_at = 1, .stop_cmd = RPC_LOAD_TA };
	uint8_t *buf = pages(1, 1);
	uint32_t hp, ret = 0;
	struct call c;
	struct msg m;
	int64_t s0;
	int rc;

	if (pin_buf(&x->vm, buf, PG, &hp) || register_shm(&x->vm, hp, PG, 0x8001, &ret) || ret) {
		check(0, "UNREGISTER_SHM in use", "could not register (ret %#x)", ret);
		return;
	}
	vm_release(&x->vm, hp);
	msg_open_session(&m, nosuch);
	m.num_params = 3;
	m.p[2] = (struct prm){ ATTR_RMEM_INOUT, 0, 16, 0x8001 };
	rc = run_call(&x->vm, &m, &h, &c);
	s0 = smcs(&x->vm);
	ret = 0;
	{
		int ru = unregister_shm(&x->vm, 0x8001, &ret);

		check(rc == 1 && ru == -EBUSY && untouched(s0, smcs(&x->vm)),
		      "UNREGISTER_SHM of a registration a suspended call names",
		      "call %d, unregister %d (%s) ret %#x", rc, ru,
		      ru < 0 ? strerror(-ru) : "reached OP-TEE", ret);
	}
	if (rc == 1)
		finish_call(&x->vm, &c);
	rc = unregister_shm(&x->vm, 0x8001, &ret);
	check(rc == 0 && ret == 0, "UNREGISTER_SHM once no call names it",
	      "unregister %d ret %#x", rc, ret);
	munmap(buf, PG);
}

/* A user without CAP_SYS_RESOURCE takes at most vm_max_per_user contexts */
static int second_context(void *arg)
{
	int fd;

	(void)arg;
	if (adv_drop_cap(CAP_SYS_RESOURCE))
		return 2;
	/* this user holds the parent's context already */
	fd = adv_open();
	if (fd >= 0)
		adv_close(fd);
	return fd == -EDQUOT ? 0 : 1;
}

static void attack_per_user(struct ctx *x)
{
	unsigned int old = 0;
	int st;

	(void)x;
	if (adv_param("vm_max_per_user", 1, &old)) {
		check(0, "vm_max_per_user", "no module parameter");
		return;
	}
	st = adv_child(second_context, NULL);
	adv_param("vm_max_per_user", old, NULL);
	check(!st, "a second context of a user limited to one (vm_max_per_user=1)",
	      "child status %d (0: EDQUOT)", st);
}

/* A completed call's TMEM, named after its pages went back: OP-TEE 4.5 and
 * 4.10 never release a call's NONCONTIG references (cleanup_shm_refs()), so
 * the name still resolves to the old frames */
static void attack_temp_after_release(struct ctx *x)
{
	uint8_t *buf = pages(1, 1);
	struct prm p = { ATTR_TMEM_INOUT | ATTR_NONCONTIG, 0, 16, 0x7002 };
	uint32_t hp, ret = 0;

	if (pin_buf(&x->vm, buf, PG, &hp)) {
		check(0, "a completed call's TMEM by name", "pin failed");
		return;
	}
	p.a = hp;
	pta_sum(&x->vm, x->pta, &p, &ret);
	vm_release(&x->vm, hp);
	munmap(buf, PG);
	check_unnamed(x, 0x7002, "an RMEM naming the TMEM of a completed call, its pages released");
}

/*
 * An empty memref: a TMEM of size 0 on a pin with an offset, which the
 * kernel sends as a NULL memref (GP clients pass those to learn a size),
 * and a NULL one outright. OP-TEE's invoke-tests pseudo TA wrote byte 0 of
 * it and panicked (optee/patches/0003): run where the board's OP-TEE has
 * the fix (ADV_OPTEE_FIXED=1), or by name to show the panic.
 */
static void attack_null_memref(struct ctx *x)
{
	uint8_t *buf = pages(1, 1);
	struct prm empty = { ATTR_TMEM_INOUT | ATTR_NONCONTIG, 0, 0, 0 };
	struct prm null = { ATTR_TMEM_INOUT | ATTR_NONCONTIG, 0, 0, 0 };
	struct prm good = { ATTR_TMEM_INOUT | ATTR_NONCONTIG, 0, 16, 0 };
	uint32_t h, r1 = 0, r2 = 0, r3 = 0;
	int rc1, rc2, rc3;

	if (pin_buf(&x->vm, buf + 64, 128, &h)) {
		check(0, "an empty memref", "pin failed");
		return;
	}
	empty.a = h;
	good.a = h;
	rc1 = pta_sum(&x->vm, x->pta, &empty, &r1);
	rc2 = pta_sum(&x->vm, x->pta, &null, &r2);
	/* OP-TEE still whole: the same pseudo TA sums a real buffer */
	rc3 = pta_sum(&x->vm, x->pta, &good, &r3);
	check(!rc1 && r1 == TEEC_ERROR_BAD_PARAMETERS && (rc2 < 0 || r2 != TEEC_SUCCESS) &&
	      !rc3 && r3 == TEEC_SUCCESS && buf[64] == 16,
	      "an empty and a NULL memref to a pseudo TA that writes it",
	      "size 0: ioctl %d ret %#x; NULL: ioctl %d ret %#x; then a real one: ioctl %d "
	      "ret %#x, byte %u (16: summed)", rc1, r1, rc2, r2, rc3, r3, buf[64]);
	vm_release(&x->vm, h);
	munmap(buf, PG);
}

/* Quota: 1-page pins, page lists, kernel pages; RLIMIT_MEMLOCK */
static int memlock_child(void *arg)
{
	uint8_t *b = pages(32, 1);
	uint32_t h1, h2;
	long before, after;
	struct vm v;
	int r1, r2;

	(void)arg;
	if (vm_open(&v))
		return 10;
	if (adv_drop_cap(CAP_IPC_LOCK) || adv_set_memlock(16 * PG))
		return 11;
	munlock(b, 32 * PG); /* mlock counts elsewhere (locked_vm) */
	before = adv_pinned_kb();
	r1 = pin_buf(&v, b, 8 * PG, &h1);
	after = adv_pinned_kb();
	r2 = pin_buf(&v, b + 8 * PG, 16 * PG, &h2);
	printf("adversarial-vmm: note: child: pin 8 pages %d, VmPin %ld -> %ld kB, "
	       "then 16 more %d\n", r1, before, after, r2);
	vm_close(&v);
	munmap(b, 32 * PG);
	return r1 == 0 && after - before == 32 && r2 == -ENOMEM ? 0 : 1;
}

static void attack_quota(void)
{
	const unsigned int quota = 8;
	uint8_t *buf = pages(quota + 2, 1);
	uint32_t h[16];
	unsigned int n;
	struct info i;
	struct vm v;
	int rc;

	if (set_quota(quota) || vm_open(&v)) {
		check(0, "quota context", "vm_max_pages or open: %s", strerror(errno));
		set_quota(16384);
		return;
	}
	set_quota(16384);
	for (n = 0; n < quota; n++)
		if (pin_buf(&v, buf + n * PG, PG, &h[n]))
			break;
	rc = pin_buf(&v, buf + quota * PG, PG, &h[quota]);
	vm_info(&v, &i);
	check(n == quota && rc == -EDQUOT, "quota through 1-page pins",
	      "%u of %u pinned, the next: %d (%s)", n, quota, rc, rc ? strerror(-rc) : "pinned");
	if (!rc)
		vm_release(&v, h[quota]);
	{
		/* With the quota full of pins, a call needs a kernel page for
		 * its argument: refused before OP-TEE */
		uint64_t r[8] = { SMC_CALL_WITH_ARG };
		struct msg m;
		uint32_t size = sizeof(m);
		int64_t s0 = smcs(&v);

		msg_init(&m, CMD_CLOSE_SESSION, 0);
		rc = vm_call_raw(&v, r, &m, &size);
		check(rc == -EDQUOT && untouched(s0, smcs(&v)),
		      "quota through kernel pages (a call's argument)", "ioctl %d (%s)", rc,
		      rc ? strerror(-rc) : "made");
		/* 6 pins + argument page + one page-list page = 8: fits; a
		 * second TMEM needs a second list page: 9 */
		vm_release(&v, h[7]);
		vm_release(&v, h[6]);
		msg_init(&m, CMD_INVOKE, 2);
		m.func = PTA_CMD_PARAMS;
		m.p[0] = (struct prm){ ATTR_TMEM_INOUT | ATTR_NONCONTIG, h[0], 16, 0 };
		m.p[1] = (struct prm){ ATTR_TMEM_INOUT | ATTR_NONCONTIG, h[1], 16, 0 };
		r[0] = SMC_CALL_WITH_ARG;
		size = sizeof(m);
		s0 = smcs(&v);
		rc = vm_call_raw(&v, r, &m, &size);
		check(rc == -EDQUOT && untouched(s0, smcs(&v)),
		      "quota through page-list pages", "ioctl %d (%s)", rc,
		      rc ? strerror(-rc) : "made");
		vm_info(&v, &i);
		check(i.kernel == 0 && i.pinned == 6, "refused calls leave nothing allocated",
		      "kernel pages %u, pinned %u", i.kernel, i.pinned);
	}
	vm_close(&v);
	munmap(buf, (quota + 2) * PG);

	/* RLIMIT_MEMLOCK, in a child that opens its own context */
	{
		int st = adv_child(memlock_child, NULL);

		check(st == 0, "RLIMIT_MEMLOCK charged for pins (VmPin), past it ENOMEM",
		      "child status %d", st);
	}
}

/* Pins the other process's quota, fork or address space left aside */
static int uses_context(void *arg)
{
	struct vm *vm = arg;
	uint8_t *b = pages(1, 1);
	uint32_t hh;
	int rc = pin_buf(vm, b, PG, &hh);
	uint64_t r[8] = { SMC_CALLS_UID };
	int rc2 = vm_fast(vm, r);

	printf("adversarial-vmm: note: forked child: pin %d, call %d\n", rc, rc2);
	return rc == -EIO && rc2 == -EIO ? 0 : 1;
}

#ifndef ADV_IN_PROCESS
/* SCM_RIGHTS to a process that execs nothing but has its own mm */
static void attack_fd_passed(struct ctx *x)
{
	int sv[2], st = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	pid = fork();
	if (pid == 0) {
		char cbuf[CMSG_SPACE(sizeof(int))], c;
		struct iovec io = { &c, 1 };
		struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct vm other = x->vm;
		uint8_t *b = pages(1, 1);
		uint32_t hh;
		int rc;

		close(sv[0]);
		close(x->vm.fd); /* only the descriptor passed over the socket */
		if (recvmsg(sv[1], &mh, 0) != 1)
			_exit(2);
		other.fd = *(int *)CMSG_DATA(CMSG_FIRSTHDR(&mh));
		rc = pin_buf(&other, b, PG, &hh);
		printf("adversarial-vmm: note: receiver of the fd: pin %d\n", rc);
		_exit(rc == -EIO ? 0 : 1);
	}
	close(sv[1]);
	{
		char cbuf[CMSG_SPACE(sizeof(int))], c = 'x';
		struct iovec io = { &c, 1 };
		struct msghdr mh = { .msg_iov = &io, .msg_iovlen = 1, .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		*(int *)CMSG_DATA(cm) = x->vm.fd;
		sendmsg(sv[0], &mh, 0);
	}
	waitpid(pid, &st, 0);
	close(sv[0]);
	check(WIFEXITED(st) && !WEXITSTATUS(st), "the fd passed to another process",
	      "receiver exit %d (0: EIO, it can pin nothing of its own)",
	      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
#endif

static void attack_other_process(struct ctx *x)
{
	int st = adv_child(uses_context, &x->vm);

	/* fork: the child has the fd, and its own (copied) address space */
	check(st == 0, "a forked child uses the context",
	      "child exit %d (0: every ioctl EIO)", st);
#ifndef ADV_IN_PROCESS
	attack_fd_passed(x);
#endif
}


/* vCPUs of one guest: four threads on one context */
struct worker {
	pthread_t thread;
	struct vm *vm;
	int index;
	int failures;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	uint8_t *buf = pages(1, 1);
	uint32_t h, ret;
	int n;

	for (n = 0; n < 20; n++) {
		uint64_t cookie = 0x100000 * (w->index + 1) + n;

		if (pin_buf(w->vm, buf, PG, &h)) {
			w->failures++;
			continue;
		}
		if (register_shm(w->vm, h, PG, cookie, &ret) || ret ||
		    unregister_shm(w->vm, cookie, &ret) || ret)
			w->failures++;
		vm_release(w->vm, h);
	}
	munmap(buf, PG);
	return NULL;
}

static void attack_concurrency(struct ctx *x)
{
	struct worker w[4];
	struct info i;
	int n, fails = 0;

	for (n = 0; n < 4; n++) {
		w[n] = (struct worker){ .vm = &x->vm, .index = n };
		pthread_create(&w[n].thread, NULL, worker_main, &w[n]);
	}
	for (n = 0; n < 4; n++) {
		pthread_join(w[n].thread, NULL);
		fails += w[n].failures;
	}
	vm_info(&x->vm, &i);
	check(!fails && !i.held && !i.suspended, "four threads x 20 REGISTER/UNREGISTER_SHM on one context",
	      "%d of 80 failed; held %u, suspended %u after", fails, i.held, i.suspended);
}

/* A TA that never returns while the kernel unwinds it at close */
static void attack_endless_unwind(void)
{
	debug = !!getenv("ADV_DEBUG_UNWIND");
	struct hooks h = { .stop_at = 3, .stop_cmd = RPC_SUSPEND };
	struct vm v;
	struct call c;
	struct msg m;
	uint32_t sess;
	long pin0, pin1;
	int rc, warned;
	long mark;

	if (vm_open(&v)) {
		check(0, "endless unwind", "open: %s", strerror(errno));
		return;
	}
	pin0 = adv_pinned_kb();
	sess = open_session(&v, ta_os_test);
	if (!sess) {
		check(0, "endless unwind", "os_test TA did not open");
		vm_close(&v);
		return;
	}
	msg_init(&m, CMD_INVOKE, 1);
	m.session = sess;
	m.func = OS_TEST_CMD_WAIT;
	m.p[0] = (struct prm){ ATTR_VALUE_IN, 0xffffffffu, 0, 0 }; /* TEE_TIMEOUT_INFINITE */
	rc = run_call(&v, &m, &h, &c);
	check(rc == 1, "TEE_Wait(infinite) suspended in its third SUSPEND RPC", "run %d", rc);
	mark = adv_log_mark();
	vm_close(&v);	/* the kernel unwinds, gives up, VM_DESTROYED, frees */
	pin1 = adv_pinned_kb();
	warned = adv_log_warned(mark);
	check(!warned && pin1 == pin0,
	      "a TA that never returns during the unwind: no WARN, pages freed after VM_DESTROYED",
	      "warning %d, VmPin %ld -> %ld kB", warned, pin0, pin1);
	rc = vm_open(&v);
	check(!rc, "a new context after it", "open %d", rc);
	if (!rc)
		vm_close(&v);
}

/* The attacks on one context, in order; ADV_ONLY=name,name runs those */
static const struct {
	const char *name;
	void (*run)(struct ctx *x);
} attacks[] = {
	{ "forbidden_fids", attack_forbidden_fids },
	{ "past_pin", attack_past_pin },
	{ "wrong_kind", attack_wrong_kind },
	{ "partial_write", attack_partial_write },
	{ "release_registered", attack_release_registered },
	{ "release_cached", attack_release_cached },
	{ "suspended_arg", attack_suspended_arg },
	{ "alloc_cookies", attack_alloc_cookies },
	{ "other_names", attack_other_names },
	{ "unregister_in_use", attack_unregister_in_use },
	{ "nobuf_cookie", attack_nobuf_cookie },
	{ "per_user", attack_per_user },
	{ "concurrency", attack_concurrency },
	{ "other_process", attack_other_process },
	/* Panics an OP-TEE without optee/patches/0003: see there */
	{ "null_memref", attack_null_memref },
	/* The ones that let OP-TEE touch memory it must not: last */
	{ "temp_by_name", attack_temp_by_name },
	{ "rpc_arg_by_name", attack_rpc_arg_by_name },
	{ "temp_after_release", attack_temp_after_release },
	{ "raw_alloc_reply", attack_raw_alloc_reply },
	{ "raw_shm_alloc", attack_raw_shm_alloc },
	{ "raw_tmem", attack_raw_tmem },
};

static int getenv_is(const char *name, const char *value)
{
	const char *v = getenv(name);

	return v && !strcmp(v, value);
}

static int selected(const char *name)
{
	const char *only = getenv("ADV_ONLY");
	size_t n = strlen(name);

	for (; only && *only; only += strcspn(only, ","), only += !!*only)
		if (!strncmp(only, name, n) && (only[n] == ',' || !only[n]))
			return 1;
	return !only;
}

int main(void)
{
	struct ctx x;
	unsigned int k;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	debug = !!getenv("ADV_DEBUG");
	printf("adversarial-vmm: VM contexts of %s\n", "/dev/teevm0");
	rc = vm_open(&x.vm);
	if (rc) {
		errno = -rc;
		die("open /dev/teevm0");
	}
	x.pta = open_session(&x.vm, pta_invoke_tests);
	check(x.pta != 0, "a session of the invoke-tests pseudo TA", "session %u", x.pta);
	{
		uint8_t *b = pages(1, 0);
		uint32_t h, ret = 1;
		struct prm p = { ATTR_TMEM_INOUT | ATTR_NONCONTIG, 0, 16, 0 };

		memset(b, 1, 16);
		if (!pin_buf(&x.vm, b, PG, &h)) {
			p.a = h;
			pta_sum(&x.vm, x.pta, &p, &ret);
			vm_release(&x.vm, h);
		}
		check(!ret && b[0] == 16, "an honest TMEM through a pin reaches the pseudo TA",
		      "ret %#x byte %u", ret, b[0]);
		munmap(b, PG);
	}

	for (k = 0; k < sizeof(attacks) / sizeof(attacks[0]); k++) {
		if (!selected(attacks[k].name))
			continue;
		if (!strcmp(attacks[k].name, "null_memref") && !getenv("ADV_ONLY") &&
		    !getenv_is("ADV_OPTEE_FIXED", "1")) {
			printf("adversarial-vmm: skipped: null_memref (an OP-TEE without "
			       "optee/patches/0003 panics on it; ADV_OPTEE_FIXED=1)\n");
			continue;
		}
		adv_attack(attacks[k].name);
		attacks[k].run(&x);
	}
	adv_attack(NULL);
	close_session(&x.vm, x.pta);
	vm_close(&x.vm);
	/* One context at a time from here: OP-TEE may have room for one
	 * guest only (CFG_VIRT_GUEST_COUNT, the host being client 1) */
	if (selected("quota")) {
		adv_attack("quota");
		attack_quota();
	}
	if (selected("endless_unwind")) {
		adv_attack("endless_unwind");
		attack_endless_unwind();
	}
	adv_attack(NULL);

	/*
	 * Have the kernel hand out many pages: one written after it was
	 * freed fails its poison check then (page_poison=1 on the board)
	 */
	{
		size_t len = 64u << 20;
		void *spray = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

		if (spray != MAP_FAILED)
			munmap(spray, len);
	}
	printf("adversarial-vmm: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
