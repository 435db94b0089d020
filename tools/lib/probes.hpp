// SPDX-License-Identifier: BSD-2-Clause
// Static USDT probes (provider "teemed") for the eBPF tools in bpf/: they
// attach by name, no symbols needed. Arguments are integers only.
//
//   smc_entry(label, client_id, a0)          a guest SMC arrives
//   smc_exit(label, client_id, a0_in, a0_out) its answer leaves
//   backend_enter(label, client_id, a0)      an SMC goes to the backend
//   backend_exit(label, client_id, a0_in, a0_out)
//   pin(label, client_id, pages, total)      pages pinned, VM total after
//   unpin(label, client_id, pages, total)
//   vm_create(label, client_id)
//   vm_destroy(label, client_id, leaked_pages)  pages the library still had
//                                            pinned after destroy (0 unless a bug)
#pragma once

#include <sys/sdt.h>

#define TEEMED_PROBE2(name, a, b) DTRACE_PROBE2(teemed, name, a, b)
#define TEEMED_PROBE3(name, a, b, c) DTRACE_PROBE3(teemed, name, a, b, c)
#define TEEMED_PROBE4(name, a, b, c, d) DTRACE_PROBE4(teemed, name, a, b, c, d)
