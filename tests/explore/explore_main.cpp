// SPDX-License-Identifier: BSD-2-Clause
// teemed_explore: the interleaving explorer from the command line.
//
//   teemed_explore [CONFIG...]                 every schedule with at most
//                  [--preemptions N]           N preemptions (2), up to
//                  [--max-runs N]              N runs per config (1000000)
//   teemed_explore --pct RUNS [--seed S] [--depth D] [CONFIG...]
//                                              RUNS random PCT runs each
//   teemed_explore --replay SCHEDULE CONFIG    one run, as printed
//
// Prints per configuration the runs and steps explored and what broke;
// exits 1 if anything did.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "configs.hpp"

using namespace teemed::explore;

int main(int argc, char **argv)
{
	unsigned preemptions = 2, depth = 3;
	size_t max_runs = 1000000, pct = 0;
	uint64_t seed = 1;
	std::string replay_schedule;
	std::vector<std::string> names;
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		auto value = [&] {
			if (i + 1 >= argc) {
				std::fprintf(stderr, "teemed_explore: %s needs a value\n", a.c_str());
				std::exit(2);
			}
			return std::string(argv[++i]);
		};
		if (a == "--preemptions")
			preemptions = std::stoul(value());
		else if (a == "--max-runs")
			max_runs = std::stoull(value());
		else if (a == "--pct")
			pct = std::stoull(value());
		else if (a == "--seed")
			seed = std::stoull(value());
		else if (a == "--depth")
			depth = std::stoul(value());
		else if (a == "--replay")
			replay_schedule = value();
		else
			names.push_back(a);
	}
	if (names.empty())
		for (const auto &c : configs())
			names.push_back(c.name);

	if (pct)
		std::printf("teemed_explore: PCT, %zu runs per configuration, depth %u, seeds %llu.. "
			    "(--seed to replay)\n", pct, depth, (unsigned long long)seed);
	int failed = 0;
	for (const auto &n : names) {
		const Config *cfg = config(n);
		if (!cfg) {
			std::fprintf(stderr, "teemed_explore: no configuration %s\n", n.c_str());
			return 2;
		}
		const auto t0 = std::chrono::steady_clock::now();
		Report r = !replay_schedule.empty() ? replay(*cfg, replay_schedule)
			   : pct ? explore_pct(*cfg, seed, pct, depth)
				 : explore_exhaustive(*cfg, preemptions, max_runs);
		const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		std::printf("%-16s %8zu runs %10zu steps %7.1f s  %s\n", n.c_str(), r.runs, r.steps, s,
			    !r.broken.empty() ? "BROKEN"
			    : pct || !replay_schedule.empty() ? "ok"
			    : r.exhausted ? "ok, every schedule"
					  : "ok, stopped at --max-runs");
		if (!r.broken.empty()) {
			std::printf("  %s\n  schedule %s\n", r.broken.c_str(), r.schedule.c_str());
			failed++;
		}
	}
	return failed ? 1 : 0;
}
