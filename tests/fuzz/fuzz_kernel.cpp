// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer harness: a hostile VMM, its threads interleaved, drives the
// series' VM-context code itself (tools/model/kernel: smc_vm.c and
// tee_vm_ioctl() as kernel/patches make them, over the kernel shim) with raw
// ioctls on up to four contexts: pins of its memory and their releases,
// calls with any message, RPC answers of any kind, fast calls, closes, and
// raw ioctls with every field as the input has it (the input language:
// kernel_ops.hpp). OP-TEE is the model, faithful in how it names and keeps
// buffers; a foreign interrupt comes wherever the input's schedule says.
// The seeds are the board suite's attacks, written in that language
// (tests/fuzz/seeds/fuzz_kernel, make fuzz-seeds).
//
// After every step: OP-TEE's model reported nothing (it touched only pages
// allocated for, or pinned by, the client it served, at that moment, and
// did not panic) and the kernel warned of nothing; the trace points agree
// with what happened. After every input, all closed: no page pinned or
// allocated, no object, no partition left, the process's pinned_vm back to
// 0, every context's destroy traced.
#include <fuzzer/FuzzedDataProvider.h>

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "bytes.hpp"
#include "harness_device.hpp"
#include "inputs.hpp"
#include "kernel_ops.hpp"
#include "kshim_runtime.h"
#include "step_mutator.hpp"

using namespace teemed;
using namespace teemed::abi;
using teemed::model::HarnessDevice;
using teemed::model::OpteeModel;

namespace {

using fuzz::kArenaPages;

// FUZZ_KERNEL_VERBOSE: each ioctl and trace event on stderr (read once: it
// is asked on every step).
bool verbose()
{
	static const bool v = getenv("FUZZ_KERNEL_VERBOSE");
	return v;
}

// FUZZ_KERNEL_KNOWN="text|text": reports that contain one are a finding
// already known (a campaign against a series with several holes moves on
// from the first).
bool known(const std::string &report)
{
	const char *k = getenv("FUZZ_KERNEL_KNOWN");
	for (std::string rest = k ? k : ""; !rest.empty();) {
		const size_t bar = rest.find('|');
		const std::string one = rest.substr(0, bar);
		if (!one.empty() && report.find(one) != std::string::npos)
			return true;
		rest = bar == std::string::npos ? "" : rest.substr(bar + 1);
	}
	return false;
}

// The reports of OP-TEE's model not known yet: the first, or nothing.
std::string first_report(const OpteeModel &optee)
{
	for (const auto &r : optee.reports())
		if (!known(r))
			return r;
	return {};
}

// The sweep's progress, for the report of a finding (an abort): the
// variant running, kept in sweep-variant then, as libFuzzer keeps a crash.
struct SweepAt {
	std::string file;
	size_t variant = 0, before = 0;
	std::vector<uint8_t> bytes;
};
SweepAt &sweep_at()
{
	static SweepAt at;
	return at;
}

void sweep_report()
{
	const SweepAt &at = sweep_at();
	std::ofstream("sweep-variant", std::ios::binary)
		.write(reinterpret_cast<const char *>(at.bytes.data()), std::streamsize(at.bytes.size()));
	std::fprintf(stderr, "sweep: broken by variant %zu of %s (%zu variants run in all), "
			     "kept in sweep-variant\n",
		     at.variant, at.file.c_str(), at.before + at.variant);
}

void check(bool ok, const char *what, const std::string &detail = {})
{
	if (!ok) {
		std::fprintf(stderr, "invariant broken: %s %s\n", what, detail.c_str());
		if (!sweep_at().file.empty())
			sweep_report();
		std::abort();
	}
}

// The tee_vm trace points as bpf/'s tools read them: each pin and unpin
// carries the context's pinned total, which must be what the events so far
// add up to; a handle is pinned once and unpinned once; every context
// created is destroyed.
struct TraceCheck {
	struct Client {
		int64_t pinned = 0;
		std::set<uint64_t> handles;
		bool live = false;
	};
	std::map<uint32_t, Client> clients;
	// Another VMM thread is inside the code: a total may count its pin
	// in progress, not traced yet.
	std::function<bool()> concurrent;

