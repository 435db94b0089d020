// SPDX-License-Identifier: BSD-2-Clause
#include "phys_space.hpp"

#include "kshim_runtime.h"

namespace teemed::model {

std::byte *PhysSpace::map(uint64_t pa, size_t len, uint32_t client, Why *why) const
{
	int w;
	void *p = kshim_phys_map(pa, len, client, &w);
	*why = Why(w);
	return static_cast<std::byte *>(p);
}

size_t PhysSpace::pages() const
{
	struct kshim_stats st;
	kshim_stats(&st);
	return st.kernel_pages + st.user_pages;
}

const char *PhysSpace::why_str(Why w)
{
	switch (w) {
	case Ok: return "ok";
	case Crosses: return "crosses a page";
	case Never: return "no page has it";
	case Gone: return "freed or unpinned";
	case NotOurs: return "another client's page";
	}
	return "?";
}

} // namespace teemed::model
