// SPDX-License-Identifier: BSD-2-Clause
#include "world.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "kshim_runtime.h"
#include "vm_access.hpp"

namespace teemed::explore {

using namespace abi;

// The tests' backend, a point of the scheduler before each of its calls
// (the library calls it outside its lock: another actor may run between
// the library's decision and OP-TEE), and the pins it hands out: each must
// be released exactly once.
class World::Backend : public teemed::Backend {
public:
	Backend(teemed::Backend &inner, Scheduler &sched, World &w) : inner_(inner), sched_(sched), w_(w) {}

	Result<std::unique_ptr<BackendContext>> create_vm() override
	{
		auto c = inner_.create_vm();
		if (!c)
			return c;
		return std::unique_ptr<BackendContext>(new Ctx(*this, std::move(*c)));
	}
	size_t live_pins() const
	{
		std::lock_guard g(lock_);
		return live_.size();
	}

private:
	struct Ctx : BackendContext {
		Ctx(Backend &b, std::unique_ptr<BackendContext> in) : b(b), in(std::move(in)) {}
		uint32_t client_id() const override { return in->client_id(); }
		Result<Handle> pin(std::span<const uint64_t> vas, uint32_t off, uint64_t size) override
		{
			b.sched_.point();
			auto h = in->pin(vas, off, size);
			if (h) {
				std::lock_guard g(b.lock_);
				b.live_.insert(*h);
			}
			return h;
		}
		void release(Handle h) override
		{
			b.sched_.point();
			{
				std::lock_guard g(b.lock_);
				if (!b.live_.erase(h))
					b.w_.broken("pin " + std::to_string(h) +
						    " released twice, or never pinned");
			}
			in->release(h);
		}
		Result<CallResult> call(const CallRequest &req) override
		{
			b.sched_.point();
			return in->call(req);
		}
		void shutdown() override
		{
			b.sched_.point();
			in->shutdown();
		}
		Backend &b;
		std::unique_ptr<BackendContext> in;
	};

	teemed::Backend &inner_;
	Scheduler &sched_;
	World &w_;
	mutable std::mutex lock_;
	std::set<Handle> live_;
};

namespace {

model::ModelConfig optee_config(const Config &cfg)
{
	model::ModelConfig m;
	m.threads = cfg.optee_threads;
	return m;
}

std::string hex(uint64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%#llx", (unsigned long long)v);
	return b;
}

} // namespace

World::World(const Config &cfg, Scheduler &sched)
	: sched_(sched), model_(optee_config(cfg)),
	  be_(std::make_unique<Backend>(model_, sched, *this)),
	  guest_(std::make_unique<test::Guest>(*be_, cfg.guest_pages))
{
	if (cfg.removable_pages)
		removable_ = guest_->add_ram(cfg.removable_pages);
	guest_->on_wait = [this] { sched_.reached(SyncPoint::Wait); };
	sessions_.resize(cfg.actors.size());
	if (cfg.setup)
		cfg.setup(*this);
	VmAccess::set_sync_observer(guest_->vm(), &sched_);
}

World::~World()
{
	if (!closed_)
		guest_->vm().close();
	guest_.reset();
	// The region the VMM removed goes back to the guest's RAM object to
	// unmap: let it.
	if (removed_.size)
		mprotect(reinterpret_cast<void *>(removed_.host_va), removed_.size,
			 PROT_READ | PROT_WRITE);
}

void World::broken(const std::string &what)
{
	if (broken_.empty())
		broken_ = what;
}

uint32_t &World::session(size_t self) { return sessions_.at(self); }

bool World::removed(uint64_t ipa) const
{
	return removed_.size && ipa >= removed_.ipa && ipa - removed_.ipa < removed_.size;
}

// A yielding call of the guest's driver, RPCs served; ETHREAD_LIMIT tried
// again a few times, as the driver waits and retries.
uint64_t World::call(std::vector<std::byte> &arg)
{
	uint64_t a0 = OPTEE_SMC_RETURN_ETHREAD_LIMIT;
	for (int tries = 0; tries < 3 && a0 == OPTEE_SMC_RETURN_ETHREAD_LIMIT; tries++)
		a0 = guest_->call(arg);
	return a0;
}

void World::invoke_rpc_shm(size_t self, uint64_t bytes)
{
	auto a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND, {{kAttrValueInput, bytes, 0, 0}},
				  model::kTaRpcShm, session(self));
	uint64_t a0;
	try {
		a0 = call(a);
	} catch (const std::exception &e) {
		if (closed_)
			return; // the VMM closed the VM: ESHUTDOWN, as it should
		throw;
	}
	const uint32_t ret = test::Guest::header(a).ret;
	if (a0 == OPTEE_SMC_RETURN_ETHREAD_LIMIT || (a0 == OPTEE_SMC_RETURN_OK && ret == kTeecSuccess))
		return;
	broken("vCPU " + std::to_string(self) + ": an RPC-SHM call ended with a0 " + hex(a0) +
	       ", ret " + hex(ret));
}

