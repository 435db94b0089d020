// SPDX-License-Identifier: BSD-2-Clause
// The real library (libteemed + the OP-TEE model) driven by the guest model
// of tests/support/guest_driver.hpp, for the eBPF tools' tests and their
// overhead measurement:
//
//   teemed_drive seq VMS N M K
//       VMS VMs (labels 1..VMS, all live at once), each: N fast calls (GET_OS_REVISION), M
//       yielding calls (INVOKE add in one session, so M + 2 with the open
//       and close), one K-page buffer registered then unregistered. Waits
//       for a line on stdin before (tools attach) and after (tools read)
//       and prints each VM's own counters (VmStats) as JSON, after destroy.
//   teemed_drive bench fast|yield SECONDS
//       as many fast calls (or INVOKE add calls) as fit in SECONDS on one
//       VM; prints "<calls> calls in <s> s: <rate> calls/s".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "guest_driver.hpp"

using namespace teemed;
using namespace teemed::abi;
using test::Guest;

namespace {

void json_stats(const VmStats &s, uint64_t label, bool last)
{
	std::printf("  {\"label\": %llu, \"client_id\": %u, \"fast_calls\": %llu, "
		    "\"yielding_calls\": %llu, \"rpc_returns\": %llu, \"rpcs\": %llu, "
		    "\"rejected\": %llu, \"backend_calls\": %llu, \"backend_errors\": %llu, "
		    "\"pins\": %llu, \"unpins\": %llu, \"pinned_pages\": %u, "
		    "\"pinned_pages_max\": %u, \"live_calls\": %u, \"live_calls_max\": %u, "
		    "\"leaked_pages\": %u}%s\n",
		    (unsigned long long)label, s.client_id, (unsigned long long)s.fast_calls,
		    (unsigned long long)s.yielding_calls, (unsigned long long)s.rpc_returns,
		    (unsigned long long)s.rpcs, (unsigned long long)s.rejected,
		    (unsigned long long)s.backend_calls, (unsigned long long)s.backend_errors,
		    (unsigned long long)s.pins, (unsigned long long)s.unpins, s.pinned_pages,
		    s.pinned_pages_max, s.live_calls, s.live_calls_max, s.leaked_pages,
		    last ? "" : ",");
}

void register_and_free(Guest &g, size_t pages, uint64_t cookie)
{
	std::vector<uint64_t> owned;
	const uint64_t buf = g.buffer(std::vector<std::byte>(pages * kPageSize), 0, owned);
	auto a = Guest::msg(OPTEE_MSG_CMD_REGISTER_SHM,
			    {{kAttrTmemOutput | kAttrNoncontig, buf, pages * kPageSize, cookie}});
	if (g.call(a) != OPTEE_SMC_RETURN_OK || Guest::header(a).ret != kTeecSuccess)
		throw std::runtime_error("register_shm");
	auto u = Guest::msg(OPTEE_MSG_CMD_UNREGISTER_SHM, {{kAttrRmemInput, 0, 0, cookie}});
	if (g.call(u) != OPTEE_SMC_RETURN_OK || Guest::header(u).ret != kTeecSuccess)
		throw std::runtime_error("unregister_shm");
	for (uint64_t p : owned)
		g.put_page(p);
}

void wait_line()
{
	std::string line;
	std::getline(std::cin, line);
}

int seq(int vms, long n, long m, long k)
{
	model::ModelBackend be;
	std::printf("drive pid %d ready\n", int(getpid()));
	std::fflush(stdout);
	wait_line();

	// All VMs live at once: each keeps its own client id.
	std::vector<std::unique_ptr<Guest>> guests;
	for (int v = 1; v <= vms; v++)
		guests.push_back(std::make_unique<Guest>(be, 1024, Limits{}, uint64_t(v)));
	for (int v = 1; v <= vms; v++) {
		Guest &g = *guests[v - 1];
		for (long i = 0; i < n; i++)
			g.smc({OPTEE_SMC_CALL_GET_OS_REVISION});
		if (m) {
			uint32_t s = g.open_session();
			for (long i = 0; i < m; i++)
				g.add(s, uint64_t(i), 1);
			auto a = Guest::msg(OPTEE_MSG_CMD_CLOSE_SESSION, {}, 0, s);
			g.call(a);
		}
		if (k)
			register_and_free(g, size_t(k), 0x5000 + v);
	}
	std::vector<std::pair<uint64_t, VmStats>> out;
	for (int v = 1; v <= vms; v++) {
		guests[v - 1]->vm().close();
		out.emplace_back(uint64_t(v), guests[v - 1]->vm().stats());
	}
	std::printf("{\"vms\": [\n");
	for (size_t i = 0; i < out.size(); i++)
		json_stats(out[i].second, out[i].first, i + 1 == out.size());
	std::printf("]}\n");
	std::fflush(stdout);
	wait_line();
	return 0;
}

int bench(const std::string &op, double seconds)
{
	model::ModelBackend be;
	Guest g(be, 1024);
	uint32_t s = op == "yield" ? g.open_session() : 0;
	using clock = std::chrono::steady_clock;
	const auto t0 = clock::now();
	const auto end = t0 + std::chrono::duration_cast<clock::duration>(
					   std::chrono::duration<double>(seconds));
	long calls = 0;
	uint64_t sink = 0;
	while (clock::now() < end) {
		// batches of 256: the clock stays out of the measurement
		for (int i = 0; i < 256; i++) {
			if (op == "fast")
				sink += g.smc({OPTEE_SMC_CALL_GET_OS_REVISION})[0];
			else
				sink += g.add(s, uint64_t(i), 1);
		}
		calls += 256;
	}
	const double dt = std::chrono::duration<double>(clock::now() - t0).count();
	std::printf("%ld calls in %.3f s: %.0f calls/s (sink %llu)\n", calls, dt, calls / dt,
		    (unsigned long long)sink);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	try {
		if (argc == 6 && !std::strcmp(argv[1], "seq"))
			return seq(std::atoi(argv[2]), std::atol(argv[3]), std::atol(argv[4]),
				   std::atol(argv[5]));
		if (argc == 4 && !std::strcmp(argv[1], "bench") &&
		    (!std::strcmp(argv[2], "fast") || !std::strcmp(argv[2], "yield")))
			return bench(argv[2], std::atof(argv[3]));
	} catch (const std::exception &e) {
		std::fprintf(stderr, "teemed_drive: %s\n", e.what());
		return 1;
	}
	std::fprintf(stderr, "usage: %s seq VMS N M K | bench fast|yield SECONDS\n", argv[0]);
	return 2;
}
