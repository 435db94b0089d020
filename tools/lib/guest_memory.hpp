// SPDX-License-Identifier: BSD-2-Clause
// The guest's RAM as the VMM mapped it. Every access the mediator makes to
// guest memory goes through here, bounds-checked against the registered
// regions: an IPA outside RAM, or a range crossing a region's end, is an
// error, never a host access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <vector>

#include "teemed/result.hpp"
#include "teemed/vm.hpp"

namespace teemed {

class GuestMemory {
public:
	// Regions must be page aligned, non-empty, must not overlap each other
	// (in IPA) and must not wrap. EINVAL / EEXIST otherwise.
	Result<void> add_region(const MemRegion &r);
	// Forget the region added at ipa with this size (ENOENT otherwise),
	// unless busy(region) says the mediator still uses its memory
	// (EBUSY). Waits for copies from or to it in progress.
	template <typename Busy> Result<void> remove_region(uint64_t ipa, uint64_t size, Busy busy)
	{
		std::unique_lock guard(lock_);
		for (auto it = regions_.begin(); it != regions_.end(); ++it) {
			if (it->ipa != ipa || it->size != size)
				continue;
			if (busy(*it))
				return make_error(EBUSY);
			regions_.erase(it);
			return {};
		}
		return make_error(ENOENT);
	}

	// VMM address of [ipa, ipa + len) if it lies inside one region.
	Result<uint64_t> translate(uint64_t ipa, uint64_t len) const;
	// Whether [va, va + len) of the VMM lies inside one region now.
	bool holds(uint64_t va, uint64_t len) const;

	Result<void> read(uint64_t ipa, std::span<std::byte> out) const;
	Result<void> write(uint64_t ipa, std::span<const std::byte> in) const;

	template <typename T>
	Result<void> read_obj(uint64_t ipa, T &obj) const {
		return read(ipa, std::as_writable_bytes(std::span(&obj, 1)));
	}

	size_t region_count() const;

private:
	const MemRegion *find(uint64_t ipa, uint64_t len) const;

	mutable std::shared_mutex lock_;
	std::vector<MemRegion> regions_; // sorted by ipa
};

} // namespace teemed
