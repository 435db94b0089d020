// SPDX-License-Identifier: BSD-2-Clause
// The secure world of the model: SMC entry, fast calls, thread pool and the
// std-call commands. RPC helpers and the TA live in model_rpc.cpp and
// model_ta.cpp.
#include "bytes.hpp"
#include "optee_model.hpp"

#include <cstring>

namespace teemed::model {

using namespace abi;

bool Mobj::read(uint64_t off, std::span<std::byte> out) const
{
	if (off > size || out.size() > size - off)
		return false;
	uint64_t pos = offset + off;
	size_t done = 0;
	while (done < out.size()) {
		const size_t n = std::min<size_t>(out.size() - done, kPageSize - pos % kPageSize);
		copy_bytes(out.data() + done, pages[pos / kPageSize] + pos % kPageSize, n);
		done += n;
		pos += n;
	}
	return true;
}

bool Mobj::write(uint64_t off, std::span<const std::byte> in) const
{
	if (off > size || in.size() > size - off)
		return false;
	uint64_t pos = offset + off;
	size_t done = 0;
	while (done < in.size()) {
		const size_t n = std::min<size_t>(in.size() - done, kPageSize - pos % kPageSize);
		copy_bytes(pages[pos / kPageSize] + pos % kPageSize, in.data() + done, n);
		done += n;
		pos += n;
	}
	return true;
}

OpteeModel::OpteeModel(const ModelConfig &cfg) : cfg_(cfg) {}

OpteeModel::~OpteeModel() = default;

OpteeModel::Partition *OpteeModel::partition(uint32_t client)
{
	auto it = parts_.find(client);
	return it == parts_.end() ? nullptr : &it->second;
}

std::optional<Mobj> OpteeModel::mobj_from_noncontig(uint64_t buf_ptr, uint64_t size) const
{
	Mobj m;
	m.offset = uint32_t(buf_ptr & kPageMask);
	m.size = size;
	if (!size || size > (uint64_t(1) << 32))
		return std::nullopt;
	const uint64_t pages = (m.offset + size + kPageSize - 1) / kPageSize;
	uint64_t list = buf_ptr & ~kPageMask;
	while (m.pages.size() < pages) {
		auto *lp = reinterpret_cast<uint64_t *>(phys_.map(list, kPageSize));
		if (!lp || list & kPageMask)
			return std::nullopt;
		for (size_t i = 0; i < kPagesPerListPage && m.pages.size() < pages; i++) {
			std::byte *p = phys_.map(lp[i], kPageSize);
			if (!p || lp[i] & kPageMask)
				return std::nullopt;
			m.pages.push_back(p);
		}
		list = lp[kPagesPerListPage];
	}
	return m;
}

SmcRegs OpteeModel::smc(const SmcRegs &in)
{
	std::lock_guard g(lock_);
	const uint32_t a7 = uint32_t(in[7]);
	// thread_handle_fast_smc / thread_handle_std_smc: an unknown client
	// gets ENOTAVAIL; the hypervisor (0) may make fast calls only.
	if (is_fast(uint32_t(in[0]))) {
		if (a7 != 0 && !partition(a7))
			return with_a0(in, kReturnENotAvail);
		return fast(in);
	}
	if (!partition(a7))
		return with_a0(in, kReturnENotAvail);
	cur_client_ = a7; // virt_set_guest(a7)
	return std_call(in);
}

SmcRegs OpteeModel::fast(const SmcRegs &in)
{
	const uint32_t a7 = uint32_t(in[7]);
	SmcRegs out = in;
	switch (uint32_t(in[0])) {
	case kCallsCount:
		return with_a0(in, 14);
	case kCallsUid:
		out = {0x384fb3e0, 0xe7f811e3, 0xaf630002, 0xa5d5c51b, in[4], in[5], in[6], in[7]};
		return out;
	case kCallsRevision:
		out[0] = 2;
		out[1] = 0;
		return out;
	case kGetOsUuid:
		out = {0x486178e0, 0xe7f811e3, 0xbc5e0002, 0xa5d5c51b, in[4], in[5], in[6], in[7]};
		return out;
	case kGetOsRevision:
		out[0] = 4;
		out[1] = 5;
		out[2] = 0;
		return out;
	case kExchangeCapabilities:
		if (in[1] & ~uint64_t(kNsecCapUniprocessor))
			return with_a0(in, kReturnENotAvail);
		out[0] = kReturnOk;
		out[1] = kSecCapDynamicShm | kSecCapVirtualization | kSecCapMemrefNull |
			 kSecCapAsyncNotif | (cfg_.rpc_arg ? kSecCapRpcArg : 0);
		out[2] = 255;
		out[3] = cfg_.rpc_arg ? kRpcMaxNumParams : 0;
		return out;
	case kEnableShmCache:
	case kDisableShmCache: {
		Partition *p = partition(a7);
		if (!p)
			return with_a0(in, kReturnENotAvail);
		for (const auto &t : p->threads)
			if (t.state != Thread::Free)
				return with_a0(in, kReturnEBusy);
		if (uint32_t(in[0]) == kEnableShmCache) {
			p->prealloc_rpc_cache = true;
			return with_a0(in, kReturnOk);
		}
		for (auto &t : p->threads) {
			if (t.rpc_cookie) {
				const uint64_t c = t.rpc_cookie;
				t.rpc_cookie = 0;
				t.rpc_arg = nullptr;
				out[0] = kReturnOk;
				out[1] = reg_hi(c);
				out[2] = reg_lo(c);
				return out;
			}
		}
		p->prealloc_rpc_cache = false;
		return with_a0(in, kReturnENotAvail);
	}
	case kGetThreadCount:
		out[0] = kReturnOk;
		out[1] = cfg_.threads;
		return out;
	case kVmCreated: {
		const uint32_t id = uint32_t(in[1]);
		if (a7 != 0 || id == 0 || parts_.size() >= cfg_.max_guests)
			return with_a0(in, kReturnENotAvail);
		// Like OP-TEE, a second VM_CREATED of a live id is not
		// checked; the partition simply stays.
		parts_.try_emplace(id).first->second.threads.resize(cfg_.threads);
		return with_a0(in, kReturnOk);
	}
	case kVmDestroyed: {
		const uint32_t id = uint32_t(in[1]);
		if (a7 != 0)
			return with_a0(in, kReturnENotAvail);
		// virt_guest_destroyed: no thread of it runs (they are
		// suspended or free), so the partition goes at once, its
		// threads, shared memory and sessions with it.
		parts_.erase(id);
		return with_a0(in, kReturnOk);
	}
	case kEnableAsyncNotif:
		return with_a0(in, kReturnOk);
	case kGetAsyncNotifValue:
		out[0] = kReturnOk;
		out[1] = 0;
		out[2] = 0;
		return out;
	case kBootSecondary:
		return with_a0(in, kReturnENotAvail);
	default:
		return with_a0(in, kReturnUnknownFunction);
	}
}

SmcRegs OpteeModel::std_call(const SmcRegs &in)
{
	const uint32_t a0 = uint32_t(in[0]);
	const size_t nthreads = partition(cur_client_)->threads.size();
	if (a0 == kReturnFromRpc) {
		// Thread ids are the partition's own: another client's number
		// names a thread of this one, or none.
		const uint64_t tid = in[3];
		if (tid >= nthreads || thread(tid).state != Thread::Suspended)
			return with_a0(in, kReturnEResume);
		thread(tid).ch.in = in;
		return run(uint32_t(tid));
	}
	uint32_t tid = 0;
	while (tid < nthreads && thread(tid).state != Thread::Free)
		tid++;
	if (tid == nthreads)
		return with_a0(in, kReturnEThreadLimit);
	Thread &t = thread(tid);
	t.state = Thread::Suspended; // taken; run() settles the state
	t.task.emplace(std_entry(tid, a0, reg_pair_to_64(in[1], in[2])));
	t.ch.leaf = t.task->handle();
	return run(tid);
}

SmcRegs OpteeModel::run(uint32_t tid)
{
	Thread &t = thread(tid);
	auto leaf = t.ch.leaf;
	leaf.resume();
	if (t.task->done()) {
		SmcRegs out{};
		out[0] = t.task->result();
		t.task.reset();
		t.state = Thread::Free;
		return out;
	}
	t.state = Thread::Suspended;
	SmcRegs out = t.ch.out;
	out[3] = tid;
	return out;
}

Task<uint32_t> OpteeModel::std_entry(uint32_t tid, uint64_t a0, uint64_t parg)
{
	if (a0 != kCallWithArg && a0 != kCallWithRpcArg)
		co_return kReturnEBadCmd; // REGD_ARG: never reaches a mediated OP-TEE
	// std_entry_with_parg: not reserved SHM, so one dynamic page.
	if (parg & kPageMask)
		co_return kReturnEBadAddr;
	std::byte *arg = phys_.map(parg, kPageSize);
	if (!arg)
		co_return kReturnEBadAddr;
	uint32_t n;
	copy_bytes(&n, arg + offsetof(MsgArgHeader, num_params), sizeof(n));
	if (n > kMaxNumParams)
		co_return kReturnEBadAddr;
	Thread &t = thread(tid);
	if (a0 == kCallWithRpcArg) {
		if (arg_size(n) + arg_size(kRpcMaxNumParams) > kPageSize)
			co_return kReturnEBadAddr;
		t.rpc_arg = arg + arg_size(n);
		t.rpc_cookie = 0;
		t.rpc_from_call = true;
	}
	const uint32_t res = co_await entry(tid, arg, n);
	uint32_t rv = res ? kReturnEBadCmd : kReturnOk;
	if (thread(tid).rpc_from_call) {
		thread(tid).rpc_arg = nullptr;
		thread(tid).rpc_from_call = false;
	} else if (Partition *p = partition(cur_client_); !p || !p->prealloc_rpc_cache) {
		co_await free_rpc_arg(tid);
	}
	co_return rv;
}

Task<uint32_t> OpteeModel::entry(uint32_t tid, std::byte *arg, uint32_t n)
{
	MsgArgHeader h;
	copy_bytes(&h, arg, sizeof(h));
	Partition *p = partition(cur_client_);
	auto set_ret = [&](uint32_t r, uint32_t origin) {
		copy_bytes(arg + kOffRet, &r, sizeof(r));
		copy_bytes(arg + kOffRetOrigin, &origin, sizeof(origin));
	};
	auto param = [&](size_t i) {
		MsgParam prm;
		copy_bytes(&prm, arg + param_off(i), sizeof(prm));
		return prm;
	};
	switch (h.cmd) {
	case kCmdOpenSession:
		co_return co_await open_session(tid, arg, n);
	case kCmdInvokeCommand:
		co_return co_await invoke(tid, arg, n);
	case kCmdCloseSession:
		if (n) {
			set_ret(kTeecErrorBadParameters, kTeecOriginTee);
		} else if (p->sessions.erase(h.session)) {
			set_ret(kTeecSuccess, kTeecOriginTee);
		} else {
			set_ret(kTeecErrorItemNotFound, kTeecOriginTee);
		}
		co_return 0;
	case kCmdCancel:
		set_ret(n ? kTeecErrorBadParameters : kTeecSuccess, kTeecOriginTee);
		co_return 0;
	case kCmdRegisterShm: {
		set_ret(kTeecErrorBadParameters, kTeecOriginTee);
		if (n != 1 || param(0).attr != (kAttrTmemOutput | kAttrNoncontig))
			co_return 0;
		auto m = mobj_from_noncontig(param(0).a, param(0).b);
		if (!m || p->shm.count(param(0).c))
			co_return 0;
		p->shm.emplace(param(0).c, RegShm{std::move(*m), 0});
		set_ret(kTeecSuccess, kTeecOriginTee);
		co_return 0;
	}
	case kCmdUnregisterShm: {
		if (n != 1) {
			set_ret(kTeecErrorBadParameters, kTeecOriginTee);
			co_return 0;
		}
		auto it = p->shm.find(param(0).c);
		if (it == p->shm.end())
			set_ret(kTeecErrorItemNotFound, kTeecOriginTee);
		else if (it->second.users)
			set_ret(kTeecErrorBusy, kTeecOriginTee);
		else {
			p->shm.erase(it);
			set_ret(kTeecSuccess, kTeecOriginTee);
		}
		co_return 0;
	}
	default:
		co_return kTeecErrorNotImplemented; // -> EBADCMD
	}
}

size_t OpteeModel::guests() const
{
	std::lock_guard g(lock_);
	return parts_.size();
}

size_t OpteeModel::registered_shm(uint32_t client) const
{
	std::lock_guard g(lock_);
	auto it = parts_.find(client);
	return it == parts_.end() ? 0 : it->second.shm.size();
}

size_t OpteeModel::sessions(uint32_t client) const
{
	std::lock_guard g(lock_);
	auto it = parts_.find(client);
	return it == parts_.end() ? 0 : it->second.sessions.size();
}

size_t OpteeModel::suspended_threads() const
{
	std::lock_guard g(lock_);
	size_t n = 0;
	for (const auto &[id, p] : parts_)
		for (const auto &t : p.threads)
			n += t.state == Thread::Suspended;
	return n;
}

uint64_t OpteeModel::ta_loads() const
{
	std::lock_guard g(lock_);
	return ta_loads_;
}

} // namespace teemed::model
