// SPDX-License-Identifier: BSD-2-Clause
// Fast calls: answered by the mediator where the guest must not see the
// host's view (memory configuration, capabilities only a hypervisor may
// use), forwarded to OP-TEE otherwise. See Documentation/function-ids.md.
#include "vm_state.hpp"

namespace teemed {

using namespace abi;

namespace {

// What a guest may be told OP-TEE can do. Reserved SHM is the host's
// physical carve-out; VIRTUALIZATION is for hypervisors; asynchronous
// notifications need an interrupt the VMM does not route per guest; RPMB
// probing reaches the host's eMMC, not the guest's.
constexpr uint32_t kGuestSecCaps = kSecCapDynamicShm | kSecCapMemrefNull | kSecCapRpcArg;

} // namespace

SmcRegs VmState::forward_fast(const SmcRegs &in, uint64_t a1)
{
	// Only the function id (and a1 where the call takes one) reaches
	// OP-TEE: nothing else the guest put in registers means anything to
	// these calls.
	SmcRegs r{};
	r[0] = uint32_t(in[0]);
	r[1] = a1;
	auto out = smc(CallRequest{r, {}, 0});
	if (!out)
		return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
	SmcRegs res = in;
	for (int i = 0; i < 4; i++)
		res[i] = out->regs[i];
	return res;
}

SmcRegs VmState::get_thread_count(const SmcRegs &in)
{
	SmcRegs out = forward_fast(in, 0);
	// The guest sizes its own queueing on this: tell it what it may
	// really have in flight.
	if (out[0] == OPTEE_SMC_RETURN_OK && out[1] > limits_.max_calls_per_vm)
		out[1] = limits_.max_calls_per_vm;
	return out;
}

SmcRegs VmState::exchange_capabilities(const SmcRegs &in)
{
	// OP-TEE refuses unknown normal-world capabilities; so do we, before
	// anything reaches it.
	if (uint32_t(in[1]) & ~kNsecCapUniprocessor || in[1] >> 32)
		return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
	SmcRegs out = forward_fast(in, in[1]);
	if (out[0] != OPTEE_SMC_RETURN_OK)
		return out;
	const uint32_t caps = uint32_t(out[1]);
	// Guests share memory only by registering it (dynamic SHM): without
	// it OP-TEE cannot serve a guest at all.
	if (!(caps & kSecCapDynamicShm))
		return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
	out[1] = caps & kGuestSecCaps;
	out[2] = 0; // no notification values: async notif is masked
	out[3] = (caps & kSecCapRpcArg) ? out[3] : 0;
	return out;
}

SmcRegs VmState::disable_shm_cache(const SmcRegs &in)
{
	SmcRegs out = forward_fast(in, 0);
	// OP-TEE hands back one cached RPC argument buffer: it will never
	// touch it again (the kernel frees its page).
	if (out[0] == OPTEE_SMC_RETURN_OK) {
		std::lock_guard g(lock_);
		rpc_bufs_.erase(reg_pair_to_64(out[1], out[2]));
	}
	return out;
}

SmcRegs VmState::fast_call(const SmcRegs &in)
{
	const uint32_t fid = uint32_t(in[0]);
	{
		std::lock_guard g(lock_);
		st_.fast_calls++;
	}
	// Who does what with each id is tables/optee_smc.tsv: why each is
	// answered here (the host's memory configuration, calls only the
	// hypervisor may make, asynchronous notifications guests are not
	// offered) is written next to it there.
	const FastCallRule *rule = fast_call_rule(fid);
	if (rule && rule->library == Handling::forward)
		return forward_fast(in, 0);
	if (rule && rule->library == Handling::mediate) {
		switch (fid) {
		case OPTEE_SMC_GET_THREAD_COUNT:
			return get_thread_count(in);
		case OPTEE_SMC_EXCHANGE_CAPABILITIES:
			return exchange_capabilities(in);
		case OPTEE_SMC_DISABLE_SHM_CACHE:
			return disable_shm_cache(in);
		}
	}
	{
		std::lock_guard g(lock_);
		st_.rejected++;
	}
	// An id the table does not name gets what OP-TEE gives one.
	return with_a0(in, rule && rule->answer ? rule->answer : OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
}

} // namespace teemed