	static void event(void *arg, const char *ev, uint32_t id, uint64_t a, uint64_t b,
			  uint64_t c)
	{
		auto &t = *static_cast<TraceCheck *>(arg);
		Client &cl = t.clients[id];
		const std::string e = ev;
		const std::string who = "client " + std::to_string(id);
		if (verbose())
			std::fprintf(stderr, "        trace %s client %u %llu %llu %llu\n",
				     ev, id, (unsigned long long)a,
				     (unsigned long long)b, (unsigned long long)c);
		if (e == "create") {
			check(!cl.live, "tee_vm_create of a live client:", who);
			// A context's last unpins follow its destroy: its id
			// stays taken until they are done, or bpf/'s tools
			// would count them against the id's next holder (the
			// series once freed the id first; this check found it).
			check(cl.handles.empty(), "tee_vm_create of an id with pins left:", who);
			cl = Client{};
			cl.live = true;
		} else if (e == "destroy") {
			check(cl.live, "tee_vm_destroy of no context:", who);
			check((t.concurrent && t.concurrent()) || int64_t(a) == cl.pinned,
			      "tee_vm_destroy's pinned total:", who);
			cl.live = false;
		} else if (e == "pin") {
			check(cl.handles.insert(a).second, "tee_vm_pin of a pinned handle:", who);
			cl.pinned += int64_t(b);
			check((t.concurrent && t.concurrent()) || int64_t(c) == cl.pinned, "tee_vm_pin's total:", who);
		} else if (e == "unpin") {
			check(cl.handles.erase(a) == 1, "tee_vm_unpin of no pin:", who);
			cl.pinned -= int64_t(b);
			check((t.concurrent && t.concurrent()) || int64_t(c) == cl.pinned,
			      "tee_vm_unpin's total:", who);
		}
	}

	void done() const
	{
		for (const auto &[id, cl] : clients) {
			const std::string who = "client " + std::to_string(id);
			check(!cl.live, "no tee_vm_destroy:", who);
			check(!cl.pinned && cl.handles.empty(), "pins without tee_vm_unpin:", who);
		}
	}
};

// The hostile VMM's threads. One runs at a time: the input's schedule says
// which, at the start of each step and at every lock the kernel's code
// takes (kshim_set_sched), so that two ioctls interleave inside the kernel
// as the input chooses, and a run is determined by its input. A thread
// waiting for a lock another holds waits in the schedule, not in the lock.
class VmmThreads {
public:
	static constexpr size_t kN = fuzz::kVmmThreads;

	VmmThreads()
	{
		for (size_t i = 0; i < kN; i++)
			threads_.emplace_back([this, i] { main(i); });
	}
	~VmmThreads()
	{
		{
			std::lock_guard l(m_);
			quit_ = true;
			turn_ = kAll;
		}
		cv_.notify_all();
		for (auto &t : threads_)
			t.join();
	}

	// Steps (@step: false when the input has none left) on the threads
	// until all are idle and no step is left, choices from @sched.
	//
	// The schedule is run-length coded, after PCT (Burckhardt et al.,
	// ASPLOS 2010: a bug needs few preemptions, each at one point): each
	// byte is how many real choices (more than one option) go the
	// running thread's way before one goes the other way; past the bytes
	// nothing is preempted. One byte, one mutation, puts a preemption at
	// any of the first 256 choice points: a race between two ioctls at
	// one lock is a single byte away, where a byte per choice needed all
	// the bytes before it right as well (2.4 M executions did not find
	// the "no buffer" cookie race that way).
	void run(const std::vector<uint8_t> &sched, const std::function<bool()> &step)
	{
		step_ = &step;
		kshim_set_sched(&VmmThreads::sched_point, this);
		size_t runs = sched.empty() ? 0 : 1, current = 0;
		unsigned left = sched.empty() ? 0 : sched[0];
		bool past = sched.empty(), more = true;
		locks_ = 0;
		for (;;) {
			// The choices: threads inside a step (parked, then blocked
			// on a lock), then a new step on an idle thread.
			std::vector<size_t> opts;
			for (State want : {Parked, Blocked})
				for (size_t i = 0; i < kN; i++)
					if (state_[i] == want)
						opts.push_back(i);
			size_t idle = kN;
			for (size_t i = kN; i-- > 0;)
				if (state_[i] == Idle)
					idle = i;
			if (more && idle < kN)
				opts.push_back(kNew);
			if (opts.empty())
				break;
			if (opts.front() != kNew && state_[opts.front()] == Blocked)
				check(!deadlocked(), "the kernel's code deadlocked: every thread "
						     "inside waits for a lock another holds");
			// No preemption: the running thread goes on if it can.
			const size_t stay = state_[current] == Parked ? current : opts.front();
			size_t pick = stay;
			if (!past && opts.size() > 1) {
				if (left) {
					left--;
				} else {
					const size_t at = size_t(std::find(opts.begin(), opts.end(), stay) -
								 opts.begin());
					pick = opts[(at + 1) % opts.size()];
					if (runs < sched.size())
						left = sched[runs++];
					else
						past = true;
				}
			}
			if (pick == kNew && past && opts.size() == 1) {
				// Nothing to interleave with and no choice left:
				// the step runs here, its locks taken as usual.
				more = (*step_)();
				continue;
			}
			if (pick == kNew) {
				pick = idle;
				state_[pick] = Stepping;
			}
			current = pick;
			// Past the schedule, a lock free for the taking is taken
			// without a turn back here: the running thread would go on.
			free_run_ = past;
			give(pick);
			if (state_[pick] == Done) {
				state_[pick] = Idle;
				more = last_step_;
			}
		}
		kshim_set_sched(nullptr, nullptr);
	}

	// The locks the VMM's threads took so far in this run: in a run
	// without preemption, the choices a schedule would have had (at each,
	// another step could start instead).
	size_t locks() const { return locks_; }

