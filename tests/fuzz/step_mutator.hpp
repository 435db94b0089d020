// SPDX-License-Identifier: BSD-2-Clause
// fuzz_kernel's structure-aware mutations (libFuzzer's custom mutator):
// an input cut into its head and its steps, as a run consumed them, put
// together again with the steps moved, repeated or dropped, or with
// another schedule of the VMM's threads.
//
// Why: a race between two ioctls of one context needs its steps in one
// order and a preemption at one lock between them. libFuzzer's byte
// mutations rarely give the order, because a step's bytes lie at both
// ends of the input (FuzzedDataProvider takes integers from the back and
// bytes from the front): moving one step is two cuts and two pastes.
// 4.9 M executions did not find the "no buffer" RPC_ALLOC cookie race of
// series v3 without these (Documentation/testing.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "kernel_ops.hpp"

namespace teemed::fuzz {

// Where the bytes of a step are: nfront of them from offset front, and
// nback of them ending back bytes before the end of the input; and how
// many choices of a thread schedule it spans (each lock its ioctl takes
// while another thread could run instead).
struct Span {
	size_t front = 0, nfront = 0;
	size_t back = 0, nback = 0;
	size_t choices = 0;
};

// An input as a run consumed it: its head, then its steps in order.
struct Cut {
	Head head;
	size_t head_front = 0, head_back = 0;
	std::vector<Span> steps;
};

// The input again: @head written anew, then the steps of @cut in @order
// (indexes into cut.steps, repeats allowed), then the bytes no step
// consumed, kept between the two ends.
inline std::vector<uint8_t> join(const uint8_t *data, size_t size, const Cut &cut, Head head,
				 const std::vector<size_t> &order)
{
	size_t front_end = cut.head_front, back_end = cut.head_back;
	for (const Span &s : cut.steps) {
		front_end = std::max(front_end, s.front + s.nfront);
		back_end = std::max(back_end, s.back + s.nback);
	}
	if (front_end + back_end > size)
		return {};
	Writer w;
	head.io(w);
	std::vector<uint8_t> out = w.front;
	for (size_t i : order)
		out.insert(out.end(), data + cut.steps[i].front,
			   data + cut.steps[i].front + cut.steps[i].nfront);
	out.insert(out.end(), data + front_end, data + size - back_end);
	// The back is taken from the end: the first step's integers last.
	for (size_t k = order.size(); k-- > 0;) {
		const Span &s = cut.steps[order[k]];
		out.insert(out.end(), data + size - s.back - s.nback, data + size - s.back);
	}
	const std::vector<uint8_t> tail = w.data();
	out.insert(out.end(), tail.begin() + ptrdiff_t(w.front.size()), tail.end());
	return out;
}

// The steps in their order: 0, 1, ... n - 1.
inline std::vector<size_t> in_order(size_t n)
{
	std::vector<size_t> order(n);
	std::iota(order.begin(), order.end(), size_t(0));
	return order;
}

// The step at position @from of @order moved to position @to.
inline void move_step(std::vector<size_t> &order, size_t from, size_t to)
{
	const size_t step = order[from];
	order.erase(order.begin() + ptrdiff_t(from));
	order.insert(order.begin() + ptrdiff_t(to), step);
}

// A schedule for the steps of @cut in @order that preempts the step at
// position @at at its lock number @lock, for the step after it: one byte,
// the choices before that point (the locks of the steps before it, then
// @lock of its own). Empty where that is past the first 256 choices,
// which one byte cannot reach.
inline std::vector<uint8_t> preempt_at(const Cut &cut, const std::vector<size_t> &order,
				       size_t at, size_t lock)
{
	size_t k = lock;
	for (size_t i = 0; i < at; i++)
		k += cut.steps[order[i]].choices;
	if (k > 255)
		return {};
	return { uint8_t(k) };
}

// One structural mutation of @cut's input, chosen by @rng: a step moved,
// repeated or dropped, or a schedule that preempts once or twice (PCT
// depth 2 or 3), or one of its bytes nudged, or a step moved and
// preempted inside. Empty where the cut does not fit the input.
inline std::vector<uint8_t> mutate_steps(const uint8_t *data, size_t size, const Cut &cut,
					 std::minstd_rand &rng)
{
	const size_t n = cut.steps.size();
	std::vector<size_t> order = in_order(n);
	Head head = cut.head;
	auto pick = [&](size_t m) { return size_t(rng() % m); };
	switch (pick(7)) {
	case 6: { // a step moved, and preempted inside for the one after it:
		// a race of two ioctls, the one that goes first cut at one
		// of its locks. The schedule counts choices from the start:
		// those of the steps before it, then some of its own.
		// Near steps and early locks are likelier (geometric): the
		// two ioctls of a race are a step or two apart, and one lock
		// in is where an ioctl has made its SMC.
		if (n < 2)
			break;
		auto near = [&] {
			size_t d = 0;
			while (d < n && rng() % 2)
				d++;
			return d;
		};
		const size_t from = pick(n), d = 1 + near();
		const size_t to = rng() % 2 ? std::min(n - 1, from + d) : from - std::min(from, d);
		move_step(order, from, to);
		if (!cut.steps[from].choices)
			break;
		auto sched = preempt_at(cut, order, to, std::min(near(), cut.steps[from].choices - 1));
		if (!sched.empty())
			head.sched = std::move(sched);
		break;
	}
	case 0: // a step moved: the race's second ioctl before its first
		if (n >= 2)
			move_step(order, pick(n), pick(n));
		break;
	case 1: // a step repeated: a second thread in the same state
		if (n >= 1 && n < size_t(kMaxSteps)) {
			const size_t i = pick(n);
			order.insert(order.begin() + ptrdiff_t(pick(n + 1)), i);
		}
		break;
	case 2: // a step dropped
		if (n >= 2)
			order.erase(order.begin() + ptrdiff_t(pick(n)));
		break;
	case 3: // one preemption, anywhere in the first 256 choices
		head.sched = { uint8_t(rng()) };
		break;
	case 4: // two
		head.sched = { uint8_t(rng() % 64), uint8_t(rng() % 64) };
		break;
	default: // the schedule's bytes nudged, or one more
		if (head.sched.empty() || pick(4) == 0) {
			if (head.sched.size() < kMaxThreadSchedule)
				head.sched.push_back(uint8_t(rng() % 32));
		} else {
			uint8_t &b = head.sched[pick(head.sched.size())];
			b = uint8_t(b + int(pick(9)) - 4);
		}
		break;
	}
	return join(data, size, cut, head, order);
}

} // namespace teemed::fuzz
