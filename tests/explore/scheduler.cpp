// SPDX-License-Identifier: BSD-2-Clause
#include "scheduler.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <thread>

namespace teemed::explore {

namespace {

// The scheduler and actor this thread runs for.
thread_local Scheduler *t_sched;
thread_local size_t t_actor = Strategy::kNone;

bool contains(const std::vector<size_t> &v, size_t x)
{
	return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

// ---- strategies ----------------------------------------------------------

size_t Exhaustive::pick(const std::vector<size_t> &runnable, size_t current)
{
	// The options at this point, the one that preempts nobody first.
	std::vector<size_t> options;
	const bool can_go_on = contains(runnable, current);
	if (can_go_on)
		options.push_back(current);
	if (!can_go_on || preemptions_ < bound_)
		for (size_t a : runnable)
			if (a != current)
				options.push_back(a);
	if (depth_ == stack_.size()) {
		stack_.push_back({options.size(), 0});
	} else if (stack_[depth_].options != options.size()) {
		diverged_ = true;
		stack_.resize(depth_);
		stack_.push_back({options.size(), 0});
	}
	const size_t a = options[stack_[depth_++].taken];
	if (can_go_on && a != current)
		preemptions_++;
	return a;
}

bool Exhaustive::next()
{
	// The choices past this run's end belong to no run: drop them.
	stack_.resize(std::min(stack_.size(), depth_));
	while (!stack_.empty() && stack_.back().taken + 1 >= stack_.back().options)
		stack_.pop_back();
	if (stack_.empty())
		return false;
	stack_.back().taken++;
	depth_ = 0;
	preemptions_ = 0;
	return true;
}

Pct::Pct(uint64_t seed, size_t actors, size_t steps, unsigned depth)
{
	std::mt19937_64 rng(seed);
	prio_.resize(actors);
	for (size_t i = 0; i < actors; i++)
		prio_[i] = int64_t(depth + i);
	std::shuffle(prio_.begin(), prio_.end(), rng);
	for (unsigned d = 1; d < depth; d++)
		change_at_.push_back(std::uniform_int_distribution<size_t>(1, steps)(rng));
	low_ = depth;
}

size_t Pct::pick(const std::vector<size_t> &runnable, size_t current)
{
	step_++;
	if (current != kNone && contains(change_at_, step_) && current < prio_.size())
		prio_[current] = --low_;
	size_t best = runnable.front();
	for (size_t a : runnable)
		if (prio_[a] > prio_[best])
			best = a;
	return best;
}

size_t Replay::pick(const std::vector<size_t> &runnable, size_t)
{
	if (i_ < s_.size() && contains(runnable, s_[i_]))
		return s_[i_++];
	i_++;
	return runnable.front();
}

// ---- the scheduler ---------------------------------------------------------

size_t Scheduler::self() const
{
	return t_sched == this ? t_actor : Strategy::kNone;
}

void Scheduler::reached(SyncPoint p)
{
	if (t_sched != this)
		return; // set-up and tear-down run on the test's own thread
	const size_t me = t_actor;
	waiting_since_[me] = p == SyncPoint::Wait ? progress_ : 0;
	back_.give();
	go_[me]->take();
}

void Scheduler::run_actor(size_t i)
{
	go_[i]->give();
	back_.take();
}

void Scheduler::actor_main(size_t i, const std::function<void()> &body)
{
	t_sched = this;
	t_actor = i;
	go_[i]->take();
	try {
		body();
	} catch (const std::exception &e) {
		std::lock_guard l(m_);
		if (failed_.empty())
			failed_ = "actor " + std::to_string(i) + " threw: " + e.what();
	}
	done_[i] = true;
	back_.give();
}

Scheduler::Outcome Scheduler::run(const std::vector<std::function<void()>> &actors, Strategy &s,
				  const Check &check)
{
	Outcome out;
	const size_t n = actors.size();
	done_.assign(n, false);
	waiting_since_.assign(n, 0);
	failed_.clear();
	go_.clear();
	for (size_t i = 0; i < n; i++)
		go_.push_back(std::make_unique<Baton>());
	std::vector<std::thread> threads;
	for (size_t i = 0; i < n; i++)
		threads.emplace_back([this, i, &actors] { actor_main(i, actors[i]); });

	size_t current = Strategy::kNone;
	for (;;) {
		// Every actor is parked at a point, or done: the state is ours.
		std::vector<size_t> runnable;
		{
			std::lock_guard l(m_);
			if (!failed_.empty() && out.broken.empty())
				out.broken = failed_;
		}
		// A waiting actor may go on once another made progress.
		for (size_t i = 0; i < n; i++)
			if (!done_[i] && (!waiting_since_[i] || waiting_since_[i] < progress_))
				runnable.push_back(i);
		if (runnable.empty()) {
			if (std::all_of(done_.begin(), done_.end(), [](bool d) { return d; }))
				break;
			// Everyone left waits for the others: a deadlock. Nothing
			// can end the run; say so and stop here.
			std::fprintf(stderr, "explore: deadlock: every actor left waits (schedule %s)\n",
				     schedule_str(out.schedule).c_str());
			std::abort();
		}
		if (out.steps && out.broken.empty())
			out.broken = check();
		current = s.pick(runnable, current);
		out.schedule.push_back(current);
		out.steps++;
		if (!waiting_since_[current])
			progress_++;
		run_actor(current);
	}
	for (auto &t : threads)
		t.join();
	if (out.broken.empty())
		out.broken = check();
	return out;
}

std::string schedule_str(const std::vector<size_t> &schedule)
{
	std::string s;
	for (size_t a : schedule)
		s += (s.empty() ? "" : ".") + std::to_string(a);
	return s;
}

std::vector<size_t> parse_schedule(const std::string &text)
{
	std::vector<size_t> s;
	std::istringstream in(text);
	for (std::string part; std::getline(in, part, '.');)
		if (!part.empty())
			s.push_back(std::stoul(part));
	return s;
}

} // namespace teemed::explore