	// The VMM thread running this (0 or 1), for FUZZ_KERNEL_VERBOSE.
	static size_t current() { return t_self; }
	// More than one thread is inside a step: counts read now may include
	// another's work in progress.
	bool concurrent() const
	{
		size_t inside = 0;
		for (size_t i = 0; i < kN; i++)
			inside += state_[i] != Idle && state_[i] != Done;
		return inside > 1;
	}

private:
	enum State { Idle, Stepping, Parked, Blocked, Done };
	static constexpr size_t kNew = ~size_t(0), kMain = ~size_t(0) - 1, kAll = ~size_t(0) - 2;

	// No thread inside a step can go on: each blocked one, tried again,
	// still finds its lock taken.
	bool deadlocked()
	{
		for (size_t i = 0; i < kN; i++) {
			if (state_[i] != Blocked)
				continue;
			give(i);
			if (state_[i] != Blocked)
				return false;
		}
		return true;
	}

	// Run thread @i until it gives the turn back.
	void give(size_t i)
	{
		std::unique_lock l(m_);
		turn_ = i;
		cv_.notify_all();
		cv_.wait(l, [&] { return turn_ == kMain; });
	}

	void yield(size_t me, State s)
	{
		std::unique_lock l(m_);
		state_[me] = s;
		turn_ = kMain;
		cv_.notify_all();
		cv_.wait(l, [&] { return turn_ == me || turn_ == kAll; });
		state_[me] = Stepping;
	}

	void main(size_t i)
	{
		t_self = i;
		t_pool = this;
		for (;;) {
			{
				std::unique_lock l(m_);
				cv_.wait(l, [&] { return turn_ == i || turn_ == kAll; });
				if (quit_)
					return;
			}
			last_step_ = (*step_)();
			std::lock_guard l(m_);
			state_[i] = Done;
			turn_ = kMain;
			cv_.notify_all();
		}
	}

	static bool sched_point(void *arg, int why)
	{
		auto *self = static_cast<VmmThreads *>(arg);
		if (why == KSHIM_SCHED_LOCK)
			self->locks_++; // on whichever thread runs the step
		if (t_pool != self)
			return false; // the harness's own thread: locks as usual
		if (why == KSHIM_SCHED_LOCK && self->free_run_)
			return true; // no choice left to make: try the lock
		self->yield(t_self, why == KSHIM_SCHED_BLOCKED ? Blocked : Parked);
		return true;
	}

	static thread_local size_t t_self;
	static thread_local VmmThreads *t_pool;
	std::mutex m_;
	std::condition_variable cv_;
	size_t turn_ = kMain;
	State state_[kN] = {};
	const std::function<bool()> *step_ = nullptr;
	bool last_step_ = true;
	bool free_run_ = false;
	std::atomic<size_t> locks_ = 0;
	bool quit_ = false;
	std::vector<std::thread> threads_;
};

thread_local size_t VmmThreads::t_self;
thread_local VmmThreads *VmmThreads::t_pool;

VmmThreads &vmm_threads()
{
	static VmmThreads t;
	return t;
}

// The VMM's memory: guest RAM it pins, and message buffers.
struct Arena {
	Arena()
	{
		void *p = mmap(nullptr, kArenaPages * kPageSize, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		check(p != MAP_FAILED, "mmap");
		base = static_cast<std::byte *>(p);
	}
	~Arena() { munmap(base, kArenaPages * kPageSize); }
	std::byte *base;
};

Arena &arena()
{
	static Arena a;
	return a;
}

const uint64_t kUuids[][2] = {
	{model::kPtaInvokeTestsHi, model::kPtaInvokeTestsLo},
	{model::kTaUuidHi, model::kTaUuidLo},
	{0x0707070707070707ull, 0x0707070707070707ull}, // no such TA
};

// A context, what the VMM knows of it.
struct Ctx {
	static constexpr int kBusy = -2; // being opened or closed
	int fd = -1;
	std::vector<uint32_t> pins;
	std::set<uint32_t> sessions;
	// Threads OP-TEE left suspended, with what they wait for.
	struct Pending {
		uint64_t a0 = 0;
		std::vector<std::byte> req; // RPC_CMD's request
	};
	std::map<uint32_t, Pending> pending;
};

struct Fuzz {
	FuzzedDataProvider &fdp;
	fuzz::Reader<FuzzedDataProvider> &in; // over fdp: the raw ioctls' fields
	OpteeModel &optee;
	HarnessDevice &dev;
	Ctx ctx[fuzz::kSlots];

