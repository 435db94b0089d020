// SPDX-License-Identifier: BSD-2-Clause
// The model's physical address space: what the kernel would know. Pinned
// VMM pages, page lists and the kernel's pages each get a made-up physical page
// number; OP-TEE-model code reaches memory only through map(), which, like
// OP-TEE's checks of non-secure memory, refuses anything not registered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

namespace teemed::model {

class PhysSpace {
public:
	// A new physical page backed by `host` (4 KiB, page aligned).
	uint64_t add(std::byte *host);
	void remove(uint64_t pa);
	// Host address of [pa, pa + len) if it lies in one registered page.
	std::byte *map(uint64_t pa, size_t len) const;
	size_t pages() const;

private:
	mutable std::mutex lock_;
	std::map<uint64_t, std::byte *> pages_; // by page frame address
	// Far from 0 so that a NULL memref and a real address never meet.
	uint64_t next_ = 0x8000'0000ull;
};

} // namespace teemed::model
