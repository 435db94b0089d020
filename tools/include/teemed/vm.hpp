// SPDX-License-Identifier: BSD-2-Clause
// The C++ API a VMM embeds: one teemed::Vm per guest. Hand it every SMC the
// guest makes in the Trusted OS / Trusted App ranges; it answers exactly as
// OP-TEE would to an unmodified guest driver, talking to the real OP-TEE
// through a Backend.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "teemed/backend.hpp"
#include "teemed/limits.hpp"
#include "teemed/result.hpp"
#include "teemed/stats.hpp"

namespace teemed {

// A region of guest RAM and where the VMM mapped it.
struct MemRegion {
	uint64_t ipa;     // guest physical base
	uint64_t size;    // bytes
	uint64_t host_va; // where the VMM mapped it
};

class VmState; // the protocol state, private to the library

class TEEMED_API Vm {
public:
	// Registers a new VM with the TEE through `backend` (which must
	// outlive the Vm). `label` names the VM in probes and traces.
	static Result<std::unique_ptr<Vm>> create(Backend &backend, const Limits &limits = {},
						  uint64_t label = 0);
	// Orderly destroy: see close().
	~Vm();
	Vm(const Vm &) = delete;
	Vm &operator=(const Vm &) = delete;

	// Tell the mediator where guest RAM lives, before the guest runs and
	// whenever the VMM maps more.
	Result<void> add_region(const MemRegion &region);
	// Forget one: ENOENT if no region was added at this ipa with this
	// size, EBUSY while a call or a registered buffer of the guest still
	// lies in it (the mediator would write there). The VMM unmaps it only
	// after this succeeds.
	Result<void> remove_region(uint64_t ipa, uint64_t size);

	// Handle one trapped SMC: `in` holds x0..x7 as the guest left them.
	// Returns the registers to give back: x0..x3 set, x4..x7 as they were.
	// Guest mistakes are answered with OP-TEE's return codes, never an
	// error here. Errors: ESHUTDOWN after close(). Safe to call from many
	// vCPU threads at once.
	Result<SmcRegs> handle_smc(const SmcRegs &in);

	// Refuse new calls, wait for vCPUs inside the backend, unwind calls
	// suspended in RPCs, tell the TEE the VM is gone, free every pin.
	// Idempotent.
	void close();

	// How long one handle_smc() may resume OP-TEE after the host's
	// interrupts (OPTEE_SMC_RPC_FUNC_FOREIGN_INTR) before the guest gets
	// one and its vCPU runs; 0 gives every one to the guest. Any time,
	// from any thread.
	void set_foreign_intr_budget(std::chrono::microseconds budget);

	VmStats stats() const;
	uint32_t client_id() const;
	uint64_t label() const;

private:
	friend class VmAccess; // the library's own tests (not API)
	explicit Vm(std::unique_ptr<VmState> state);
	std::unique_ptr<VmState> state_;
};

} // namespace teemed
