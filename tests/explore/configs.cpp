// SPDX-License-Identifier: BSD-2-Clause
#include "configs.hpp"

namespace teemed::explore {

namespace {

constexpr uint64_t kCookie = 0x55;

// Each vCPU its own session of the model TA.
void open_sessions(World &w, size_t vcpus)
{
	for (size_t i = 0; i < vcpus; i++)
		w.session(i) = w.guest().open_session();
}

std::vector<Config> make()
{
	std::vector<Config> all;

	// Ordinary calls whose TA asks for RPC shared memory: OP-TEE hands a
	// finished call's thread to the next call before the first vCPU is
	// back (issue 17, first bug).
	all.push_back({"rpc-calls", 4, 64, 0,
		       {[](World &w, size_t i) { w.invoke_rpc_shm(i); },
			[](World &w, size_t i) { w.invoke_rpc_shm(i); }},
		       [](World &w) { open_sessions(w, 2); }});

	// Three vCPUs, two OP-TEE threads: calls meet ETHREAD_LIMIT too.
	all.push_back({"rpc-calls-3", 2, 64, 0,
		       {[](World &w, size_t i) { w.invoke_rpc_shm(i); },
			[](World &w, size_t i) { w.invoke_rpc_shm(i); },
			[](World &w, size_t i) { w.invoke_rpc_shm(i); }},
		       [](World &w) { open_sessions(w, 3); }});

	// One cookie registered; one vCPU unregisters and registers it again
	// while another unregisters it (issue 17, third bug).
	all.push_back({"cookie-race", 4, 64, 0,
		       {[](World &w, size_t) {
				w.unregister_shm(kCookie);
				w.register_shm(kCookie);
			},
			[](World &w, size_t) { w.unregister_shm(kCookie); }},
		       [](World &w) { w.register_shm(kCookie); }});

	// Two vCPUs register and unregister one cookie each way round.
	all.push_back({"cookie-pingpong", 4, 64, 0,
		       {[](World &w, size_t) {
				w.register_shm(kCookie);
				w.unregister_shm(kCookie);
			},
			[](World &w, size_t) {
				w.unregister_shm(kCookie);
				w.register_shm(kCookie);
			}},
		       nullptr});

	// A vCPU registers a buffer in a region and calls with its argument
	// there while the VMM removes the region (issue 17, second bug).
	all.push_back({"remove-region", 4, 64, 8,
		       {[](World &w, size_t i) {
				w.register_shm(kCookie, w.removable());
				w.regd_call(i, kCookie);
				w.unregister_shm(kCookie);
			},
			[](World &w, size_t) { w.remove_region(); }},
		       [](World &w) { open_sessions(w, 1); }});

	// The SHM cache switched on and off by one vCPU while two others make
	// calls whose RPC arguments it keeps (ENABLE/DISABLE_SHM_CACHE, RPC
	// ALLOC/FREE, SHM_ALLOC/FREE, the cached cookies handed back).
	all.push_back({"shm-cache", 4, 64, 0,
		       {[](World &w, size_t i) { w.invoke_rpc_shm(i); },
			[](World &w, size_t i) { w.invoke_rpc_shm(i); },
			[](World &w, size_t i) { w.shm_cache_cycle(i); }},
		       [](World &w) { open_sessions(w, 2); }});

	// The VMM destroys the VM while two vCPUs are calling.
	all.push_back({"destroy", 4, 64, 0,
		       {[](World &w, size_t i) { w.invoke_rpc_shm(i); },
			[](World &w, size_t i) { w.invoke_rpc_shm(i); },
			[](World &w, size_t) { w.close_vm(); }},
		       [](World &w) { open_sessions(w, 2); }});
	return all;
}

} // namespace

const std::vector<Config> &configs()
{
	static const std::vector<Config> all = make();
	return all;
}

const Config *config(const std::string &name)
{
	for (const auto &c : configs())
		if (c.name == name)
			return &c;
	return nullptr;
}

} // namespace teemed::explore
