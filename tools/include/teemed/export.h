/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What libteemed.so exports: the C ABI of teemed.h (stable: the SONAME
 * changes only when it breaks) and the C++ API of vm.hpp, backend.hpp and
 * kernel_backend.hpp (source-stable within a minor version; C++ users
 * build against the headers of the library they run with). Everything
 * else in the library is hidden.
 */
#ifndef TEEMED_EXPORT_H
#define TEEMED_EXPORT_H

#if defined(__GNUC__)
#define TEEMED_API __attribute__((visibility("default")))
#else
#define TEEMED_API
#endif

/* The library's version; TEEMED_VERSION_MAJOR is the SONAME's number. */
#define TEEMED_VERSION_MAJOR 1
#define TEEMED_VERSION_MINOR 1
#define TEEMED_VERSION_PATCH 0

#endif /* TEEMED_EXPORT_H */
