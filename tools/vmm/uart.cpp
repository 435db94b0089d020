// SPDX-License-Identifier: BSD-2-Clause
#include "uart.hpp"

namespace vmm {

namespace {
constexpr uint8_t kIerThri = 0x02;
constexpr uint8_t kLcrDlab = 0x80;
constexpr uint8_t kLsrThre = 0x20, kLsrTemt = 0x40;
constexpr uint8_t kIirNoInt = 0x01, kIirThri = 0x02;
constexpr uint8_t kMsrDcdDsrCts = 0xb0;
} // namespace

void Uart::update()
{
	const bool level = (ier_ & kIerThri) && thri_pending_;
	if (level != level_) {
		level_ = level;
		set_irq_(level);
	}
}

void Uart::access(uint64_t off, bool write, uint8_t *data)
{
	std::lock_guard g(lock_);
	const bool dlab = lcr_ & kLcrDlab;
	if (write) {
		const uint8_t v = *data;
		switch (off) {
		case 0:
			if (dlab) {
				dll_ = v;
			} else {
				out_(v);
				// Transmission is instant: the holding register is
				// empty again at once.
				thri_pending_ = true;
			}
			break;
		case 1:
			if (dlab) {
				dlm_ = v;
			} else {
				if (!(ier_ & kIerThri) && (v & kIerThri))
					thri_pending_ = true;
				ier_ = v & 0x0f;
			}
			break;
		case 2:
			fcr_ = v;
			break;
		case 3:
			lcr_ = v;
			break;
		case 4:
			mcr_ = v;
			break;
		case 7:
			scr_ = v;
			break;
		default:
			break;
		}
	} else {
		uint8_t v = 0;
		switch (off) {
		case 0:
			v = dlab ? dll_ : 0; // nothing to receive
			break;
		case 1:
			v = dlab ? dlm_ : ier_;
			break;
		case 2:
			if ((ier_ & kIerThri) && thri_pending_) {
				v = kIirThri;
				thri_pending_ = false; // reading IIR acknowledges THRI
			} else {
				v = kIirNoInt;
			}
			if (fcr_ & 1)
				v |= 0xc0;
			break;
		case 3:
			v = lcr_;
			break;
		case 4:
			v = mcr_;
			break;
		case 5:
			v = kLsrThre | kLsrTemt;
			break;
		case 6:
			v = kMsrDcdDsrCts;
			break;
		case 7:
			v = scr_;
			break;
		}
		*data = v;
	}
	update();
}

} // namespace vmm
