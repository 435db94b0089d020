// SPDX-License-Identifier: BSD-2-Clause
#pragma once

#include <cstddef>
#include <cstring>

namespace teemed {

// memcpy that accepts the empty copies (null data of an empty span or
// vector) memcpy itself declares undefined.
inline void copy_bytes(void *dst, const void *src, size_t n)
{
	if (n)
		std::memcpy(dst, src, n);
}

} // namespace teemed