void World::register_shm(uint64_t cookie, uint64_t region)
{
	region = region ? region : test::Guest::kIpa;
	if (removed(region) || closed_)
		return; // the guest's RAM there is gone: its driver cannot
	// The guest's pages stay with the buffer for the run (a run is
	// short): another vCPU may unregister it before this one learns it
	// was registered.
	Buffer b{0, region, {}};
	b.buf_ptr = guest_->buffer(std::vector<std::byte>(512), 0, b.pages, region);
	auto a = test::Guest::msg(OPTEE_MSG_CMD_REGISTER_SHM,
				  {{kAttrTmemOutput | kAttrNoncontig, b.buf_ptr, 512, cookie}});
	if (call(a) == OPTEE_SMC_RETURN_OK && test::Guest::header(a).ret == kTeecSuccess) {
		net_[cookie]++;
		buffers_[cookie] = std::move(b);
	}
}

void World::unregister_shm(uint64_t cookie)
{
	auto a = test::Guest::msg(OPTEE_MSG_CMD_UNREGISTER_SHM, {{kAttrRmemInput, 0, 0, cookie}});
	if (call(a) == OPTEE_SMC_RETURN_OK && test::Guest::header(a).ret == kTeecSuccess)
		net_[cookie]--;
}

void World::regd_call(size_t self, uint64_t cookie)
{
	auto it = buffers_.find(cookie);
	if (net_[cookie] != 1 || it == buffers_.end() || removed(it->second.region))
		return;
	// The argument at the start of the registered buffer, its RPC
	// argument right behind it (OP-TEE's CALL_WITH_REGD_ARG).
	const uint64_t data = it->second.pages.back(); // the buffer's one data page
	auto a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND,
				  {{kAttrValueInput, 20, 22, 0}, {kAttrValueOutput, 0, 0, 0}},
				  model::kTaAdd, session(self));
	std::memcpy(guest_->at(data), a.data(), a.size());
	SmcRegs out = guest_->smc({OPTEE_SMC_CALL_WITH_REGD_ARG, reg_hi(cookie), reg_lo(cookie), 0});
	while (is_rpc(out[0]))
		out = guest_->serve(out);
	if (out[0] == OPTEE_SMC_RETURN_ETHREAD_LIMIT || out[0] == OPTEE_SMC_RETURN_EBADADDR)
		return; // busy, or unregistered meanwhile by another vCPU
	if (out[0] != OPTEE_SMC_RETURN_OK) {
		broken("vCPU " + std::to_string(self) + ": a REGD call ended with a0 " + hex(out[0]));
		return;
	}
	if (removed(data))
		return;
	std::memcpy(a.data(), guest_->at(data), a.size());
	if (test::Guest::header(a).ret == kTeecSuccess && test::Guest::param(a, 1).a != 42)
		broken("vCPU " + std::to_string(self) + ": a REGD call's answer is wrong");
}