	// FUZZ_KERNEL_VERBOSE=1: each ioctl and what came back, to read a
	// finding's input as the steps a VMM took.
	void show(Ctx &c, unsigned long req, const void *arg, int e = -1)
	{
		if (!verbose())
			return;
		const long n = &c - ctx;
		if (e >= 0) {
			if (req == TEE_IOC_VM_CALL) {
				const auto *a = static_cast<const tee_ioctl_vm_call *>(arg);
				std::fprintf(stderr, "[t%zu]     -> %d a0 %#llx a3 %llu\n", VmmThreads::current(), e,
					     (unsigned long long)a->regs[0],
					     (unsigned long long)a->regs[3]);
			} else if (req == TEE_IOC_VM_PIN) {
				std::fprintf(stderr, "[t%zu]     -> %d handle %u\n", VmmThreads::current(), e,
					     static_cast<const tee_ioctl_vm_pin *>(arg)->handle);
			} else {
				std::fprintf(stderr, "[t%zu]     -> %d\n", VmmThreads::current(), e);
			}
			return;
		}
		if (req == TEE_IOC_VM_PIN) {
			const auto *a = static_cast<const tee_ioctl_vm_pin *>(arg);
			std::fprintf(stderr, "[t%zu] ctx %ld: PIN %u pages offset %u size %llu\n", VmmThreads::current(), n,
				     a->num_pages, a->offset, (unsigned long long)a->size);
		} else if (req == TEE_IOC_VM_RELEASE) {
			std::fprintf(stderr, "[t%zu] ctx %ld: RELEASE %u\n", VmmThreads::current(), n,
				     static_cast<const tee_ioctl_vm_release *>(arg)->handle);
		} else if (req == TEE_IOC_VM_CALL) {
			const auto *a = static_cast<const tee_ioctl_vm_call *>(arg);
			std::fprintf(stderr, "[t%zu] ctx %ld: CALL a0 %#llx a1 %#llx a2 %#llx a3 %llu a4 %#llx a5 %#llx", VmmThreads::current(), n,
				     (unsigned long long)a->regs[0], (unsigned long long)a->regs[1],
				     (unsigned long long)a->regs[2], (unsigned long long)a->regs[3],
				     (unsigned long long)a->regs[4], (unsigned long long)a->regs[5]);
			MsgArgHeader h{};
			const auto *m = reinterpret_cast<const std::byte *>(a->msg);
			if (m && a->msg_size >= sizeof(h)) {
				copy_bytes(&h, m, sizeof(h));
				std::fprintf(stderr, " msg: cmd %u func %u session %u", h.cmd, h.func,
					     h.session);
				for (uint32_t i = 0; i < h.num_params && i < 6 &&
						     param_off(i + 1) <= a->msg_size; i++) {
					MsgParam q;
					copy_bytes(&q, m + param_off(i), sizeof(q));
					std::fprintf(stderr, " [%#llx %#llx %#llx %#llx]", (unsigned long long)q.attr,
						     (unsigned long long)q.a, (unsigned long long)q.b,
						     (unsigned long long)q.c);
				}
			}
			std::fprintf(stderr, "\n");
		} else {
			std::fprintf(stderr, "[t%zu] ctx %ld: INFO\n", VmmThreads::current(), n);
		}
	}

	int ioctl(Ctx &c, unsigned long req, void *arg)
	{
		show(c, req, arg);
		const int e = dev.ioctl(c.fd, req, arg);
		show(c, req, arg, e);
		const std::string r = first_report(optee);
		check(r.empty(), "OP-TEE's model:", r);
		struct kshim_stats st;
		kshim_stats(&st);
		check(!st.warnings, "the kernel warned");
		return e;
	}

	uint64_t cookie() { return fdp.ConsumeIntegralInRange<uint64_t>(0, 4); }
	uint32_t handle(Ctx &c)
	{
		if (!c.pins.empty() && fdp.ConsumeBool())
			return c.pins[fdp.ConsumeIntegralInRange<size_t>(0, c.pins.size() - 1)];
		return fdp.ConsumeIntegralInRange<uint32_t>(0, 8);
	}

	void pin(Ctx &c)
	{
		const uint32_t n = fdp.ConsumeIntegralInRange<uint32_t>(1, 3);
		std::vector<uint64_t> vas(n);
		for (auto &va : vas)
			va = reinterpret_cast<uint64_t>(arena().base) +
			     fdp.ConsumeIntegralInRange<uint64_t>(0, kArenaPages - 1) * kPageSize;
		tee_ioctl_vm_pin a{};
		a.pages = reinterpret_cast<uint64_t>(vas.data());
		a.num_pages = n;
		a.offset = fdp.ConsumeBool() ? 0 : fdp.ConsumeIntegralInRange<uint32_t>(0, 4200);
		a.size = fdp.ConsumeBool() ? n * kPageSize - a.offset
					   : fdp.ConsumeIntegralInRange<uint64_t>(0, n * kPageSize + 8);
		if (!ioctl(c, TEE_IOC_VM_PIN, &a))
			c.pins.push_back(a.handle);
	}

	void release(Ctx &c)
	{
		tee_ioctl_vm_release a{handle(c), 0};
		ioctl(c, TEE_IOC_VM_RELEASE, &a);
	}

