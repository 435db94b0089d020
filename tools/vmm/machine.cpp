// SPDX-License-Identifier: BSD-2-Clause
// The machine: KVM VM, RAM, in-kernel GICv3 and timer, PSCI in KVM, a UART,
// the kernel/initrd/device tree, and the vCPU threads.
#include "machine.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "fdt.hpp"
#include "kvm_defs.hpp"

namespace vmm {

namespace {

[[noreturn]] void fail(const std::string &what)
{
	throw std::runtime_error(what + ": " + std::strerror(errno));
}

std::vector<uint8_t> read_file(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		throw std::runtime_error("cannot read " + path);
	return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

uint64_t reg_id(size_t off)
{
	return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (off / sizeof(uint32_t));
}

void set_reg(int fd, size_t off, uint64_t v)
{
	struct kvm_one_reg r = {reg_id(off), reinterpret_cast<uint64_t>(&v)};
	if (ioctl(fd, KVM_SET_ONE_REG, &r))
		fail("KVM_SET_ONE_REG");
}

void set_attr(int fd, uint32_t group, uint64_t attr, const void *addr)
{
	struct kvm_device_attr a = {};
	a.group = group;
	a.attr = attr;
	a.addr = reinterpret_cast<uint64_t>(addr);
	if (ioctl(fd, KVM_SET_DEVICE_ATTR, &a))
		fail("KVM_SET_DEVICE_ATTR");
}

void on_signal(int) {}

} // namespace

Machine::~Machine()
{
	// Embedding point 3: the guest is gone.
	teemed_vm_destroy(tee_vm_);
	teemed_ctx_close(tee_ctx_);
	for (int fd : vcpu_fds_)
		close(fd);
	if (ram_)
		munmap(ram_, ram_size_);
	for (int fd : {gic_, vm_, kvm_})
		if (fd >= 0)
			close(fd);
}

void Machine::create_vm()
{
	kvm_ = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_ < 0)
		fail("/dev/kvm");
	vm_ = ioctl(kvm_, KVM_CREATE_VM, 0);
	if (vm_ < 0)
		fail("KVM_CREATE_VM");
	run_size_ = size_t(ioctl(kvm_, KVM_GET_VCPU_MMAP_SIZE, 0));

