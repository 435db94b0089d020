// SPDX-License-Identifier: BSD-2-Clause
#pragma once

#include <cstdint>

namespace teemed {

// Counters of one VM. Monotonic counters count events since the VM was
// created; "live" ones are the current state.
struct VmStats {
	uint32_t client_id = 0;
	uint64_t fast_calls = 0;     // fast calls handled (forwarded or answered)
	uint64_t yielding_calls = 0; // CALL_WITH_ARG / RPC_ARG / REGD_ARG started
	uint64_t rpc_returns = 0;    // RETURN_FROM_RPC handled
	uint64_t rpcs = 0;           // RPCs passed to the guest
	uint64_t rejected = 0;       // calls the mediator refused itself
	uint64_t backend_calls = 0;  // SMCs issued through the backend
	uint64_t backend_errors = 0; // backend calls that failed (path errors)
	uint64_t pins = 0;           // pin operations
	uint64_t unpins = 0;         // unpin operations
	uint32_t pinned_pages = 0;   // live
	uint32_t pinned_pages_max = 0;
	uint32_t shm_buffers = 0;    // live registered SHM (incl. RPC SHM_ALLOC)
	uint32_t rpc_buffers = 0;    // live RPC ALLOC argument buffers
	uint32_t live_calls = 0;     // yielding calls in flight
	uint32_t live_calls_max = 0;
	uint32_t leaked_pages = 0;   // pages still pinned by the library after destroy (a bug)
	uint32_t unwind_abandoned = 0; // calls that did not complete at destroy; VM_DESTROYED
	                               // dropped them with the partition
	uint64_t foreign_intrs_resumed = 0; // host interrupts resumed without the guest
};

} // namespace teemed