	// A parameter of any type; @memory: a memory reference or a value in/out,
	// what a TA reads and writes.
	MsgParam param(bool memory)
	{
		static const uint32_t types[] = {
			kAttrRmemInput, kAttrRmemOutput, kAttrRmemInout,
			kAttrTmemInput | kAttrNoncontig, kAttrTmemOutput | kAttrNoncontig,
			kAttrTmemInout | kAttrNoncontig, kAttrValueInout, kAttrValueInput,
			kAttrValueOutput, kAttrTypeNone};
		MsgParam p{};
		if (memory)
			p.attr = types[fdp.ConsumeIntegralInRange<size_t>(0, 6)];
		else
			p.attr = fdp.ConsumeBool() ? types[fdp.ConsumeIntegralInRange<size_t>(0, 9)]
						   : fdp.ConsumeIntegral<uint16_t>();
		p.a = fdp.ConsumeIntegralInRange<uint64_t>(0, 8);
		p.b = fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<uint64_t>(0, 64)
					: fdp.ConsumeIntegralInRange<uint64_t>(0, 3 * kPageSize);
		p.c = cookie();
		return p;
	}

	// A call's message: a command, its parameters, a session. @session:
	// an OpenSession of a known TA or an InvokeCommand of an open session,
	// with parameters a TA uses (the TAs' commands are the harness's
	// dictionary); otherwise any command, any parameters.
	void call(Ctx &c, bool session)
	{
		std::vector<std::byte> msg(kPageSize);
		MsgArgHeader h{};
		static const uint32_t cmds[] = {OPTEE_MSG_CMD_OPEN_SESSION, OPTEE_MSG_CMD_INVOKE_COMMAND,
						OPTEE_MSG_CMD_CLOSE_SESSION, OPTEE_MSG_CMD_CANCEL, OPTEE_MSG_CMD_REGISTER_SHM,
						OPTEE_MSG_CMD_UNREGISTER_SHM};
		if (session)
			h.cmd = fdp.ConsumeBool() ? OPTEE_MSG_CMD_OPEN_SESSION : OPTEE_MSG_CMD_INVOKE_COMMAND;
		else
			h.cmd = fdp.ConsumeIntegralInRange<uint8_t>(0, 9) < 9
					? cmds[fdp.ConsumeIntegralInRange<size_t>(0, 5)]
					: fdp.ConsumeIntegral<uint32_t>();
		h.num_params = session && h.cmd == OPTEE_MSG_CMD_OPEN_SESSION
				       ? fdp.ConsumeIntegralInRange<uint32_t>(2, 4)
				       : fdp.ConsumeIntegralInRange<uint32_t>(session, 5);
		std::vector<MsgParam> p(h.num_params);
		for (auto &q : p)
			q = param(session);
		// Memory references by handle: the pins of this context.
		for (auto &q : p)
			if (is_tmem(attr_type(q.attr)) && fdp.ConsumeBool())
				q.a = handle(c);
		if (h.cmd == OPTEE_MSG_CMD_OPEN_SESSION && h.num_params >= 2) {
			const auto &u = kUuids[fdp.ConsumeIntegralInRange<size_t>(0, 2)];
			p[0] = {kAttrValueInput | kAttrMeta, u[0], u[1], 0};
			p[1] = {kAttrValueInput | kAttrMeta, 0, 0, 0};
		}
		if (h.cmd == OPTEE_MSG_CMD_INVOKE_COMMAND) {
			h.func = fdp.ConsumeIntegralInRange<uint32_t>(0, 4);
			h.session = c.sessions.empty() || !fdp.ConsumeIntegralInRange<uint8_t>(0, 7)
					    ? fdp.ConsumeIntegralInRange<uint32_t>(0, 3)
					    : *std::next(c.sessions.begin(),
							 fdp.ConsumeIntegralInRange<size_t>(
								 0, c.sessions.size() - 1));
		}
		copy_bytes(msg.data(), &h, sizeof(h));
		copy_bytes(msg.data() + sizeof(h), p.data(), p.size() * sizeof(MsgParam));
		tee_ioctl_vm_call a{};
		a.regs[0] = fdp.ConsumeBool() ? OPTEE_SMC_CALL_WITH_ARG : OPTEE_SMC_CALL_WITH_RPC_ARG;
		a.msg = reinterpret_cast<uint64_t>(msg.data());
		a.msg_size = uint32_t(fdp.ConsumeBool() ? arg_size(p.size()) : msg.size());
		if (!ioctl(c, TEE_IOC_VM_CALL, &a))
			returned(c, a, msg);
	}

	// What OP-TEE returned: a suspended thread to remember, or done.
	void returned(Ctx &c, const tee_ioctl_vm_call &a, const std::vector<std::byte> &msg)
	{
		if (!is_rpc(a.regs[0])) {
			MsgArgHeader h{};
			if (a.msg_size >= sizeof(h) && msg.size() >= sizeof(h)) {
				copy_bytes(&h, msg.data(), sizeof(h));
				if (h.cmd == OPTEE_MSG_CMD_OPEN_SESSION && !h.ret)
					c.sessions.insert(h.session);
			}
			return;
		}
		Ctx::Pending &p = c.pending[uint32_t(a.regs[3])];
		p.a0 = a.regs[0];
		p.req.assign(msg.begin(), msg.begin() + std::min<size_t>(a.msg_size, msg.size()));
	}

