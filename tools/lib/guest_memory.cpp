// SPDX-License-Identifier: BSD-2-Clause
#include "bytes.hpp"
#include "guest_memory.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "optee_abi.hpp"

namespace teemed {

namespace {

bool overflows(uint64_t base, uint64_t len) { return base + len < base; }

} // namespace

Result<void> GuestMemory::add_region(const MemRegion &r)
{
	if (r.size == 0 || (r.ipa | r.size | r.host_va) & abi::kPageMask)
		return make_error(EINVAL);
	if (overflows(r.ipa, r.size) || overflows(r.host_va, r.size))
		return make_error(EINVAL);

	std::unique_lock guard(lock_);
	for (const auto &o : regions_)
		if (r.ipa < o.ipa + o.size && o.ipa < r.ipa + r.size)
			return make_error(EEXIST);
	auto pos = std::lower_bound(regions_.begin(), regions_.end(), r.ipa,
				    [](const MemRegion &m, uint64_t ipa) { return m.ipa < ipa; });
	regions_.insert(pos, r);
	return {};
}

const MemRegion *GuestMemory::find(uint64_t ipa, uint64_t len) const
{
	if (overflows(ipa, len))
		return nullptr;
	// First region whose end is beyond ipa; the range must fit inside it.
	auto it = std::upper_bound(regions_.begin(), regions_.end(), ipa,
				   [](uint64_t v, const MemRegion &m) { return v < m.ipa + m.size; });
	if (it == regions_.end() || ipa < it->ipa || ipa + len > it->ipa + it->size)
		return nullptr;
	return &*it;
}

Result<uint64_t> GuestMemory::translate(uint64_t ipa, uint64_t len) const
{
	std::shared_lock guard(lock_);
	const MemRegion *r = find(ipa, len);
	if (!r)
		return make_error(EFAULT);
	return r->host_va + (ipa - r->ipa);
}

// Both copy under the lock: a VMM removing a region (a memory listener
// before it unmaps) waits for them.
Result<void> GuestMemory::read(uint64_t ipa, std::span<std::byte> out) const
{
	std::shared_lock guard(lock_);
	const MemRegion *r = find(ipa, out.size());
	if (!r)
		return make_error(EFAULT);
	// The guest may write this memory concurrently from another vCPU: the
	// copy is the snapshot every later check works on.
	copy_bytes(out.data(), reinterpret_cast<const void *>(r->host_va + (ipa - r->ipa)),
		   out.size());
	return {};
}

Result<void> GuestMemory::write(uint64_t ipa, std::span<const std::byte> in) const
{
	std::shared_lock guard(lock_);
	const MemRegion *r = find(ipa, in.size());
	if (!r)
		return make_error(EFAULT);
	copy_bytes(reinterpret_cast<void *>(r->host_va + (ipa - r->ipa)), in.data(), in.size());
	return {};
}

bool GuestMemory::holds(uint64_t va, uint64_t len) const
{
	std::shared_lock guard(lock_);
	for (const auto &r : regions_)
		if (va >= r.host_va && len <= r.size && va - r.host_va <= r.size - len)
			return true;
	return false;
}

size_t GuestMemory::region_count() const
{
	std::shared_lock guard(lock_);
	return regions_.size();
}

} // namespace teemed
