// SPDX-License-Identifier: BSD-2-Clause
// `make demo`: the library without a board. One guest (the tests' guest
// driver) goes through the mediator to the in-process OP-TEE model, not
// real OP-TEE, printing what happened at each step. `make run` is the same
// through real OP-TEE on the emulated board.
#include <cstdio>

#include "guest_driver.hpp"

using namespace teemed;
using namespace teemed::abi;

int main()
{
	model::ModelBackend be;
	if (!be.register_host()) {
		std::fprintf(stderr, "model refused the host registration\n");
		return 1;
	}
	test::Guest g(be, 1024, Limits{}, 1);
	std::printf("VM created: client id %u (host is 1)\n", g.vm().client_id());

	SmcRegs r = g.smc({OPTEE_SMC_CALLS_UID});
	std::printf("CALLS_UID            -> %08llx %08llx %08llx %08llx\n",
		    (unsigned long long)r[0], (unsigned long long)r[1], (unsigned long long)r[2],
		    (unsigned long long)r[3]);
	r = g.smc({OPTEE_SMC_EXCHANGE_CAPABILITIES});
	std::printf("EXCHANGE_CAPABILITIES-> a0=%llu caps=%#llx (VIRTUALIZATION masked)\n",
		    (unsigned long long)r[0], (unsigned long long)r[1]);

	const uint32_t s = g.open_session();
	std::printf("OPEN_SESSION         -> session %u (TA loaded over RPC)\n", s);
	std::printf("INVOKE add(40, 2)    -> %llu\n", (unsigned long long)g.add(s, 40, 2));

	std::vector<std::byte> data(3 * kPageSize + 17);
	for (size_t i = 0; i < data.size(); i++)
		data[i] = std::byte(i);
	std::vector<uint64_t> pages;
	const uint64_t in = g.buffer(data, 100, pages);
	const uint64_t out = g.buffer(std::vector<std::byte>(data.size()), 5, pages);
	auto a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND,
				  {{kAttrTmemInput | kAttrNoncontig, in, data.size(), 0},
				   {kAttrTmemOutput | kAttrNoncontig, out, data.size(), 0}},
				  model::kTaEcho, s);
	const uint64_t a0 = g.call(a);
	std::printf("INVOKE echo(%zu B)  -> a0=%llu ret=%#x size=%llu\n", data.size(),
		    (unsigned long long)a0, test::Guest::header(a).ret,
		    (unsigned long long)test::Guest::param(a, 1).b);

	VmStats st = g.vm().stats();
	std::printf("stats: fast=%llu yielding=%llu rpcs=%llu pins=%llu unpins=%llu pinned now=%u max=%u\n",
		    (unsigned long long)st.fast_calls, (unsigned long long)st.yielding_calls,
		    (unsigned long long)st.rpcs, (unsigned long long)st.pins,
		    (unsigned long long)st.unpins, st.pinned_pages, st.pinned_pages_max);
	g.vm().close();
	st = g.vm().stats();
	std::printf("VM destroyed: pinned=%u leaked=%u, OP-TEE guests left=%zu (the host)\n",
		    st.pinned_pages, st.leaked_pages, be.optee().guests());
	return st.pinned_pages == 0 && a0 == OPTEE_SMC_RETURN_OK ? 0 : 1;
}