	// An honest supplicant's answer to a request, the fuzzer bending it.
	void answer_cmd(Ctx &c, std::vector<std::byte> &ans, const std::vector<std::byte> &req)
	{
		ans = req;
		if (req.size() < sizeof(MsgArgHeader))
			return;
		MsgArgHeader h;
		copy_bytes(&h, req.data(), sizeof(h));
		h.ret = fdp.ConsumeIntegralInRange<uint8_t>(0, 3) ? kTeecSuccess : kTeecErrorGeneric;
		if (h.cmd == OPTEE_RPC_CMD_SHM_ALLOC && h.num_params >= 1 && req.size() >= param_off(1)) {
			MsgParam p;
			copy_bytes(&p, req.data() + param_off(0), sizeof(p));
			p = {kAttrTmemOutput | kAttrNoncontig, handle(c), p.b, cookie()};
			if (fdp.ConsumeBool())
				p.b = fdp.ConsumeIntegralInRange<uint64_t>(0, 3 * kPageSize);
			copy_bytes(ans.data() + param_off(0), &p, sizeof(p));
		}
		if (h.cmd == OPTEE_RPC_CMD_LOAD_TA && h.num_params >= 2 && req.size() >= param_off(2)) {
			MsgParam p;
			copy_bytes(&p, req.data() + param_off(1), sizeof(p));
			p.b = fdp.ConsumeBool() ? 64 : fdp.ConsumeIntegralInRange<uint64_t>(0, 80);
			copy_bytes(ans.data() + param_off(1), &p, sizeof(p));
		}
		copy_bytes(ans.data(), &h, sizeof(h));
		if (fdp.ConsumeIntegralInRange<uint8_t>(0, 7) == 0 && ans.size() > sizeof(h))
			ans[fdp.ConsumeIntegralInRange<size_t>(0, ans.size() - 1)] =
				std::byte(fdp.ConsumeIntegral<uint8_t>());
	}

	void resume(Ctx &c)
	{
		uint32_t tid = fdp.ConsumeIntegralInRange<uint32_t>(0, 3);
		if (!c.pending.empty() && fdp.ConsumeIntegralInRange<uint8_t>(0, 7))
			tid = std::next(c.pending.begin(),
					fdp.ConsumeIntegralInRange<size_t>(0, c.pending.size() - 1))->first;
		const Ctx::Pending p = c.pending.count(tid) ? c.pending[tid] : Ctx::Pending{};
		std::vector<std::byte> msg(kPageSize);
		tee_ioctl_vm_call a{};
		a.regs[0] = OPTEE_SMC_CALL_RETURN_FROM_RPC;
		a.regs[3] = tid;
		if (p.a0 == rpc_val(OPTEE_SMC_RPC_FUNC_ALLOC)) {
			a.regs[1] = fdp.ConsumeBool(); // a buffer, or none
			a.regs[5] = cookie();
		} else if (p.a0 == rpc_val(OPTEE_SMC_RPC_FUNC_CMD)) {
			std::vector<std::byte> ans;
			answer_cmd(c, ans, p.req);
			copy_bytes(msg.data(), ans.data(), ans.size());
		} else if (fdp.ConsumeBool()) {
			for (int i = 1; i < 7; i++)
				if (i != 3)
					a.regs[i] = fdp.ConsumeIntegralInRange<uint64_t>(0, 5);
		}
		a.msg = reinterpret_cast<uint64_t>(msg.data());
		a.msg_size = uint32_t(msg.size());
		const int e = ioctl(c, TEE_IOC_VM_CALL, &a);
		if (e)
			return;
		c.pending.erase(tid);
		returned(c, a, msg);
	}

	void fast(Ctx &c)
	{
		static const uint32_t fids[] = {OPTEE_SMC_DISABLE_SHM_CACHE, OPTEE_SMC_ENABLE_SHM_CACHE,
						OPTEE_SMC_EXCHANGE_CAPABILITIES, OPTEE_SMC_GET_THREAD_COUNT, OPTEE_SMC_CALLS_UID,
						OPTEE_SMC_VM_CREATED, OPTEE_SMC_GET_SHM_CONFIG, OPTEE_SMC_CALL_WITH_REGD_ARG};
		tee_ioctl_vm_call a{};
		a.regs[0] = fids[fdp.ConsumeIntegralInRange<size_t>(0, 7)];
		a.regs[1] = fdp.ConsumeIntegralInRange<uint64_t>(0, 3);
		ioctl(c, TEE_IOC_VM_CALL, &a);
	}

	// ---- raw ioctls: every field as the input has it ----

