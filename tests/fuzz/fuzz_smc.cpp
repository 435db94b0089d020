// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer harness: a hostile guest with 64 pages of RAM (guard pages
// around it) drives the mediator against the OP-TEE model. The input
// chooses guest memory contents and a sequence of SMCs (every Trusted OS
// id, yielding calls, RPC returns with any registers), interleaved with
// honest protocol steps so that deep states (suspended calls, registered
// SHM, RPC buffers) are reached. After every input the VM is destroyed and
// nothing may remain: pins, buffers, calls, OP-TEE threads, objects.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <cstring>

#include "guest_driver.hpp"

using namespace teemed;
using namespace teemed::abi;

namespace {

constexpr size_t kPages = 64;

const uint32_t kFids[] = {
	OPTEE_SMC_CALLS_COUNT, OPTEE_SMC_CALLS_UID, OPTEE_SMC_CALLS_REVISION, OPTEE_SMC_CALL_GET_OS_UUID, OPTEE_SMC_CALL_GET_OS_REVISION, OPTEE_SMC_GET_SHM_CONFIG,
	OPTEE_SMC_L2CC_MUTEX, OPTEE_SMC_EXCHANGE_CAPABILITIES, OPTEE_SMC_DISABLE_SHM_CACHE, OPTEE_SMC_ENABLE_SHM_CACHE, OPTEE_SMC_BOOT_SECONDARY,
	OPTEE_SMC_VM_CREATED, OPTEE_SMC_VM_DESTROYED, OPTEE_SMC_GET_THREAD_COUNT, OPTEE_SMC_ENABLE_ASYNC_NOTIF, OPTEE_SMC_GET_ASYNC_NOTIF_VALUE,
	OPTEE_SMC_CALL_WITH_ARG, OPTEE_SMC_CALL_RETURN_FROM_RPC, OPTEE_SMC_CALL_WITH_RPC_ARG, OPTEE_SMC_CALL_WITH_REGD_ARG, OPTEE_SMC_CALL_WITH_ARG | kSmc64,
	0x3f000000, 0xb0000000,
};

void check(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "invariant broken: %s\n", what);
		std::abort();
	}
}

uint64_t pick_addr(FuzzedDataProvider &fdp)
{
	const uint64_t base = test::Guest::kIpa;
	switch (fdp.ConsumeIntegralInRange<int>(0, 4)) {
	case 0:
		return base + fdp.ConsumeIntegralInRange<uint64_t>(0, kPages - 1) * kPageSize;
	case 1:
		return base + fdp.ConsumeIntegralInRange<uint64_t>(0, kPages * kPageSize + 64);
	case 2:
		return base + kPages * kPageSize - fdp.ConsumeIntegralInRange<uint64_t>(0, 64);
	case 3:
		return 0;
	default:
		return fdp.ConsumeIntegral<uint64_t>();
	}
}

uint64_t pick_reg(FuzzedDataProvider &fdp, const SmcRegs &last)
{
	switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
	case 0:
		return fdp.ConsumeIntegralInRange<uint64_t>(0, 16);
	case 1:
		return last[fdp.ConsumeIntegralInRange<int>(0, 3)]; // replay what OP-TEE said
	case 2:
		return fdp.ConsumeIntegral<uint64_t>();
	default:
		return pick_addr(fdp) >> (fdp.ConsumeBool() ? 32 : 0);
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzedDataProvider fdp(data, size);
	model::ModelConfig cfg;
	cfg.threads = fdp.ConsumeIntegralInRange<uint32_t>(1, 4);
	cfg.rpc_arg = fdp.ConsumeBool();
	model::ModelBackend be(cfg);
	Limits lim;
	lim.max_pages_per_buffer = fdp.ConsumeIntegralInRange<uint32_t>(1, 40);
	lim.max_pinned_pages_per_vm = fdp.ConsumeIntegralInRange<uint32_t>(1, 80);
	lim.max_buffers_per_vm = fdp.ConsumeIntegralInRange<uint32_t>(1, 4);
	lim.max_rpc_buffers_per_vm = fdp.ConsumeIntegralInRange<uint32_t>(1, 4);
	lim.max_calls_per_vm = fdp.ConsumeIntegralInRange<uint32_t>(1, 4);
	{
		test::Guest g(be, kPages, lim);
		SmcRegs last{};
		for (int op = 0; op < 48 && fdp.remaining_bytes(); op++) {
			try {
				switch (fdp.ConsumeIntegralInRange<int>(0, 5)) {
				case 0: { // scribble on guest memory
					const uint64_t off = fdp.ConsumeIntegralInRange<uint64_t>(0, kPages * kPageSize - 1);
					auto bytes = fdp.ConsumeBytes<uint8_t>(
						fdp.ConsumeIntegralInRange<size_t>(1, 64));
					bytes.resize(std::min<size_t>(bytes.size(), kPages * kPageSize - off));
					if (!bytes.empty())
						std::memcpy(g.at(test::Guest::kIpa + off), bytes.data(), bytes.size());
					break;
				}
				case 1: { // plant a page list / argument-shaped page
					const uint64_t p = test::Guest::kIpa +
							   fdp.ConsumeIntegralInRange<uint64_t>(0, kPages - 1) * kPageSize;
					auto *w = reinterpret_cast<uint64_t *>(g.at(p));
					for (int i = 0; i < 8; i++)
						w[fdp.ConsumeIntegralInRange<int>(0, 511)] = pick_addr(fdp);
					break;
				}
				case 2:
				case 3: { // any SMC
					SmcRegs r{};
					r[0] = fdp.ConsumeBool() ? kFids[fdp.ConsumeIntegralInRange<size_t>(0, std::size(kFids) - 1)]
								 : fdp.ConsumeIntegral<uint32_t>();
					for (int i = 1; i < 8; i++)
						r[i] = pick_reg(fdp, last);
					auto out = g.vm().handle_smc(r);
					check(bool(out), "handle_smc failed on guest input");
					last = *out;
					break;
				}
				case 4: // an honest RPC answer to whatever is pending
					if (is_rpc(last[0]))
						last = g.serve(last);
					break;
				default: // an honest whole call
					g.open_session();
					break;
				}
			} catch (const std::exception &) {
				// the honest guest driver gave up (its RAM is full or a
				// call failed): fine, the mediator stays the subject
			}
		}
		g.vm().close();
		const VmStats st = g.vm().stats();
		check(st.pinned_pages == 0, "pins after destroy");
		check(st.live_calls == 0, "calls after destroy");
		check(st.shm_buffers == 0 && st.rpc_buffers == 0, "buffers after destroy");
		check(st.pinned_pages_max <= lim.max_pinned_pages_per_vm, "pin quota exceeded");
		check(st.live_calls_max <= lim.max_calls_per_vm, "call limit exceeded");
		check(be.optee().suspended_threads() == 0, "OP-TEE thread left suspended");
	}
	check(be.stats().objects == 0 && be.stats().contexts == 0, "backend objects leaked");
	check(be.optee().phys().pages() == 0, "physical pages left registered");
	return 0;
}
