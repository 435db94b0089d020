// SPDX-License-Identifier: BSD-2-Clause
// The interleaving explorer's scheduler. Actors — a guest's vCPUs, the VMM
// — are threads, but one runs at a time: each gives the turn back at the
// library's synchronisation points (tools/lib/sync_points.hpp) and at the
// backend's (world.cpp), and a strategy picks who runs next. A run is then
// determined by its choices, as in CHESS and loom: the exhaustive strategy
// replays every schedule up to a bound on preemptions; PCT draws priorities
// from a printed seed for runs too long to enumerate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <condition_variable>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sync_points.hpp"

namespace teemed::explore {

// Who runs next.
class Strategy {
public:
	virtual ~Strategy() = default;
	// One of @runnable (actor indexes, ascending); @current ran last
	// (kNone before the first step), and may not be runnable any more.
	virtual size_t pick(const std::vector<size_t> &runnable, size_t current) = 0;
	static constexpr size_t kNone = ~size_t(0);
};

// Every schedule with at most @max_preemptions switches away from an actor
// that could have gone on (CHESS's bound: most bugs need one or two), each
// run replaying the choices of the one before up to its last open choice.
class Exhaustive : public Strategy {
public:
	explicit Exhaustive(unsigned max_preemptions) : bound_(max_preemptions) {}
	size_t pick(const std::vector<size_t> &runnable, size_t current) override;
	// After a run: set up the next one; false when all are done.
	bool next();
	// The run's choices did not repeat the last run's options: a run is
	// not determined by its schedule (a bug of the world, not the library).
	bool diverged() const { return diverged_; }

private:
	struct Choice {
		size_t options;
		size_t taken;
	};
	unsigned bound_;
	std::vector<Choice> stack_;
	size_t depth_ = 0;
	unsigned preemptions_ = 0;
	bool diverged_ = false;
};

// PCT (Burckhardt et al., ASPLOS 2010): random distinct priorities, the
// highest runnable runs; at @depth - 1 random steps of the first @steps the
// running actor drops below all. Finds a bug of depth d with probability at
// least 1/(n k^(d-1)) per run.
class Pct : public Strategy {
public:
	Pct(uint64_t seed, size_t actors, size_t steps, unsigned depth);
	size_t pick(const std::vector<size_t> &runnable, size_t current) override;

private:
	std::vector<int64_t> prio_;
	std::vector<size_t> change_at_;
	size_t step_ = 0;
	int64_t low_ = 0;
};

// A schedule given (a run printed by another strategy), then the lowest
// runnable actor.
class Replay : public Strategy {
public:
	explicit Replay(std::vector<size_t> schedule) : s_(std::move(schedule)) {}
	size_t pick(const std::vector<size_t> &runnable, size_t current) override;

private:
	std::vector<size_t> s_;
	size_t i_ = 0;
};

// A turn handed to one thread: it waits until given, and wakes alone.
class Baton {
public:
	void give()
	{
		{
			std::lock_guard l(m_);
			given_ = true;
		}
		cv_.notify_one();
	}
	void take()
	{
		std::unique_lock l(m_);
		cv_.wait(l, [&] { return given_; });
		given_ = false;
	}

private:
	std::mutex m_;
	std::condition_variable cv_;
	bool given_ = false;
};

// One run of the actors.
class Scheduler : public SyncObserver {
public:
	struct Outcome {
		std::string broken; // what went wrong, or empty
		std::vector<size_t> schedule;
		size_t steps = 0;
	};
	using Check = std::function<std::string()>;

	// Runs @actors to their end under @s, calling @check after every
	// step (empty: all holds). The first broken invariant is kept; the
	// run goes on to its end, so that the world can be torn down.
	Outcome run(const std::vector<std::function<void()>> &actors, Strategy &s,
		    const Check &check);

	// The calling actor gives the turn back (a point of the library's,
	// or of the test's own); a thread that is no actor goes on.
	void reached(SyncPoint p) override;
	void point() { reached(SyncPoint::Lock); }
	// The actor this thread is, or Strategy::kNone.
	size_t self() const;

private:
	void actor_main(size_t i, const std::function<void()> &body);
	// Hand the turn to actor @i, and wait until it gives it back.
	void run_actor(size_t i);

	// The turn passes by batons: the scheduler's, and one per actor
	// (each handoff wakes exactly the thread whose turn it is).
	Baton back_;
	std::vector<std::unique_ptr<Baton>> go_;
	std::mutex m_; // failed_
	std::vector<bool> done_;
	std::vector<uint64_t> waiting_since_; // 0: not waiting
	uint64_t progress_ = 1;               // steps by actors that were not waiting
	std::string failed_;                  // an actor's exception
};

// The schedule as text ("0.1.1.0..."), and back (to replay a run that
// broke something).
std::string schedule_str(const std::vector<size_t> &schedule);
std::vector<size_t> parse_schedule(const std::string &text);

} // namespace teemed::explore
