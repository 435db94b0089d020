// SPDX-License-Identifier: BSD-2-Clause
// The physical address space as OP-TEE's model sees it: the kernel shim's
// (tools/model/kernel/kshim.cpp), where a page has an address while the
// kernel has it allocated for a client or a client has it pinned. map()
// answers for a client's own pages only, and says why it did not.
#pragma once

#include <cstddef>
#include <cstdint>

namespace teemed::model {

class PhysSpace {
public:
	enum Why { Ok, Crosses, Never, Gone, NotOurs };
	// Host address of [pa, pa + len) within one page of @client's.
	std::byte *map(uint64_t pa, size_t len, uint32_t client, Why *why) const;
	// Pages with an address now, of every client.
	size_t pages() const;
	static const char *why_str(Why w);
};

} // namespace teemed::model
