// SPDX-License-Identifier: BSD-2-Clause
// Guest RAM for tests and demos: anonymous memory between two guard pages,
// so that a mediator bug reading or writing past the guest's RAM faults at
// once instead of touching a neighbour.
#pragma once

#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <system_error>

#include "optee_abi.hpp"

namespace teemed::model {

class GuestRam {
public:
	explicit GuestRam(size_t size) : size_(size)
	{
		if (!size || size % abi::kPageSize)
			throw std::system_error(EINVAL, std::generic_category(), "GuestRam size");
		void *p = mmap(nullptr, size_ + 2 * abi::kPageSize, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			throw std::system_error(errno, std::generic_category(), "mmap");
		base_ = static_cast<std::byte *>(p) + abi::kPageSize;
		if (mprotect(base_, size_, PROT_READ | PROT_WRITE)) {
			munmap(p, size_ + 2 * abi::kPageSize);
			throw std::system_error(errno, std::generic_category(), "mprotect");
		}
	}
	~GuestRam() { munmap(base_ - abi::kPageSize, size_ + 2 * abi::kPageSize); }
	GuestRam(const GuestRam &) = delete;
	GuestRam &operator=(const GuestRam &) = delete;

	std::byte *data() const { return base_; }
	size_t size() const { return size_; }

private:
	size_t size_;
	std::byte *base_;
};

} // namespace teemed::model
