// SPDX-License-Identifier: BSD-2-Clause
// The interleaving explorer in `make check`: each configuration under every
// schedule of its actors within a preemption bound (tests/explore). Each of
// the first three found a bug of issue 17 before its fix: rpc-calls the
// thread a finished call's vCPU took from the next call (ERESUME, the call
// stuck), remove-region a registration in flight into a region the VMM
// removed, cookie-race an UNREGISTER_SHM overtaking another and taking away
// a registration the library then kept pinned.
#include <gtest/gtest.h>

#include <cstdio>

#include "configs.hpp"

namespace teemed::explore {
namespace {

void explore(const char *name, unsigned preemptions)
{
	const Config *cfg = config(name);
	ASSERT_NE(cfg, nullptr);
	const Report r = explore_exhaustive(*cfg, preemptions, 200000);
	std::printf("explore: %-16s %u preemptions: %zu runs, %zu steps%s\n", name, preemptions,
		    r.runs, r.steps, r.exhausted ? "" : " (stopped)");
	EXPECT_EQ(r.broken, "") << "schedule " << r.schedule;
	EXPECT_TRUE(r.exhausted);
}

TEST(Explore, RpcCalls) { explore("rpc-calls", 2); }
TEST(Explore, RpcCallsThreeVcpus) { explore("rpc-calls-3", 1); }
TEST(Explore, CookieRace) { explore("cookie-race", 2); }
TEST(Explore, CookiePingPong) { explore("cookie-pingpong", 2); }
TEST(Explore, RemoveRegion) { explore("remove-region", 2); }
TEST(Explore, ShmCache) { explore("shm-cache", 1); }
TEST(Explore, Destroy) { explore("destroy", 1); }

} // namespace
} // namespace teemed::explore
