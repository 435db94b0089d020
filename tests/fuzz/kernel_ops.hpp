// SPDX-License-Identifier: BSD-2-Clause
// fuzz_kernel's input language, written once for both directions: the
// fuzzer reads it (Reader, over libFuzzer's FuzzedDataProvider) and the
// board suite's attacks are written in it as seeds (Writer:
// tests/kernel/adv_platform.cpp records the ioctls each attack makes).
//
// An input is: the model's configuration, a schedule of foreign
// interrupts, then steps. A step names a context slot; an unopened slot is
// opened, an open one takes an operation. The "honest" operations build
// their arguments from what the harness knows (its pins, OP-TEE's last
// request); the raw ones carry every field of the ioctl's argument as it
// is, so that any ioctl a VMM makes can be written down, and replayed.
//
// FuzzedDataProvider takes integers from the end of the data and bytes
// from its front; the Writer keeps the two streams apart and joins them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "uapi/linux/tee_vm.h"

namespace teemed::fuzz {

constexpr size_t kSlots = 4;       // contexts open at once
constexpr size_t kArenaPages = 32; // the VMM's memory it pins
constexpr uint32_t kMaxMsg = 8192; // a raw call's message buffer
constexpr uint32_t kMaxRawPages = 64;
constexpr int kMaxSteps = 256;
constexpr uint32_t kMaxIntrSchedule = 32;
constexpr uint32_t kMaxThreadSchedule = 256;
constexpr size_t kVmmThreads = 2; // the hostile VMM's threads

// The operations of an open slot; some twice or thrice, for their weight.
enum Op : uint8_t {
	kPin, // of the arena's pages
	kPin2,
	kRelease,   // of a pin, or a handle near them
	kCall,      // any command, any parameters
	kSessionCall, // an OpenSession of a known TA, an InvokeCommand of a session
	kResume, // a suspended thread, answered as a supplicant would, bent
	kResume2,
	kResume3,
	kFast, // a fast call
	kClose,
	kRawPin, // the raw ioctls: every field from the input
	kRawRelease,
	kRawCall,
	kRawInfo,
	kNumOps,
};

// P is FuzzedDataProvider (the header is clang's; seeds are written by
// gcc builds too).
template <class P> struct Reader {
	P &fdp;
	size_t front = 0; // bytes taken from the front (step_mutator.hpp)

	template <class T> void range(T &v, T lo, T hi)
	{
		v = fdp.template ConsumeIntegralInRange<T>(lo, hi);
	}
	template <class T> void any(T &v) { v = fdp.template ConsumeIntegral<T>(); }
	void flag(bool &b) { b = fdp.ConsumeBool(); }
	void bytes(std::vector<uint8_t> &b, size_t n)
	{
		b = fdp.template ConsumeBytes<uint8_t>(n);
		front += b.size();
		b.resize(n);
	}
	bool more() const { return fdp.remaining_bytes() != 0; }
};

struct Writer {
	std::vector<uint8_t> front;
	std::vector<uint8_t> back; // in the order FuzzedDataProvider takes them

	template <class T> void range(T &v, T lo, T hi)
	{
		const uint64_t span = uint64_t(hi) - uint64_t(lo);
		const uint64_t r = uint64_t(v) - uint64_t(lo);
		int n = 0;
		while (n < int(sizeof(T)) && (span >> (8 * n)) > 0)
			n++;
		for (int i = n - 1; i >= 0; i--) // most significant first
			back.push_back(uint8_t(r >> (8 * i)));
	}
	template <class T> void any(T &v)
	{
		range(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
	}
	void flag(bool &b)
	{
		uint8_t x = b;
		any(x);
	}
	void bytes(std::vector<uint8_t> &b, size_t n)
	{
		b.resize(n);
		front.insert(front.end(), b.begin(), b.end());
	}
	bool more() const { return true; }
	std::vector<uint8_t> data() const
	{
		std::vector<uint8_t> d = front;
		d.insert(d.end(), back.rbegin(), back.rend());
		return d;
	}
};

// The input's head: the model's configuration; when foreign interrupts
// come (one byte per point an OP-TEE thread could take one, 0 takes it;
// past the schedule, none); how the VMM's threads interleave (run-length
// coded: each byte is how many choices, at the start of a step or at a
// lock the kernel's code takes, go the running thread's way before one
// goes another way; past the schedule, none does, so that an empty
// schedule is the steps one after the other).
struct Head {
	uint32_t threads = 4;
	bool rpc_arg = true;
	std::vector<uint8_t> intr;
	std::vector<uint8_t> sched;

	template <class S> void io(S &s)
	{
		s.range(threads, 2u, 4u);
		s.flag(rpc_arg);
		uint32_t n = uint32_t(intr.size());
		s.range(n, 0u, kMaxIntrSchedule);
		s.bytes(intr, n);
		n = uint32_t(sched.size());
		s.range(n, 0u, kMaxThreadSchedule);
		s.bytes(sched, n);
	}
};

// A step: which slot, and (an open slot) which operation.
template <class S> void step_io(S &s, uint8_t &slot)
{
	s.range(slot, uint8_t(0), uint8_t(kSlots - 1));
}
template <class S> void op_io(S &s, uint8_t &op)
{
	s.range(op, uint8_t(0), uint8_t(kNumOps - 1));
}

// TEE_IOC_VM_PIN as the VMM makes it, its pages by the arena's page index.
struct RawPin {
	std::vector<uint8_t> pages; // arena page indexes
	uint32_t offset = 0;
	uint64_t size = 0;
	uint32_t flags = 0;

	template <class S> void io(S &s)
	{
		uint32_t n = uint32_t(pages.size());
		s.range(n, 0u, kMaxRawPages);
		pages.resize(n);
		for (auto &p : pages)
			s.range(p, uint8_t(0), uint8_t(kArenaPages - 1));
		s.any(offset);
		s.any(size);
		s.any(flags);
	}
};

struct RawRelease {
	tee_ioctl_vm_release a{};

	template <class S> void io(S &s)
	{
		s.any(a.handle);
		s.any(a.flags);
	}
};

// TEE_IOC_VM_CALL: every register, the message's size and its bytes.
struct RawCall {
	tee_ioctl_vm_call a{};
	std::vector<uint8_t> msg;

	template <class S> void io(S &s)
	{
		for (auto &r : a.regs)
			s.any(r);
		bool has_msg = a.msg != 0;
		s.flag(has_msg);
		a.msg = has_msg;
		s.range(a.msg_size, 0u, kMaxMsg);
		s.any(a.flags);
		uint32_t n = uint32_t(msg.size());
		s.range(n, 0u, kMaxMsg);
		s.bytes(msg, n);
	}
};

} // namespace teemed::fuzz