void World::shm_cache_cycle(size_t self)
{
	if (guest_->enable_shm_cache() != OPTEE_SMC_RETURN_OK)
		return; // a thread was busy: OP-TEE refuses, the driver goes on
	for (int tries = 0; tries < 64; tries++) {
		const uint64_t a0 = guest_->disable_shm_cache();
		if (a0 == OPTEE_SMC_RETURN_ENOTAVAIL)
			return;
		if (a0 != OPTEE_SMC_RETURN_EBUSY) {
			broken("vCPU " + std::to_string(self) + ": DISABLE_SHM_CACHE gave " + hex(a0));
			return;
		}
		sched_.reached(SyncPoint::Wait); // until the others' calls end
	}
	broken("vCPU " + std::to_string(self) + ": the SHM cache never became free to disable");
}

void World::remove_region()
{
	if (!removable_ || removed_.size)
		return;
	const MemRegion r = guest_->region_of(removable_);
	if (!guest_->vm().remove_region(r.ipa, r.size))
		return; // EBUSY: the VMM keeps it for now
	// Gone for the library: a VMM unmaps it now. Any later access of the
	// library there faults.
	removed_ = r;
	mprotect(reinterpret_cast<void *>(r.host_va), r.size, PROT_NONE);
}

void World::close_vm()
{
	closed_ = true;
	guest_->vm().close();
}

// ---- invariants --------------------------------------------------------------

// Every OP-TEE thread suspended for this VM is reachable by exactly one
// call the library has, and the library has no call OP-TEE does not.
std::string World::check_threads()
{
	const auto optee = model_.optee().suspended_thread_ids(guest_->vm().client_id());
	return VmAccess::inspect(guest_->vm(), [&](const auto &calls, const auto &threads,
						   const auto &, const auto &) -> std::string {
		std::set<uint32_t> lib;
		for (const auto &c : calls) {
			if (!c.suspended)
				return "a call is in flight with no vCPU inside";
			if (!lib.insert(c.thread).second)
				return "two calls suspended on thread " + std::to_string(c.thread);
			auto t = threads.find(c.thread);
			if (t == threads.end() || &*t->second != &c)
				return "thread " + std::to_string(c.thread) +
				       ": its call cannot be resumed (the thread table lost it)";
		}
		if (threads.size() != lib.size())
			return "the thread table names a thread no call waits on";
		if (lib != optee)
			return "OP-TEE has " + std::to_string(optee.size()) +
			       " threads suspended for the VM, the library " +
			       std::to_string(lib.size());
		return {};
	});
}

// The guest, the library and OP-TEE agree on what is registered.
std::string World::check_buffers()
{
	std::set<uint64_t> guest;
	for (const auto &[cookie, n] : net_) {
		if (n != 0 && n != 1)
			return "cookie " + hex(cookie) + ": " + std::to_string(n) +
			       " more REGISTER_SHMs than UNREGISTER_SHMs succeeded";
		if (n)
			guest.insert(cookie);
	}
	const size_t optee = model_.optee().registered_shm(guest_->vm().client_id());
	return VmAccess::inspect(guest_->vm(), [&](const auto &, const auto &, const auto &shm,
						   const auto &pending) -> std::string {
		std::set<uint64_t> lib;
		for (const auto &[cookie, b] : shm)
			if (!b.from_rpc)
				lib.insert(cookie);
		if (!pending.empty())
			return "a registration is pending with no vCPU inside";
		if (lib != guest)
			return "the guest has " + std::to_string(guest.size()) +
			       " buffers registered, the library " + std::to_string(lib.size());
		if (lib.size() != optee)
			return "the library has " + std::to_string(lib.size()) +
			       " buffers registered, OP-TEE " + std::to_string(optee);
		return {};
	});
}

// The library keeps no address in a region the VMM removed: it would
// write there later.
std::string World::check_addresses()
{
	if (!removed_.size)
		return {};
	auto inside = [&](uint64_t va) {
		return va >= removed_.host_va && va - removed_.host_va < removed_.size;
	};
	return VmAccess::inspect(guest_->vm(), [&](const auto &calls, const auto &,
						   const auto &shm, const auto &) -> std::string {
		for (const auto &c : calls) {
			for (const GuestSpan *s : {&c.arg_loc, &c.rpc_loc, &c.cmd_guest})
				for (const auto &seg : s->segs)
					if (inside(seg.va))
						return "a call keeps an address in the removed region";
			if (c.reg)
				for (uint64_t va : c.reg->page_vas())
					if (inside(va))
						return "a registration in flight keeps an address in "
						       "the removed region";
		}
		for (const auto &[cookie, b] : shm)
			for (uint64_t va : b.buf.page_vas())
				if (inside(va))
					return "buffer " + hex(cookie) + " lies in the removed region";
		return {};
	});
}

