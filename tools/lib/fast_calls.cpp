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
		return with_a0(in, kReturnENotAvail);
	SmcRegs res = in;
	for (int i = 0; i < 4; i++)
		res[i] = out->regs[i];
	return res;
}

SmcRegs VmState::fast_call(const SmcRegs &in)
{
	const uint32_t fid = uint32_t(in[0]);
	{
		std::lock_guard g(lock_);
		st_.fast_calls++;
	}
	switch (fid) {
	case kCallsUid:
	case kCallsRevision:
	case kGetOsUuid:
	case kGetOsRevision:
	case kEnableShmCache:
		return forward_fast(in, 0);

	case kGetThreadCount: {
		SmcRegs out = forward_fast(in, 0);
		// The guest sizes its own queueing on this: tell it what it
		// may really have in flight.
		if (out[0] == kReturnOk) {
			uint64_t cap = limits_.max_calls_per_vm;
			if (out[1] > cap)
				out[1] = cap;
		}
		return out;
	}

	case kExchangeCapabilities: {
		// OP-TEE refuses unknown normal-world capabilities; so do we,
		// before anything reaches it.
		if (uint32_t(in[1]) & ~kNsecCapUniprocessor || in[1] >> 32)
			return with_a0(in, kReturnENotAvail);
		SmcRegs out = forward_fast(in, in[1]);
		if (out[0] != kReturnOk)
			return out;
		uint32_t caps = uint32_t(out[1]);
		// Guests share memory only by registering it (dynamic SHM):
		// without it OP-TEE cannot serve a guest at all.
		if (!(caps & kSecCapDynamicShm))
			return with_a0(in, kReturnENotAvail);
		out[1] = caps & kGuestSecCaps;
		out[2] = 0; // no notification values: async notif is masked
		out[3] = (caps & kSecCapRpcArg) ? out[3] : 0;
		return out;
	}

	case kDisableShmCache: {
		SmcRegs out = forward_fast(in, 0);
		// OP-TEE hands back one cached RPC argument buffer: it will
		// never touch it again (the kernel frees its page).
		if (out[0] == kReturnOk) {
			std::lock_guard g(lock_);
			rpc_bufs_.erase(reg_pair_to_64(out[1], out[2]));
		}
		return out;
	}

	case kGetShmConfig:
		// Guests get no reserved SHM; OP-TEE documents ENOTAVAIL for
		// "no such configuration".
		return with_a0(in, kReturnENotAvail);

	case kVmCreated:
	case kVmDestroyed:
		// Only the hypervisor (a7 = 0) may; OP-TEE answers anyone else
		// ENOTAVAIL, and so do we without asking it.
	case kBootSecondary:
		// Releasing secondary cores is the host's business; OP-TEE
		// without CFG_BOOT_SECONDARY_REQUEST answers ENOTAVAIL.
		{
			std::lock_guard g(lock_);
			st_.rejected++;
		}
		return with_a0(in, kReturnENotAvail);

	case kCallsCount:
		// Not forwarded by the kernel; Linux never asks. OP-TEE
		// without it answers UNKNOWN_FUNCTION too.
	case kL2ccMutex:
	case kEnableAsyncNotif:
	case kGetAsyncNotifValue:
	default:
		// L2CC exists on ARM32 PL310 systems only; async notifications
		// are not offered to guests (EXCHANGE_CAPABILITIES masks them),
		// so OP-TEE without them is what the guest sees.
		{
			std::lock_guard g(lock_);
			st_.rejected++;
		}
		return with_a0(in, kReturnUnknownFunction);
	}
}

} // namespace teemed