	void raw_pin(Ctx &c)
	{
		fuzz::RawPin p;
		p.io(in);
		std::vector<uint64_t> vas;
		for (uint8_t i : p.pages)
			vas.push_back(reinterpret_cast<uint64_t>(arena().base) + i * kPageSize);
		tee_ioctl_vm_pin a{};
		a.pages = reinterpret_cast<uint64_t>(vas.data());
		a.num_pages = uint32_t(vas.size());
		a.offset = p.offset;
		a.size = p.size;
		a.flags = p.flags;
		if (!ioctl(c, TEE_IOC_VM_PIN, &a))
			c.pins.push_back(a.handle);
	}

	void raw_release(Ctx &c)
	{
		fuzz::RawRelease p;
		p.io(in);
		ioctl(c, TEE_IOC_VM_RELEASE, &p.a);
	}

	void raw_call(Ctx &c)
	{
		fuzz::RawCall p;
		p.io(in);
		std::vector<std::byte> msg(fuzz::kMaxMsg);
		copy_bytes(msg.data(), p.msg.data(), p.msg.size());
		p.a.msg = p.a.msg ? reinterpret_cast<uint64_t>(msg.data()) : 0;
		const uint64_t a0 = p.a.regs[0], tid = p.a.regs[3];
		if (ioctl(c, TEE_IOC_VM_CALL, &p.a))
			return;
		// What the kernel returned: a suspended thread to answer, or done.
		if (a0 == OPTEE_SMC_CALL_RETURN_FROM_RPC)
			c.pending.erase(uint32_t(tid));
		returned(c, p.a, msg);
	}

	void info(Ctx &c)
	{
		tee_ioctl_vm_info a{};
		ioctl(c, TEE_IOC_VM_INFO, &a);
	}

