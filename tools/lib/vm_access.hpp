// SPDX-License-Identifier: BSD-2-Clause
// The library's state of one VM, for the tests that look inside it (the
// interleaving explorer, tests/explore): not API, not installed.
#pragma once

#include <mutex>
#include <utility>

#include "teemed/vm.hpp"
#include "vm_state.hpp"

namespace teemed {

class VmAccess {
public:
	// The tables as they are, under the VM's lock: f(calls, threads, shm,
	// pending registrations).
	template <typename F> static auto inspect(Vm &vm, F f)
	{
		VmState &s = *vm.state_;
		std::lock_guard g(s.lock_.m_);
		return f(std::as_const(s.calls_), std::as_const(s.threads_), std::as_const(s.shm_),
			 std::as_const(s.pending_reg_));
	}
	static void set_sync_observer(Vm &vm, SyncObserver *o) { vm.state_->lock_.set_observer(o); }
};

} // namespace teemed
