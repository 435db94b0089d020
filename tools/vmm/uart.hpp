// SPDX-License-Identifier: BSD-2-Clause
// A 16550 UART, transmit side (the guest's console), interrupt-driven the
// way Linux's 8250 driver expects.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

namespace vmm {

class Uart {
public:
	static constexpr uint64_t kBase = 0x09000000;
	static constexpr uint64_t kSize = 8;
	static constexpr uint32_t kSpi = 1; // GIC SPI number

	// set_irq(level) drives the interrupt line; out(byte) prints.
	Uart(std::function<void(bool)> set_irq, std::function<void(uint8_t)> out)
		: set_irq_(std::move(set_irq)), out_(std::move(out))
	{
	}
	void access(uint64_t off, bool write, uint8_t *data);

private:
	void update();

	std::mutex lock_;
	std::function<void(bool)> set_irq_;
	std::function<void(uint8_t)> out_;
	uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0, dlm_ = 0, fcr_ = 0;
	bool thri_pending_ = false;
	bool level_ = false;
};

} // namespace vmm
