// SPDX-License-Identifier: GPL-2.0-only
/*
 * teemed-kvm-smoke: prove that the board's host can run a KVM guest.
 *
 * Creates a VM with one page of memory and one vCPU, runs four guest
 * instructions that store a magic value to an unbacked address, and checks
 * that KVM reports that store as an MMIO exit. Built statically by
 * board/initramfs.sh into the host's /usr/bin; prints one marker line:
 *   TEEMED-KVM-SMOKE ok|FAIL ...
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_RAM_IPA 0x80000000ULL /* where the one page of guest RAM sits */
#define GUEST_MMIO_IPA 0x10000000ULL /* unbacked: stores to it exit to us */
#define GUEST_MAGIC 0x7ee3edULL

static int fail(const char *what)
{
	printf("TEEMED-KVM-SMOKE FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

static __u64 core_reg_id(size_t offset)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (offset / sizeof(__u32));
}

int main(void)
{
	/* movz x1, #0x1000, lsl #16; movz x0, #0xe3ed; movk x0, #0x7e, lsl #16;
	 * str x0, [x1]; b . */
	static const uint32_t code[] = {
		0xd2a20001, 0xd29c7da0, 0xf2a00fc0, 0xf9000020, 0x14000000,
	};
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_vcpu_init init = { 0 };
	struct kvm_one_reg reg = { 0 };
	struct kvm_run *run;
	__u64 pc = GUEST_RAM_IPA, pstate = 0x3c5; /* EL1h, DAIF masked */
	long page = sysconf(_SC_PAGESIZE);
	int kvm, vm, vcpu, run_size;
	void *ram;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	ram = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return fail("mmap");
	memcpy(ram, code, sizeof(code));
	region.guest_phys_addr = GUEST_RAM_IPA;
	region.memory_size = page;
	region.userspace_addr = (uintptr_t)ram;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return fail("KVM_CREATE_VCPU");
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return fail("KVM_ARM_PREFERRED_TARGET");
	if (ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) < 0)
		return fail("KVM_ARM_VCPU_INIT");
	reg.id = core_reg_id(offsetof(struct kvm_regs, regs.pc));
	reg.addr = (uintptr_t)&pc;
	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0)
		return fail("KVM_SET_ONE_REG pc");
	reg.id = core_reg_id(offsetof(struct kvm_regs, regs.pstate));
	reg.addr = (uintptr_t)&pstate;
	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0)
		return fail("KVM_SET_ONE_REG pstate");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		return fail("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap kvm_run");
	if (ioctl(vcpu, KVM_RUN, 0) < 0)
		return fail("KVM_RUN");
	if (run->exit_reason == KVM_EXIT_MMIO && run->mmio.is_write &&
	    run->mmio.phys_addr == GUEST_MMIO_IPA && run->mmio.len == 8) {
		uint64_t v;

		memcpy(&v, run->mmio.data, sizeof(v));
		if (v == GUEST_MAGIC) {
			printf("TEEMED-KVM-SMOKE ok guest stored 0x%llx to 0x%llx\n",
			       (unsigned long long)v, GUEST_MMIO_IPA);
			return 0;
		}
	}
	printf("TEEMED-KVM-SMOKE FAIL exit_reason=%u mmio.phys_addr=0x%llx len=%u\n",
	       run->exit_reason, (unsigned long long)run->mmio.phys_addr, run->mmio.len);
	return 1;
}
