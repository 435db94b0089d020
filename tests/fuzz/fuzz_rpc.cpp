// SPDX-License-Identifier: BSD-2-Clause
// libFuzzer harness for the RPC half of the protocol: honest calls (open a
// session, invoke with memrefs, register SHM, RPC SHM round trips) whose
// every RPC answer the fuzzer may corrupt: the registers of
// RETURN_FROM_RPC (buffer address, cookie, thread id) and the bytes of the
// RPC argument the guest writes back (ret, attributes, page-list pointers,
// sizes, cookies). Same invariants as fuzz_smc: nothing survives the VM.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdlib>
#include <cstring>

#include "guest_driver.hpp"

using namespace teemed;
using namespace teemed::abi;

namespace {

constexpr size_t kPages = 96;

void check(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "invariant broken: %s\n", what);
		std::abort();
	}
}

// Drive one call; at each RPC either answer honestly or let the fuzzer
// corrupt the answer.
uint64_t drive(test::Guest &g, FuzzedDataProvider &fdp, std::vector<std::byte> &arg)
{
	const uint64_t p = g.page();
	std::memcpy(g.at(p), arg.data(), arg.size());
	SmcRegs out = g.smc({OPTEE_SMC_CALL_WITH_ARG, 0, p});
	for (int rounds = 0; is_rpc(out[0]) && rounds < 64; rounds++) {
		if (!fdp.remaining_bytes() || fdp.ConsumeBool()) {
			out = g.serve(out);
			continue;
		}
		SmcRegs r{OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, out[3]};
		switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
		case 0: // registers chosen by the fuzzer
			for (int i = 1; i < 8; i++)
				r[i] = fdp.ConsumeBool() ? fdp.ConsumeIntegral<uint64_t>()
							 : test::Guest::kIpa + fdp.ConsumeIntegralInRange<uint64_t>(0, kPages) * kPageSize;
			if (fdp.ConsumeBool())
				r[3] = out[3];
			break;
		case 1: { // an honest answer, then scribbles over the guest's RPC argument
			const SmcRegs req = out;
			(void)req;
			for (uint64_t ipa = test::Guest::kIpa; ipa < test::Guest::kIpa + kPages * kPageSize;
			     ipa += kPageSize) {
				if (!fdp.remaining_bytes() || fdp.ConsumeIntegralInRange<int>(0, 15))
					continue;
				auto *w = reinterpret_cast<uint64_t *>(g.at(ipa));
				w[fdp.ConsumeIntegralInRange<int>(0, 4 + 4 * 4)] = fdp.ConsumeIntegral<uint64_t>();
			}
			out = g.serve(out);
			continue;
		}
		case 2: // a thread id that is not the one suspended
			r[3] = fdp.ConsumeIntegralInRange<uint64_t>(0, 9);
			break;
		default: // walk away from this call: destroy must unwind it
			return out[0];
		}
		out = g.smc(r);
	}
	std::memcpy(arg.data(), g.at(p), arg.size());
	return out[0];
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzedDataProvider fdp(data, size);
	model::ModelConfig cfg;
	cfg.threads = fdp.ConsumeIntegralInRange<uint32_t>(1, 3);
	cfg.rpc_arg = false; // every RPC argument goes through RPC ALLOC
	model::ModelBackend be(cfg);
	Limits lim;
	lim.max_buffers_per_vm = fdp.ConsumeIntegralInRange<uint32_t>(1, 6);
	lim.max_pinned_pages_per_vm = fdp.ConsumeIntegralInRange<uint32_t>(4, 64);
	{
		test::Guest g(be, kPages, lim);
		uint32_t session = 1;
		for (int op = 0; op < 12 && fdp.remaining_bytes(); op++) {
			try {
				std::vector<std::byte> a;
				std::vector<uint64_t> owned;
				switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
				case 0:
					a = test::Guest::msg(OPTEE_MSG_CMD_OPEN_SESSION,
							     {{kAttrValueInput | kAttrMeta, model::kTaUuidHi, model::kTaUuidLo, 0},
							      {kAttrValueInput | kAttrMeta, 0, 0, 0}});
					if (drive(g, fdp, a) == OPTEE_SMC_RETURN_OK && !test::Guest::header(a).ret)
						session = test::Guest::header(a).session;
					break;
				case 1:
					a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND,
							     {{kAttrValueInput, fdp.ConsumeIntegralInRange<uint64_t>(1, 20000), 0, 0}},
							     model::kTaRpcShm, session);
					drive(g, fdp, a);
					break;
				case 2: {
					const uint64_t b = g.buffer(std::vector<std::byte>(3 * kPageSize), 5, owned);
					a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND,
							     {{kAttrTmemInput | kAttrNoncontig, b, 3 * kPageSize, 0},
							      {kAttrValueOutput, 0, 0, 0}},
							     model::kTaSum, session);
					drive(g, fdp, a);
					break;
				}
				default:
					a = test::Guest::msg(OPTEE_MSG_CMD_INVOKE_COMMAND, {}, model::kTaForeignIntr, session);
					drive(g, fdp, a);
				}
			} catch (const std::exception &) {
				// the honest driver ran out of guest pages or met an
				// answer it cannot serve: the mediator is the subject
			}
		}
		g.vm().close();
		const VmStats st = g.vm().stats();
		check(st.pinned_pages == 0 && st.live_calls == 0, "state after destroy");
		check(st.shm_buffers == 0 && st.rpc_buffers == 0, "buffers after destroy");
		check(st.pinned_pages_max <= lim.max_pinned_pages_per_vm, "pin quota exceeded");
		check(be.optee().suspended_threads() == 0, "OP-TEE thread left suspended");
	}
	check(be.stats().objects == 0 && be.stats().contexts == 0, "backend objects leaked");
	check(be.optee().phys().pages() == 0, "physical pages left registered");
	return 0;
}
