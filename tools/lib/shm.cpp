// SPDX-License-Identifier: BSD-2-Clause
// Guest shared memory: walking a NONCONTIG page list in guest RAM and
// pinning what it names. The page list format is OP-TEE's: each 4 KiB list
// page holds 511 page addresses and, last, the address of the next list
// page.
#include "vm_state.hpp"

namespace teemed {

using namespace abi;

Result<PinnedBuffer> VmState::pin_noncontig(uint64_t buf_ptr, uint64_t size)
{
	const uint32_t offset = uint32_t(buf_ptr & kPageMask);
	uint64_t list_ipa = buf_ptr & ~kPageMask;

	// OP-TEE cannot describe an empty non-NULL buffer either.
	if (size == 0)
		return make_error(EINVAL);
	const uint64_t max_bytes = uint64_t(limits_.max_pages_per_buffer) * kPageSize;
	if (size > max_bytes)
		return make_error(ENOMEM);
	const uint32_t pages = uint32_t((offset + size + kPageSize - 1) / kPageSize);
	if (pages > limits_.max_pages_per_buffer)
		return make_error(ENOMEM);

	// Only as many list pages as `pages` needs are read, so a list whose
	// next pointer loops back is harmless: it is read a bounded number of
	// times and each entry is checked like any other.
	std::vector<uint64_t> vas;
	vas.reserve(pages);
	std::array<uint64_t, kPageSize / sizeof(uint64_t)> list;
	while (vas.size() < pages) {
		if (list_ipa & kPageMask)
			return make_error(EINVAL);
		if (!mem_.read(list_ipa, std::as_writable_bytes(std::span(list))))
			return make_error(EINVAL);
		for (size_t i = 0; i < kPagesPerListPage && vas.size() < pages; i++) {
			const uint64_t ipa = list[i];
			if (ipa & kPageMask)
				return make_error(EINVAL);
			auto va = mem_.translate(ipa, kPageSize);
			if (!va)
				return make_error(EINVAL);
			vas.push_back(*va);
		}
		list_ipa = list[kPagesPerListPage];
	}

	if (!acct_.reserve(pages, limits_.max_pinned_pages_per_vm))
		return make_error(ENOMEM);
	auto h = ctx_->pin(vas, offset, size);
	if (!h) {
		acct_.unreserve(pages);
		const int e = h.error();
		return make_error(e == ENOMEM || e == EDQUOT ? ENOMEM : EINVAL);
	}
	return PinnedBuffer(ctx_.get(), *h, &acct_, std::move(vas), offset, size);
}

bool VmState::mapped(const GuestSpan &s) const
{
	for (const auto &seg : s.segs)
		if (!mem_.holds(seg.va, seg.len))
			return false;
	return true;
}

bool VmState::mapped(const PinnedBuffer &b) const
{
	for (uint64_t va : b.page_vas())
		if (!mem_.holds(va, kPageSize))
			return false;
	return true;
}

bool VmState::cookie_in_use(uint64_t cookie) const
{
	// Caller holds lock_. One namespace for every cookie a VM gives
	// OP-TEE, so that no cookie can ever name two buffers.
	return shm_.count(cookie) || rpc_bufs_.count(cookie) || pending_reg_.count(cookie) ||
	       unregistering_.count(cookie);
}

} // namespace teemed
