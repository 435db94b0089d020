// SPDX-License-Identifier: BSD-2-Clause
#include "phys_space.hpp"

#include "optee_abi.hpp"

namespace teemed::model {

uint64_t PhysSpace::add(std::byte *host)
{
	std::lock_guard g(lock_);
	const uint64_t pa = next_;
	next_ += abi::kPageSize;
	pages_.emplace(pa, host);
	return pa;
}

void PhysSpace::remove(uint64_t pa)
{
	std::lock_guard g(lock_);
	pages_.erase(pa);
}

std::byte *PhysSpace::map(uint64_t pa, size_t len) const
{
	const uint64_t base = pa & ~abi::kPageMask;
	const uint64_t off = pa & abi::kPageMask;
	if (len > abi::kPageSize - off)
		return nullptr;
	std::lock_guard g(lock_);
	auto it = pages_.find(base);
	return it == pages_.end() ? nullptr : it->second + off;
}

size_t PhysSpace::pages() const
{
	std::lock_guard g(lock_);
	return pages_.size();
}

} // namespace teemed::model
