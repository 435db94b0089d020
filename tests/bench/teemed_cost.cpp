// SPDX-License-Identifier: BSD-2-Clause
// Instruction counts of the mediator's own work, for callgrind:
//   valgrind --tool=callgrind teemed_cost <op> <n>
// runs <op> n times after one warm-up; scripts/callgrind-cost.sh runs it for
// two n and divides the difference, which cancels set-up costs.
//   fast       one forwarded fast call (GET_OS_REVISION)
//   yield4     a CALL_WITH_ARG INVOKE_COMMAND with 4 value params
//   tmem256    a CALL_WITH_ARG INVOKE_COMMAND with one 256-page TMEM
//              (page-list walk, translation of every page, pin, unpin)
//   memcpy4k   memcpy of one page, the yardstick
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "guest_driver.hpp"
#include "null_backend.hpp"

using namespace teemed;
using namespace teemed::abi;

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: %s fast|yield4|tmem256|memcpy4k N\n", argv[0]);
		return 2;
	}
	const std::string op = argv[1];
	const long n = std::atol(argv[2]);
	bench::NullBackend be;
	Limits lim;
	lim.max_pages_per_buffer = 1024;
	test::Guest g(be, 1024, lim);

	const uint64_t argp = g.page();
	std::vector<uint64_t> owned;
	const uint64_t buf = g.buffer(std::vector<std::byte>(256 * kPageSize), 0, owned);
	std::vector<std::byte> a;
	if (op == "yield4")
		a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND, {{kAttrValueInput, 1, 2, 3},
							 {kAttrValueInput, 1, 2, 3},
							 {kAttrValueOutput, 0, 0, 0},
							 {kAttrValueInout, 1, 2, 3}}, 1, 1);
	else
		a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND,
				     {{kAttrTmemInput | kAttrNoncontig, buf, 256 * kPageSize, 0}}, 1, 1);
	std::memcpy(g.at(argp), a.data(), a.size());

	static std::byte src[kPageSize], dst[kPageSize];
	uint64_t sink = 0;
	for (long i = 0; i <= n; i++) {
		if (op == "fast") {
			sink += g.smc({OPTEE_SMC_CALL_GET_OS_REVISION})[0];
		} else if (op == "yield4" || op == "tmem256") {
			sink += g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, argp})[0];
		} else if (op == "memcpy4k") {
			src[i % kPageSize] = std::byte(i);
			std::memcpy(dst, src, kPageSize);
			asm volatile("" : : "r"(dst) : "memory");
		} else {
			return 2;
		}
	}
	auto st = g.vm().stats();
	std::printf("%s x%ld: a0 sum %llu, pins %llu, rejected %llu\n", op.c_str(), n,
		    (unsigned long long)sink, (unsigned long long)st.pins,
		    (unsigned long long)st.rejected);
	return st.rejected ? 1 : 0;
}
