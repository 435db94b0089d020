// SPDX-License-Identifier: BSD-2-Clause
// Every limit the mediator enforces on a VM, with where its default comes
// from. All are per VM and configurable by the VMM. The defaults are
// tables/limits.tsv's (the library checks them against it when built).
#pragma once

#include <cstdint>

namespace teemed {

struct Limits {
	// Pages one buffer (a TMEM page list, a registered SHM, an RPC
	// SHM_ALLOC) may span: 512 KiB, the GlobalPlatform minimum a TEE must
	// accept for one shared memory, plus one page for a buffer that does
	// not start on a page boundary (Xen: MAX_SHM_BUFFER_PG = 129).
	uint32_t max_pages_per_buffer = 129;
	// Pages a VM may keep pinned at once: 64 MiB of 4 KiB pages, Xen's
	// MAX_TOTAL_SMH_BUF_PG. Host RAM a guest can hold hostage is bounded
	// by this number.
	uint32_t max_pinned_pages_per_vm = 16384;
	// Registered SHM buffers (REGISTER_SHM and RPC SHM_ALLOC) a VM may
	// hold at once (Xen: MAX_SHM_BUFFER_COUNT = 16). Linux with RPC_ARG
	// keeps a few argument pages registered; a client's buffers come on
	// top.
	uint32_t max_buffers_per_vm = 16;
	// RPC argument buffers (RPC ALLOC) a VM may hold: OP-TEE asks for at
	// most one per thread, so the thread count bounds it; this default is
	// OP-TEE's usual CFG_NUM_THREADS ceiling.
	uint32_t max_rpc_buffers_per_vm = 16;
	// Yielding calls a VM may have in flight; further ones get
	// ETHREAD_LIMIT. The effective limit is also capped by OP-TEE's own
	// thread count (GET_THREAD_COUNT), which all VMs share.
	uint32_t max_calls_per_vm = 16;
};

} // namespace teemed