	ram_size_ = opt_.mem_mb << 20;
	void *p = mmap(nullptr, ram_size_, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap guest RAM");
	ram_ = static_cast<uint8_t *>(p);
	struct kvm_userspace_memory_region r = {};
	r.slot = 0;
	r.guest_phys_addr = kRamBase;
	r.memory_size = ram_size_;
	r.userspace_addr = reinterpret_cast<uint64_t>(ram_);
	if (ioctl(vm_, KVM_SET_USER_MEMORY_REGION, &r))
		fail("KVM_SET_USER_MEMORY_REGION");
}

void Machine::create_gic()
{
	struct kvm_create_device d = {};
	d.type = KVM_DEV_TYPE_ARM_VGIC_V3;
	if (ioctl(vm_, KVM_CREATE_DEVICE, &d))
		fail("vGICv3");
	gic_ = int(d.fd);
	const uint64_t dist = kGicDist, redist = kGicRedist;
	set_attr(gic_, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
	set_attr(gic_, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
	const uint32_t nr_irqs = 128;
	set_attr(gic_, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
}

void Machine::init_gic() { set_attr(gic_, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr); }

void Machine::create_vcpus()
{
	struct kvm_vcpu_init init = {};
	if (ioctl(vm_, KVM_ARM_PREFERRED_TARGET, &init))
		fail("KVM_ARM_PREFERRED_TARGET");
	for (unsigned i = 0; i < opt_.cpus; i++) {
		int fd = ioctl(vm_, KVM_CREATE_VCPU, i);
		if (fd < 0)
			fail("KVM_CREATE_VCPU");
		vcpu_fds_.push_back(fd);
		struct kvm_vcpu_init vi = init;
		vi.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
		if (i)
			vi.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF; // PSCI CPU_ON starts it
		if (ioctl(fd, KVM_ARM_VCPU_INIT, &vi))
			fail("KVM_ARM_VCPU_INIT");
	}
}

std::vector<uint8_t> Machine::make_fdt(uint64_t initrd_start, uint64_t initrd_end)
{
	Fdt f;
	const uint32_t gic_phandle = 1;
	f.begin("");
	f.prop("compatible", "linux,dummy-virt");
	f.prop("model", "teemed reference VMM");
	f.prop("#address-cells", std::vector<uint32_t>{2});
	f.prop("#size-cells", std::vector<uint32_t>{2});
	f.prop("interrupt-parent", std::vector<uint32_t>{gic_phandle});

	f.begin("chosen");
	f.prop("bootargs", opt_.cmdline);
	f.prop("stdout-path", "/uart@9000000");
	if (initrd_end > initrd_start) {
		f.prop_u64s("linux,initrd-start", {initrd_start});
		f.prop_u64s("linux,initrd-end", {initrd_end});
	}
	f.end();

	f.begin("memory@40000000");
	f.prop("device_type", "memory");
	f.prop_u64s("reg", {kRamBase, ram_size_});
	f.end();

	f.begin("cpus");
	f.prop("#address-cells", std::vector<uint32_t>{1});
	f.prop("#size-cells", std::vector<uint32_t>{0});
	for (unsigned i = 0; i < opt_.cpus; i++) {
		f.begin("cpu@" + std::to_string(i));
		f.prop("device_type", "cpu");
		f.prop("compatible", "arm,arm-v8");
		f.prop("enable-method", "psci");
		f.prop("reg", std::vector<uint32_t>{i});
		f.end();
	}
	f.end();

	f.begin("psci");
	f.prop_strings("compatible", {"arm,psci-1.0", "arm,psci-0.2"});
	f.prop("method", "hvc");
	f.end();

	f.begin("intc@8000000");
	f.prop("compatible", "arm,gic-v3");
	f.prop("#interrupt-cells", std::vector<uint32_t>{3});
	f.prop_empty("interrupt-controller");
	f.prop_u64s("reg", {kGicDist, kGicDistSize, kGicRedist, kGicRedistPerCpu * opt_.cpus});
	f.prop("phandle", std::vector<uint32_t>{gic_phandle});
	f.end();

	// PPIs 13, 14, 11, 10: secure, non-secure, virtual, hypervisor timer.
	f.begin("timer");
	f.prop("compatible", "arm,armv8-timer");
	f.prop("interrupts", std::vector<uint32_t>{1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4});
	f.prop_empty("always-on");
	f.end();

	f.begin("uart@9000000");
	f.prop("compatible", "ns16550a");
	f.prop_u64s("reg", {Uart::kBase, Uart::kSize});
	f.prop("interrupts", std::vector<uint32_t>{0, Uart::kSpi, 4});
	f.prop("clock-frequency", std::vector<uint32_t>{1843200});
	f.end();

	if (tee_vm_) {
		// What the guest's unmodified OP-TEE driver probes for.
		f.begin("firmware");
		f.begin("optee");
		f.prop("compatible", "linaro,optee-tz");
		f.prop("method", "smc");
		f.end();
		f.end();
	}
	f.end();
	return f.finish();
}

void Machine::load_and_boot()
{
	const auto image = read_file(opt_.kernel);
	// arm64 Image header: text_offset at 8, image_size at 16, magic at 56.
	uint64_t text_offset = 0, image_size = 0;
	uint32_t magic = 0;
	if (image.size() < 64)
		throw std::runtime_error("kernel image too small");
	std::memcpy(&text_offset, &image[8], 8);
	std::memcpy(&image_size, &image[16], 8);
	std::memcpy(&magic, &image[56], 4);
	if (magic != 0x644d5241)
		throw std::runtime_error(opt_.kernel + ": not an arm64 Image");
	if (!image_size)
		image_size = image.size();
	const uint64_t kernel_off = 2 * 1024 * 1024 + text_offset; // 2 MiB aligned base
	if (kernel_off + image_size > ram_size_ / 2)
		throw std::runtime_error("not enough guest RAM for the kernel");
	std::memcpy(ram_ + kernel_off, image.data(), image.size());
	entry_ = kRamBase + kernel_off;

	// Device tree in the last 2 MiB, the initrd right below it.
	fdt_addr_ = kRamBase + ram_size_ - 2 * 1024 * 1024;
	uint64_t initrd_start = 0, initrd_end = 0;
	if (!opt_.initrd.empty()) {
		const auto rd = read_file(opt_.initrd);
		initrd_start = (fdt_addr_ - rd.size()) & ~0xfffull;
		if (initrd_start < entry_ + image_size)
			throw std::runtime_error("not enough guest RAM for the initrd");
		std::memcpy(ram_ + (initrd_start - kRamBase), rd.data(), rd.size());
		initrd_end = initrd_start + rd.size();
	}
	const auto fdt = make_fdt(initrd_start, initrd_end);
	std::memcpy(ram_ + (fdt_addr_ - kRamBase), fdt.data(), fdt.size());

	const int boot = vcpu_fds_[0];
	set_reg(boot, offsetof(struct kvm_regs, regs.pc), entry_);
	set_reg(boot, offsetof(struct kvm_regs, regs.regs[0]), fdt_addr_);
	for (unsigned i = 1; i < 4; i++)
		set_reg(boot, offsetof(struct kvm_regs, regs.regs[0]) + i * sizeof(uint64_t), 0);
}

void Machine::set_uart_irq(bool level)
{
	struct kvm_irq_level irq = {};
	irq.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (Uart::kSpi + 32);
	irq.level = level;
	ioctl(vm_, KVM_IRQ_LINE, &irq);
}

void Machine::stop(int status)
{
	if (stopping_.exchange(true))
		return;
	status_ = status;
	for (auto &t : threads_)
		if (t.joinable() && t.get_id() != std::this_thread::get_id())
			pthread_kill(t.native_handle(), SIGUSR1);
}

void Machine::vcpu_loop(unsigned idx)
{
	const int fd = vcpu_fds_[idx];
	auto *run = static_cast<struct kvm_run *>(
		mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	if (run == MAP_FAILED) {
		std::perror("mmap kvm_run");
		stop(1);
		return;
	}
	while (!stopping_) {
		if (ioctl(fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			std::perror("KVM_RUN");
			stop(1);
			break;
		}
		try {
			switch (run->exit_reason) {
			case KVM_EXIT_MMIO: {
				const uint64_t a = run->mmio.phys_addr;
				if (a >= Uart::kBase && a < Uart::kBase + Uart::kSize && run->mmio.len == 1)
					uart_->access(a - Uart::kBase, run->mmio.is_write, run->mmio.data);
				else if (!run->mmio.is_write)
					std::memset(run->mmio.data, 0, sizeof(run->mmio.data));
				break;
			}
			case KVM_EXIT_HYPERCALL:
				tee_handle_exit(fd, run);
				break;
			case KVM_EXIT_SYSTEM_EVENT:
				// PSCI SYSTEM_OFF or SYSTEM_RESET: the guest is done.
				stop(run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? 0 : 2);
				break;
			case KVM_EXIT_INTR:
				break;
			default:
				std::fprintf(stderr, "vmm: vcpu %u: unhandled exit %u\n", idx, run->exit_reason);
				stop(1);
			}
		} catch (const std::exception &e) {
			std::fprintf(stderr, "vmm: vcpu %u: %s\n", idx, e.what());
			stop(1);
		}
	}
	munmap(run, run_size_);
}

int Machine::run()
{
	struct sigaction sa = {};
	sa.sa_handler = on_signal;
	sigaction(SIGUSR1, &sa, nullptr);

	create_vm();
	create_gic();
	create_vcpus();
	init_gic();
	uart_ = std::make_unique<Uart>([this](bool l) { set_uart_irq(l); },
				       [](uint8_t c) { std::fputc(c, stdout); std::fflush(stdout); });
	tee_setup();
	load_and_boot();
	for (unsigned i = 0; i < opt_.cpus; i++)
		threads_.emplace_back([this, i] { vcpu_loop(i); });
	for (auto &t : threads_)
		t.join();
	return status_;
}

} // namespace vmm
