// SPDX-License-Identifier: BSD-2-Clause
// Benchmarks of the mediator's own cost (null backends: no OP-TEE work),
// each next to a memcpy of the bytes the operation moves, measured in the
// same run so that ratios compare across machines. scripts/bench-table.py
// turns the JSON output into Documentation/benchmarks.md.
#include <benchmark/benchmark.h>

#include <cstring>

#include "guest_driver.hpp"
#include "model_backend.hpp"
#include "null_backend.hpp"
#include "rpc_backend.hpp"

using namespace teemed;
using namespace teemed::abi;

namespace {

Limits big_limits()
{
	Limits l;
	l.max_pages_per_buffer = 1024;
	l.max_pinned_pages_per_vm = 1u << 20;
	l.max_buffers_per_vm = 20000;
	l.max_rpc_buffers_per_vm = 20000;
	l.max_calls_per_vm = 20000;
	return l;
}

void BM_Memcpy(benchmark::State &st)
{
	// Touched first, so that no page fault or zero page is measured; the
	// destination is offset by a cache line so that source and destination
	// do not alias modulo 4 KiB (which makes some CPUs' rep movsb crawl).
	std::vector<std::byte> a(size_t(st.range(0)), std::byte{1}), b(a.size() + 64, std::byte{2});
	for (auto _ : st) {
		std::memcpy(b.data() + 64, a.data(), a.size());
		benchmark::DoNotOptimize(b.data());
		benchmark::ClobberMemory();
	}
	st.SetBytesProcessed(int64_t(st.iterations()) * st.range(0));
}
// 64: the registers of a fast call; 288: a 4-param argument (+ header);
// 4096: a page (an argument); 1 MiB: a 256-page buffer.
BENCHMARK(BM_Memcpy)->Arg(32)->Arg(64)->Arg(160)->Arg(4096)->Arg(16 * 4096)->Arg(1 << 20);

void BM_FastCall(benchmark::State &st)
{
	bench::NullBackend be;
	test::Guest g(be, 16);
	for (auto _ : st)
		benchmark::DoNotOptimize(g.smc({OPTEE_SMC_CALL_GET_OS_REVISION}));
}
BENCHMARK(BM_FastCall);

void BM_YieldingCall(benchmark::State &st)
{
	bench::NullBackend be;
	test::Guest g(be, 16);
	std::vector<MsgParam> params(size_t(st.range(0)), MsgParam{kAttrValueInout, 1, 2, 3});
	auto a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND, params, 1, 1);
	const uint64_t p = g.page();
	std::memcpy(g.at(p), a.data(), a.size());
	for (auto _ : st)
		benchmark::DoNotOptimize(g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, p}));
}
BENCHMARK(BM_YieldingCall)->Arg(0)->Arg(4);

void BM_RpcRound(benchmark::State &st)
{
	// A call that stops at one FOREIGN_INTR and completes on resume: the
	// start, the RPC out, the resume, the completion.
	bench::RpcBackend be;
	test::Guest g(be, 16, big_limits());
	g.vm().set_foreign_intr_budget({}); // the RPC goes out to the guest
	auto a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND, {}, 1, 1);
	const uint64_t p = g.page();
	std::memcpy(g.at(p), a.data(), a.size());
	for (auto _ : st) {
		SmcRegs r = g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, p});
		benchmark::DoNotOptimize(g.smc({OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]}));
	}
}
BENCHMARK(BM_RpcRound);

void BM_Translate(benchmark::State &st)
{
	const size_t pages = size_t(st.range(0));
	bench::NullBackend be;
	test::Guest g(be, pages + 32, big_limits());
	std::vector<uint64_t> owned;
	const uint64_t buf = g.buffer(std::vector<std::byte>(pages * kPageSize), 0, owned);
	auto a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND,
				  {{kAttrTmemInput | kAttrNoncontig, buf, pages * kPageSize, 0}}, 1, 1);
	const uint64_t p = g.page();
	std::memcpy(g.at(p), a.data(), a.size());
	for (auto _ : st)
		benchmark::DoNotOptimize(g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, p}));
	st.counters["pages"] = double(pages);
}
BENCHMARK(BM_Translate)->Arg(1)->Arg(16)->Arg(256);

void BM_VmCreateDestroy(benchmark::State &st)
{
	bench::NullBackend be;
	for (auto _ : st) {
		auto vm = Vm::create(be);
		benchmark::DoNotOptimize(vm.ok());
	}
}
BENCHMARK(BM_VmCreateDestroy);

void BM_ResumeWithLiveCalls(benchmark::State &st)
{
	// N calls suspended in OP-TEE; one more call's round trip (a lookup
	// of its thread among N) must not grow with N.
	bench::RpcBackend be;
	test::Guest g(be, 32, big_limits());
	g.vm().set_foreign_intr_budget({}); // the calls stay suspended
	auto a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND, {}, 1, 1);
	const uint64_t p = g.page();
	std::memcpy(g.at(p), a.data(), a.size());
	for (int64_t i = 0; i < st.range(0); i++)
		g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, p});
	for (auto _ : st) {
		SmcRegs r = g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, p});
		benchmark::DoNotOptimize(g.smc({OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, r[3]}));
	}
	st.counters["live_calls"] = double(g.vm().stats().live_calls);
}
BENCHMARK(BM_ResumeWithLiveCalls)->Arg(1)->Arg(100)->Arg(10000);

void BM_RegisteredBuffers(benchmark::State &st)
{
	// N registered SHM buffers; a CALL_WITH_REGD_ARG looks its cookie up.
	model::ModelBackend be;
	test::Guest g(be, uint32_t(2 * st.range(0) + 64), big_limits());
	std::vector<uint64_t> owned;
	uint64_t argbuf_cookie = 0;
	for (int64_t i = 0; i < st.range(0); i++) {
		const uint64_t buf = g.buffer(std::vector<std::byte>(64), 0, owned);
		const uint64_t cookie = 0x100000 + uint64_t(i);
		auto a = test::Guest::msg(OPTEE_MSG_CMD_REGISTER_SHM,
					  {{kAttrTmemOutput | kAttrNoncontig, buf, kPageSize, cookie}});
		if (g.call(a) != OPTEE_SMC_RETURN_OK || test::Guest::header(a).ret)
			st.SkipWithError("register failed");
		argbuf_cookie = cookie;
	}
	// The last one holds a CANCEL argument: cheap for the model.
	auto cancel = test::Guest::msg(OPTEE_MSG_CMD_CANCEL, {});
	std::memcpy(g.at(owned[owned.size() - 1]), cancel.data(), cancel.size());
	for (auto _ : st)
		benchmark::DoNotOptimize(
			g.smc({OPTEE_SMC_CALL_WITH_REGD_ARG, reg_hi(argbuf_cookie), reg_lo(argbuf_cookie), 0}));
	st.counters["buffers"] = double(g.vm().stats().shm_buffers);
}
BENCHMARK(BM_RegisteredBuffers)->Arg(1)->Arg(100)->Arg(10000);

void BM_FastCallAmongVms(benchmark::State &st)
{
	bench::NullBackend be;
	std::vector<std::unique_ptr<test::Guest>> vms;
	for (int64_t i = 0; i < st.range(0); i++)
		vms.push_back(std::make_unique<test::Guest>(be, 4));
	for (auto _ : st)
		benchmark::DoNotOptimize(vms.back()->smc({OPTEE_SMC_CALL_GET_OS_REVISION}));
}
BENCHMARK(BM_FastCallAmongVms)->Arg(1)->Arg(16)->Arg(256);

} // namespace

BENCHMARK_MAIN();