	void close(Ctx &c)
	{
		if (verbose())
			std::fprintf(stderr, "[t%zu] ctx %ld: CLOSE\n", VmmThreads::current(),
				     long(&c - ctx));
		// The slot is free only once the close is done; meanwhile the
		// other thread leaves it alone (a second close of one fd, or an
		// open into the slot that this close's end would wipe, is the
		// harness's confusion, not the kernel's).
		const int fd = c.fd;
		c = Ctx{};
		c.fd = Ctx::kBusy;
		dev.close(fd);
		c.fd = -1;
		const std::string r = first_report(optee);
		check(r.empty(), "OP-TEE's model:", r);
	}
};

// One input, run and checked. With @cut, the run is recorded for the
// custom mutator: the head, where each step's bytes are and how many
// choices of a schedule it spans, the steps one after the other (no
// preemption: a step takes its bytes before the next starts).
void run_input(const uint8_t *data, size_t size, fuzz::Cut *cut)
{
	FuzzedDataProvider fdp(data, size);
	fuzz::Reader<FuzzedDataProvider> in{fdp};
	fuzz::Head head;
	head.io(in);
	struct Pos {
		size_t front, back, choices;
	};
	std::vector<Pos> at;
	if (cut) {
		cut->head = head;
		cut->head_front = in.front;
		cut->head_back = size - fdp.remaining_bytes() - in.front;
		head.sched.clear();
	}
	model::ModelConfig cfg;
	cfg.threads = head.threads;
	cfg.rpc_arg = head.rpc_arg;
	cfg.pta_null_memref_panics = false; // OP-TEE's bug, not the kernel's
	size_t next_intr = 0;
	cfg.foreign_intr = [&] {
		return next_intr < head.intr.size() && !head.intr[next_intr++];
	};
	// The VMM's memory starts each input as it starts the first: what a TA
	// wrote there in an earlier input would make a run depend on history.
	std::memset(arena().base, 0, kArenaPages * kPageSize);
	struct kshim_stats before;
	kshim_stats(&before);
	TraceCheck trace;
	kshim_set_trace(&TraceCheck::event, &trace);
	{
		OpteeModel optee(cfg);
		HarnessDevice dev(optee);
		Fuzz f{fdp, in, optee, dev, {}};
		int steps = 0;
		// One step of the input, on one of the VMM's threads: false when
		// the input has no more.
		const std::function<bool()> step = [&] {
			if (cut)
				at.push_back({ in.front, size - fdp.remaining_bytes() - in.front,
					       vmm_threads().locks() });
			if (steps++ >= fuzz::kMaxSteps || !in.more())
				return false;
			uint8_t slot, op;
			fuzz::step_io(in, slot);
			Ctx &c = f.ctx[slot];
			if (c.fd == Ctx::kBusy)
				return in.more(); // another thread is opening or closing it
			if (c.fd < 0) {
				int fd;
				c.fd = Ctx::kBusy;
				const int e = dev.open(&fd);
				c.fd = e ? -1 : fd;
				if (verbose())
					std::fprintf(stderr, "[t%zu] ctx %u: OPEN -> %d\n",
						     VmmThreads::current(), slot, e);
				return in.more();
			}
			fuzz::op_io(in, op);
			switch (op) {
			case fuzz::kPin:
			case fuzz::kPin2:
				f.pin(c);
				break;
			case fuzz::kRelease:
				f.release(c);
				break;
			case fuzz::kCall:
				f.call(c, false);
				break;
			case fuzz::kSessionCall:
				f.call(c, true);
				break;
			case fuzz::kResume:
			case fuzz::kResume2:
			case fuzz::kResume3:
				f.resume(c);
				break;
			case fuzz::kFast:
				f.fast(c);
				break;
			case fuzz::kClose:
				f.close(c);
				break;
			case fuzz::kRawPin:
				f.raw_pin(c);
				break;
			case fuzz::kRawRelease:
				f.raw_release(c);
				break;
			case fuzz::kRawCall:
				f.raw_call(c);
				break;
			default:
				f.info(c);
			}
			return in.more();
		};
		VmmThreads &threads = vmm_threads();
		trace.concurrent = [&threads] { return threads.concurrent(); };
		threads.run(head.sched, step);
		if (cut) {
			at.push_back({ in.front, size - fdp.remaining_bytes() - in.front, threads.locks() });
			for (size_t i = 0; i + 1 < at.size(); i++)
				if (at[i + 1].front + at[i + 1].back > at[i].front + at[i].back)
					cut->steps.push_back({ at[i].front, at[i + 1].front - at[i].front,
							       at[i].back, at[i + 1].back - at[i].back,
							       at[i + 1].choices - at[i].choices });
		}
		for (Ctx &c : f.ctx)
			if (c.fd >= 0)
				f.close(c);
		check(!optee.guests(), "a partition left");
	}
	struct kshim_stats after;
	kshim_stats(&after);
	check(!after.kernel_pages && !after.user_pages, "pages left allocated or pinned");
	check(after.allocs == before.allocs, "kernel objects leaked");
	check(!after.warnings, "the kernel warned");
	check(!kshim_pinned_vm(), "pinned_vm not back to 0");
	kshim_set_trace(nullptr, nullptr);
	trace.done();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_input(data, size, nullptr);
	return 0;
}

namespace {

// Every variant of one input that moves a step by one or two places and
// preempts it at one of its first 8 locks for the step after it: the
// neighbourhood of an attack where a race of two of its ioctls lies.
// Aborts, as a run does, on the first broken invariant.
size_t sweep(const std::vector<uint8_t> &d)
{
	fuzz::Cut cut;
	sweep_at().bytes = d; // variant 0: the input itself
	run_input(d.data(), d.size(), &cut);
	const size_t n = cut.steps.size();
	size_t runs = 0;
	for (size_t from = 0; from < n; from++) {
		for (size_t to = from > 2 ? from - 2 : 0; to < n && to <= from + 2; to++) {
			std::vector<size_t> order = fuzz::in_order(n);
			fuzz::move_step(order, from, to);
			fuzz::Head head = cut.head;
			for (size_t lock = 0; lock < std::min<size_t>(cut.steps[from].choices, 8); lock++) {
				head.sched = fuzz::preempt_at(cut, order, to, lock);
				if (head.sched.empty())
					break;
				SweepAt &at = sweep_at();
				at.bytes = fuzz::join(d.data(), d.size(), cut, head, order);
				at.variant = ++runs;
				run_input(at.bytes.data(), at.bytes.size(), nullptr);
			}
		}
	}
	return runs;
}

} // namespace

// The sanitizers' hook at a report (weak: a build without them has none).
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

// FUZZ_KERNEL_SWEEP=DIR: instead of fuzzing, sweep() each input of DIR
// (make check; make fuzz-before FUZZ_BEFORE_SWEEP=1). libFuzzer calls
// this first; so does the replay runner.
extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	const char *dir = std::getenv("FUZZ_KERNEL_SWEEP");
	if (!dir)
		return 0;
	const auto files = fuzz::input_files(dir);
	size_t runs = 0;
	std::remove("sweep-variant"); // an earlier sweep's finding
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(sweep_report);
	for (const auto &f : files) {
		sweep_at() = { f.filename(), 0, runs, {} };
		const auto d = fuzz::read_input(f);
		check(d.has_value(), "sweep: cannot read", f);
		const size_t r = sweep(*d);
		std::printf("sweep: %s: %zu variants\n", f.filename().c_str(), r);
		std::fflush(stdout);
		runs += r;
	}
	std::printf("sweep: %zu inputs, %zu variants, no invariant broken\n", files.size(), runs);
	std::exit(0);
}

// libFuzzer's own mutations; absent where the seeds are replayed without it.
extern "C" size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
	__attribute__((weak));

// Half of the mutations are libFuzzer's, half move whole steps or set the
// schedule (step_mutator.hpp), on the cut a sequential run of the input
// gives: one more execution per such mutation.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
					  unsigned int seed)
{
	std::minstd_rand rng(seed);
	if (rng() % 2 == 0 && size) {
		fuzz::Cut cut;
		run_input(data, size, &cut);
		const std::vector<uint8_t> out = fuzz::mutate_steps(data, size, cut, rng);
		if (!out.empty() && out.size() <= max_size) {
			std::memcpy(data, out.data(), out.size());
			return out.size();
		}
	}
	return LLVMFuzzerMutate ? LLVMFuzzerMutate(data, size, max_size) : size;
}
