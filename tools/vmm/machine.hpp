// SPDX-License-Identifier: BSD-2-Clause
// One guest: its KVM VM, RAM, vGIC, UART, vCPUs and (the point of this
// VMM) its teemed mediator.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "teemed/teemed.h"
#include "uart.hpp"

struct kvm_run;

namespace vmm {

struct Options {
	std::string kernel, initrd, cmdline = "console=ttyS0 earlycon=uart8250,mmio,0x9000000 quiet";
	uint64_t mem_mb = 256;
	unsigned cpus = 1;
	std::string tee_dev = "/dev/teevm0"; // empty: no OP-TEE for this guest
	long foreign_intr_budget_us = -1;    // -1: the library's default
	bool verbose = false;
};

// Guest physical memory map (kvmtool/QEMU virt-like).
inline constexpr uint64_t kGicDist = 0x08000000, kGicDistSize = 0x10000;
inline constexpr uint64_t kGicRedist = 0x080a0000, kGicRedistPerCpu = 0x20000;
inline constexpr uint64_t kRamBase = 0x40000000;

class Machine {
public:
	explicit Machine(const Options &o) : opt_(o) {}
	~Machine();
	// Returns the exit status: 0 after a guest power-off.
	int run();

private:
	void create_vm();
	void create_gic();
	void init_gic();
	void create_vcpus();
	void load_and_boot();
	std::vector<uint8_t> make_fdt(uint64_t initrd_start, uint64_t initrd_end);
	void vcpu_loop(unsigned idx);
	void set_uart_irq(bool level);
	void stop(int status);

	// tee.cpp: the embedding points of libteemed.
	void tee_setup();
	void tee_handle_exit(int vcpu_fd, ::kvm_run *run);

	Options opt_;
	int kvm_ = -1, vm_ = -1, gic_ = -1;
	uint8_t *ram_ = nullptr;
	uint64_t ram_size_ = 0;
	size_t run_size_ = 0;
	std::vector<int> vcpu_fds_;
	std::vector<std::thread> threads_;
	std::unique_ptr<Uart> uart_;
	std::atomic<bool> stopping_{false};
	std::atomic<int> status_{0};
	uint64_t entry_ = 0, fdt_addr_ = 0;
	teemed_ctx *tee_ctx_ = nullptr;
	teemed_vm *tee_vm_ = nullptr;
};

} // namespace vmm
