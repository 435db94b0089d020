// SPDX-License-Identifier: BSD-2-Clause
// fuzz_kernel's custom mutator (tests/fuzz/step_mutator.hpp) puts an
// input's steps together again in another order or under another
// schedule: what FuzzedDataProvider then reads must be those steps, whole,
// in that order, after that head.
#include <gtest/gtest.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "kernel_ops.hpp"
#include "step_mutator.hpp"

namespace teemed::test {
namespace {

using fuzz::Cut;
using fuzz::Head;
using fuzz::Reader;
using fuzz::Writer;

// A step: some bytes from the front and an integer from the back, as a raw
// call's message and registers are.
struct Step {
	std::vector<uint8_t> bytes;
	uint32_t value = 0;

	template <class S> void io(S &s, size_t n)
	{
		s.bytes(bytes, n);
		s.any(value);
	}
};

struct Input {
	std::vector<uint8_t> data;
	Cut cut;
};

// Writes @head and @steps, noting where each step's bytes land, as the
// harness's sequential run does.
Input write(const Head &head, std::vector<Step> steps)
{
	Writer w;
	Head h = head;
	h.io(w);
	Input in;
	in.cut.head = head;
	in.cut.head_front = w.front.size();
	in.cut.head_back = w.back.size();
	for (Step &s : steps) {
		const size_t f = w.front.size(), b = w.back.size();
		s.io(w, s.bytes.size());
		in.cut.steps.push_back({ f, w.front.size() - f, b, w.back.size() - b });
	}
	in.data = w.data();
	return in;
}

std::vector<Step> read(const std::vector<uint8_t> &data, Head &head, const std::vector<size_t> &sizes)
{
	FuzzedDataProvider fdp(data.data(), data.size());
	Reader<FuzzedDataProvider> r{ fdp };
	head.io(r);
	std::vector<Step> out(sizes.size());
	for (size_t i = 0; i < sizes.size(); i++)
		out[i].io(r, sizes[i]);
	EXPECT_EQ(fdp.remaining_bytes(), 0u);
	return out;
}

std::vector<uint8_t> bytes(const std::string &s) { return { s.begin(), s.end() }; }

TEST(StepMutator, JoinKeepsAnInputAsItWas)
{
	Head head;
	head.threads = 3;
	head.intr = { 1, 2 };
	head.sched = { 5 };
	const Input in = write(head, { { bytes("abc"), 0x11223344 }, { bytes("de"), 7 } });
	EXPECT_EQ(fuzz::join(in.data.data(), in.data.size(), in.cut, head, { 0, 1 }), in.data);
}

TEST(StepMutator, JoinMovesWholeStepsAndRewritesTheHead)
{
	Head head;
	head.intr = { 9 };
	const Input in = write(head, { { bytes("abc"), 0x11223344 }, { bytes("de"), 7 },
				       { bytes(""), 0xdead } });
	Head other = head;
	other.sched = { 0, 200, 3 };
	const auto out = fuzz::join(in.data.data(), in.data.size(), in.cut, other, { 2, 0, 0, 1 });
	Head got;
	const auto steps = read(out, got, { 0, 3, 3, 2 });
	EXPECT_EQ(got.sched, other.sched);
	EXPECT_EQ(got.intr, head.intr);
	EXPECT_EQ(got.threads, head.threads);
	EXPECT_EQ(steps[0].value, 0xdeadu);
	EXPECT_EQ(steps[1].bytes, bytes("abc"));
	EXPECT_EQ(steps[1].value, 0x11223344u);
	EXPECT_EQ(steps[2].value, 0x11223344u);
	EXPECT_EQ(steps[3].bytes, bytes("de"));
	EXPECT_EQ(steps[3].value, 7u);
}

TEST(StepMutator, EveryMutationLeavesStepsWhole)
{
	Head head;
	const Input in = write(head, { { bytes("ab"), 1 }, { bytes("cd"), 2 }, { bytes("ef"), 3 } });
	std::minstd_rand rng(1);
	for (int i = 0; i < 200; i++) {
		const auto out = fuzz::mutate_steps(in.data.data(), in.data.size(), in.cut, rng);
		ASSERT_FALSE(out.empty());
		// Each step is two bytes and a 4-byte integer: the steps read
		// back are some of the three, each whole.
		FuzzedDataProvider fdp(out.data(), out.size());
		Reader<FuzzedDataProvider> r{ fdp };
		Head got;
		got.io(r);
		size_t n = 0;
		while (fdp.remaining_bytes()) {
			Step s;
			s.io(r, 2);
			ASSERT_GE(s.value, 1u);
			ASSERT_LE(s.value, 3u);
			EXPECT_EQ(s.bytes[0], uint8_t('a' + 2 * (s.value - 1)));
			n++;
		}
		EXPECT_GE(n, 2u);
		EXPECT_LE(n, 4u);
	}
}

} // namespace
} // namespace teemed::test
