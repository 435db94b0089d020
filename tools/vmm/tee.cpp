// SPDX-License-Identifier: BSD-2-Clause
// Where this VMM embeds libteemed. Three points, nothing else:
//   1. tee_setup(): a VM context on /dev/teevm0, the guest's RAM, and KVM's
//      SMCCC filter forwarding the Trusted App/OS ranges to userspace;
//   2. tee_handle_exit(): each forwarded SMC/HVC goes to
//      teemed_vm_handle_smc(), x0..x3 go back to the guest;
//   3. ~Machine(): teemed_vm_destroy().
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "kvm_defs.hpp"
#include "machine.hpp"

namespace vmm {

namespace {

uint64_t core_reg_id(unsigned xn)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
	       (offsetof(struct kvm_regs, regs.regs[0]) / sizeof(uint32_t) + 2 * xn);
}

uint64_t get_x(int fd, unsigned n)
{
	uint64_t v = 0;
	struct kvm_one_reg r = {core_reg_id(n), reinterpret_cast<uint64_t>(&v)};
	if (ioctl(fd, KVM_GET_ONE_REG, &r))
		throw std::runtime_error("KVM_GET_ONE_REG");
	return v;
}

void set_x(int fd, unsigned n, uint64_t v)
{
	struct kvm_one_reg r = {core_reg_id(n), reinterpret_cast<uint64_t>(&v)};
	if (ioctl(fd, KVM_SET_ONE_REG, &r))
		throw std::runtime_error("KVM_SET_ONE_REG");
}

} // namespace

// Embedding point 1: before the first KVM_RUN.
void Machine::tee_setup()
{
	if (opt_.tee_dev.empty())
		return;
	int e = teemed_ctx_open_kernel(opt_.tee_dev.c_str(), &tee_ctx_);
	if (e)
		throw std::runtime_error("teemed: " + opt_.tee_dev + ": " + std::strerror(-e));
	e = teemed_vm_create(tee_ctx_, nullptr, uint64_t(getpid()), &tee_vm_);
	if (e)
		throw std::runtime_error(std::string("teemed: VM context: ") + std::strerror(-e));
	if (opt_.foreign_intr_budget_us >= 0)
		teemed_vm_set_foreign_intr_budget(tee_vm_, uint32_t(opt_.foreign_intr_budget_us));
	e = teemed_vm_add_region(tee_vm_, kRamBase, ram_size_, ram_);
	if (e)
		throw std::runtime_error(std::string("teemed: RAM region: ") + std::strerror(-e));

	for (const auto &range : TEEMED_SMCCC_RANGES) {
		struct kvm_smccc_filter f = {};
		f.base = range[0];
		f.nr_functions = range[1];
		f.action = KVM_SMCCC_FILTER_FWD_TO_USER;
		struct kvm_device_attr a = {};
		a.group = KVM_ARM_VM_SMCCC_CTRL;
		a.attr = KVM_ARM_VM_SMCCC_FILTER;
		a.addr = reinterpret_cast<uint64_t>(&f);
		if (ioctl(vm_, KVM_SET_DEVICE_ATTR, &a))
			throw std::runtime_error(std::string("KVM SMCCC filter: ") + std::strerror(errno));
	}
	if (opt_.verbose)
		std::fprintf(stderr, "vmm: teemed client id %u\n", teemed_vm_client_id(tee_vm_));
}

// Embedding point 2: a KVM_EXIT_HYPERCALL (only the filtered ranges come
// here). The PC has already been advanced past the SMC/HVC.
void Machine::tee_handle_exit(int fd, ::kvm_run *run)
{
	// Each ONE_REG ioctl loads and puts the vCPU: read only what the
	// OP-TEE SMC ABI gives meaning to. x0 is the exit's function id; x6
	// is unused and x7 the hypervisor's (the host kernel sets the client
	// id), so the library gets them as 0.
	struct teemed_regs regs = {};
	regs.x[0] = uint32_t(run->hypercall.nr);
	for (unsigned i = 1; i < 6; i++)
		regs.x[i] = get_x(fd, i);
	if (!tee_vm_ || !teemed_is_mediated_fid(uint32_t(regs.x[0])) ||
	    teemed_vm_handle_smc(tee_vm_, &regs)) {
		// No OP-TEE for this guest: SMCCC's NOT_SUPPORTED.
		set_x(fd, 0, ~0ull);
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		set_x(fd, i, regs.x[i]);
}

} // namespace vmm
