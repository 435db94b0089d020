// SPDX-License-Identifier: BSD-2-Clause
// What the explorer runs: one VM of the library on the kernel's code in
// process with OP-TEE's model behind it (the tests' backend), a guest with
// its RAM, and actors — the guest's vCPUs and the VMM — each running a
// short program of guest calls and VMM actions. After every step the world
// checks what the library promises (check()), at the end that nothing is
// left (finish()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "guest_driver.hpp"
#include "scheduler.hpp"

namespace teemed::explore {

class World;

// What one actor does.
using Program = std::function<void(World &w, size_t self)>;

struct Config {
	std::string name;
	uint32_t optee_threads = 4; // CFG_NUM_THREADS of the model
	uint32_t guest_pages = 64;
	uint32_t removable_pages = 0; // a second region, for the VMM to remove
	std::vector<Program> actors;
	// Before the actors, on the test's own thread: sessions, buffers.
	std::function<void(World &w)> setup;
};

class World {
public:
	explicit World(const Config &cfg, Scheduler &sched);
	~World();
	World(const World &) = delete;
	World &operator=(const World &) = delete;

	// After every step: the first invariant broken, or empty.
	std::string check();
	// After the actors: nothing stuck; then the VM closed and nothing
	// left pinned. The first broken, or empty.
	std::string finish();
	// A program saw what must not be (the first is kept).
	void broken(const std::string &what);

	// ---- what programs do (each a few SMCs, RPCs served) ----
	test::Guest &guest() { return *guest_; }
	// A session of the model TA for @self, opened by setup.
	uint32_t &session(size_t self);
	// Invoke a command that allocates RPC shared memory (SHM_ALLOC, then
	// SHM_FREE): ordinary calls whose threads OP-TEE reuses at once.
	void invoke_rpc_shm(size_t self, uint64_t bytes = 100);
	// REGISTER_SHM and UNREGISTER_SHM of @cookie, a buffer in @region
	// (0: the first).
	void register_shm(uint64_t cookie, uint64_t region = 0);
	void unregister_shm(uint64_t cookie);
	// CALL_WITH_REGD_ARG in the registered buffer of @cookie.
	void regd_call(size_t self, uint64_t cookie);
	// ENABLE_SHM_CACHE, then DISABLE_SHM_CACHE until it is off (EBUSY
	// while another vCPU's call runs: tried again after a yield).
	void shm_cache_cycle(size_t self);
	// The VMM: remove the removable region (and unmap it, as a VMM would);
	// close the VM.
	void remove_region();
	void close_vm();
	uint64_t removable() const { return removable_; }

private:
	class Backend;
	struct Buffer {
		uint64_t buf_ptr;
		uint64_t region;
		std::vector<uint64_t> pages;
	};

	uint64_t call(std::vector<std::byte> &arg);
	bool removed(uint64_t ipa) const;
	std::string check_threads();
	std::string check_buffers();
	std::string check_addresses();

	Scheduler &sched_;
	model::ModelBackend model_;
	std::unique_ptr<Backend> be_;
	std::unique_ptr<test::Guest> guest_;
	std::vector<uint32_t> sessions_;
	uint64_t removable_ = 0;
	MemRegion removed_{};
	bool closed_ = false;
	std::map<uint64_t, Buffer> buffers_; // by cookie: the last registered
	// Per cookie, REGISTER_SHMs that succeeded less UNREGISTER_SHMs that
	// did: with two vCPUs on one cookie, each may learn of its success
	// after the other's, but once none is inside, this is 0 or 1 and
	// says what the guest has registered.
	std::map<uint64_t, int> net_;
	std::string broken_;
};

// Every schedule of @cfg up to @preemptions: runs explored, steps, the first
// broken invariant with its schedule.
struct Report {
	size_t runs = 0;
	size_t steps = 0;
	bool exhausted = false; // every schedule within the bound was run
	std::string broken;
	std::string schedule;
};
Report explore_exhaustive(const Config &cfg, unsigned preemptions, size_t max_runs);
Report explore_pct(const Config &cfg, uint64_t seed, size_t runs, unsigned depth);
Report replay(const Config &cfg, const std::string &schedule);

} // namespace teemed::explore