std::string World::check()
{
	if (!broken_.empty())
		return broken_;
	for (const auto &r : model_.optee().reports())
		return "OP-TEE's model: " + r;
	if (closed_)
		return {};
	if (auto e = check_addresses(); !e.empty())
		return e;
	if (guest_->inside())
		return {}; // a vCPU is inside: the tables are its to settle
	if (auto e = check_threads(); !e.empty())
		return e;
	return check_buffers();
}

std::string World::finish()
{
	if (auto e = check(); !e.empty())
		return e;
	if (!closed_) {
		if (guest_->vm().stats().live_calls)
			return "a call is left in flight after its vCPU stopped";
		guest_->vm().close();
		closed_ = true;
	}
	if (model_.optee().guests())
		return "OP-TEE still has the VM's partition after close";
	if (const size_t n = be_->live_pins())
		return std::to_string(n) + " pins never released";
	struct kshim_stats st;
	kshim_stats(&st);
	if (st.kernel_pages || st.user_pages)
		return "the kernel holds pages after close";
	return broken_;
}

// ---- exploring -------------------------------------------------------------

namespace {

// One run of @cfg under @s.
Scheduler::Outcome run_once(const Config &cfg, Strategy &s)
{
	Scheduler sched;
	World w(cfg, sched);
	std::vector<std::function<void()>> actors;
	for (size_t i = 0; i < cfg.actors.size(); i++)
		actors.push_back([&w, &cfg, i] { cfg.actors[i](w, i); });
	auto out = sched.run(actors, s, [&] { return w.check(); });
	if (out.broken.empty())
		out.broken = w.finish();
	// Said before the world goes: a report of OP-TEE's model ends the
	// process there (ModelBackend).
	if (!out.broken.empty())
		fprintf(stderr, "explore: %s: %s\n  schedule %s\n", cfg.name.c_str(),
			out.broken.c_str(), schedule_str(out.schedule).c_str());
	return out;
}

} // namespace

Report explore_exhaustive(const Config &cfg, unsigned preemptions, size_t max_runs)
{
	Report r;
	Exhaustive s(preemptions);
	bool more = true;
	do {
		auto out = run_once(cfg, s);
		r.runs++;
		r.steps += out.steps;
		if (!out.broken.empty()) {
			r.broken = out.broken;
			r.schedule = schedule_str(out.schedule);
			return r;
		}
		if (s.diverged()) {
			r.broken = "a run was not determined by its schedule";
			r.schedule = schedule_str(out.schedule);
			return r;
		}
	} while (r.runs < max_runs && (more = s.next()));
	r.exhausted = !more;
	return r;
}

Report explore_pct(const Config &cfg, uint64_t seed, size_t runs, unsigned depth)
{
	Report r;
	size_t steps = 64; // learnt from the first run
	for (size_t i = 0; i < runs; i++) {
		Pct s(seed + i, cfg.actors.size(), steps, depth);
		auto out = run_once(cfg, s);
		r.runs++;
		r.steps += out.steps;
		steps = std::max<size_t>(out.steps, 1);
		if (!out.broken.empty()) {
			r.broken = out.broken + " (PCT seed " + std::to_string(seed + i) + ")";
			r.schedule = schedule_str(out.schedule);
			return r;
		}
	}
	return r;
}

Report replay(const Config &cfg, const std::string &schedule)
{
	Replay s(parse_schedule(schedule));
	auto out = run_once(cfg, s);
	Report r;
	r.runs = 1;
	r.steps = out.steps;
	r.broken = out.broken;
	r.schedule = schedule_str(out.schedule);
	return r;
}

} // namespace teemed::explore
