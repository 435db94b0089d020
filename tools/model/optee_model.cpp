// SPDX-License-Identifier: BSD-2-Clause
// The secure world of the model: SMC entry, fast calls, threads, the
// partition's buffers and the std-call commands. RPC helpers and the TAs
// are model_rpc.cpp's and model_ta.cpp's. Sources: optee_model.hpp.
#include "bytes.hpp"
#include "optee_model.hpp"

#include <cstdio>
#include <cstring>

namespace teemed::model {

using namespace abi;

OpteeModel::OpteeModel(const ModelConfig &cfg) : cfg_(cfg) {}

OpteeModel::~OpteeModel() = default;

OpteeModel::Partition *OpteeModel::partition(uint32_t client)
{
	auto it = parts_.find(client);
	return it == parts_.end() ? nullptr : &it->second;
}

void OpteeModel::report(std::string what)
{
	char who[32];
	snprintf(who, sizeof(who), "client %u: ", cur_client_);
	reports_.push_back(who + what);
	if (getenv("TEEMED_MODEL_VERBOSE"))
		fprintf(stderr, "optee model: %s%s\n", who, what.c_str());
}

std::vector<std::string> OpteeModel::reports() const
{
	std::lock_guard g(lock_);
	return reports_;
}

std::byte *OpteeModel::map(uint64_t pa, size_t len, const char *what)
{
	PhysSpace::Why why;
	std::byte *p = phys_.map(pa, len, cur_client_, &why);
	if (!p) {
		char buf[224];
		snprintf(buf, sizeof(buf), "touched %#llx (%s%s%s): %s", (unsigned long long)pa, what,
			 via_ ? ", " : "", via_ ? via_ : "", PhysSpace::why_str(why));
		report(buf);
	}
	return p;
}

// ---- the partition's buffers ---------------------------------------------

// mobj_reg_shm_alloc (DYN 4.5:300-346 / 4.10:348-400): guarded, refc 1,
// each page non-secure memory, at the head of the list.
MobjRef OpteeModel::reg_shm_alloc(std::vector<uint64_t> pages, uint32_t offset, uint64_t size,
				  uint64_t cookie, const char *what)
{
	if (pages.empty() || offset >= kPageSize)
		return nullptr;
	for (uint64_t pa : pages)
		if (pa & kPageMask || !map(pa, kPageSize, what))
			return nullptr;
	auto m = std::make_shared<Mobj>();
	m->pages = std::move(pages);
	m->offset = offset;
	m->size = size;
	m->cookie = cookie;
	m->what = what;
	parts_.at(cur_client_).reg_shm.push_front(m);
	return m;
}

// mobj_reg_shm_get_by_cookie: the first match, a reference taken;
// mobj_get() of a count of 0 panics.
MobjRef OpteeModel::get_by_cookie(uint64_t cookie)
{
	for (const MobjRef &m : parts_.at(cur_client_).reg_shm) {
		if (m->cookie != cookie)
			continue;
		if (m->refc <= 0) {
			report(std::string("Panic: mobj_get() of a buffer released (") + m->what + ")");
			panicked_ = true;
			return nullptr;
		}
		m->refc++;
		return m;
	}
	return nullptr;
}

// mobj_put: at 0 a guarded buffer goes at once (mobj_reg_shm_free), a
// registration being released is left to its UNREGISTER_SHM, still listed.
void OpteeModel::put(const MobjRef &m)
{
	if (!m || --m->refc > 0)
		return;
	Partition *p = partition(cur_client_);
	if (m->guarded || !m->releasing) {
		if (p)
			p->reg_shm.remove(m);
	} else {
		m->release_frees = true;
	}
}

// msg_param_mobj_from_noncontig (MP 115-149): the page list read, page
// by page, then a buffer under @cookie.
MobjRef OpteeModel::from_noncontig(uint64_t buf_ptr, uint64_t size, uint64_t cookie,
				   const char *what)
{
	const uint32_t offset = uint32_t(buf_ptr & kPageMask);
	if (!size || size > (uint64_t(1) << 32))
		return nullptr;
	const uint64_t npages = (offset + size + kPageSize - 1) / kPageSize;
	std::vector<uint64_t> pages;
	uint64_t list = buf_ptr & ~kPageMask;
	while (pages.size() < npages) {
		auto *lp = reinterpret_cast<uint64_t *>(map(list, kPageSize, "page list"));
		if (!lp)
			return nullptr;
		for (size_t i = 0; i < kPagesPerListPage && pages.size() < npages; i++)
			pages.push_back(lp[i]);
		list = lp[kPagesPerListPage];
	}
	return reg_shm_alloc(std::move(pages), offset, size, cookie, what);
}

bool OpteeModel::read(const Mobj &m, uint64_t off, std::span<std::byte> out)
{
	if (off > m.size || out.size() > m.size - off)
		return false;
	uint64_t pos = m.offset + off;
	for (size_t done = 0; done < out.size();) {
		const size_t n = std::min<size_t>(out.size() - done, kPageSize - pos % kPageSize);
		std::byte *p = map(m.pages[pos / kPageSize] + pos % kPageSize, n, m.what);
		if (!p)
			return false;
		copy_bytes(out.data() + done, p, n);
		done += n;
		pos += n;
	}
	return true;
}

bool OpteeModel::write(const Mobj &m, uint64_t off, std::span<const std::byte> in)
{
	if (off > m.size || in.size() > m.size - off)
		return false;
	uint64_t pos = m.offset + off;
	for (size_t done = 0; done < in.size();) {
		const size_t n = std::min<size_t>(in.size() - done, kPageSize - pos % kPageSize);
		std::byte *p = map(m.pages[pos / kPageSize] + pos % kPageSize, n, m.what);
		if (!p)
			return false;
		copy_bytes(p, in.data() + done, n);
		done += n;
		pos += n;
	}
	return true;
}

// mobj_reg_shm_release_by_cookie: the first match, not guarded nor
// releasing; its reference dropped, then wait until every other is.
Task<uint32_t> OpteeModel::release_by_cookie(uint32_t tid, uint64_t cookie)
{
	MobjRef r;
	for (const MobjRef &m : parts_.at(cur_client_).reg_shm)
		if (m->cookie == cookie) {
			r = m;
			break;
		}
	if (!r || r->guarded || r->releasing)
		co_return kTeecErrorBadParameters;
	r->releasing = true;
	put(r);
	const uint32_t client = cur_client_;
	while (!r->release_frees) {
		// condvar_wait(): the thread sleeps in the normal world
		// (OPTEE_RPC_CMD_NOTIFICATION, wait) until woken.
		std::vector<MsgParam> p{{kAttrValueInput, 0 /* wait */, 1, 0}};
		co_await rpc_cmd(tid, OPTEE_RPC_CMD_NOTIFICATION, p);
		if (!partition(client))
			co_return kTeecErrorBadState;
	}
	partition(client)->reg_shm.remove(r);
	co_return kTeecSuccess;
}

// ---- SMC entry, threads ----------------------------------------------------

SmcRegs OpteeModel::smc(const SmcRegs &in)
{
	std::lock_guard g(lock_);
	if (panicked_)
		return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL); // OP-TEE is gone
	const uint32_t a7 = uint32_t(in[7]);
	// thread_handle_fast_smc / thread_handle_std_smc: an unknown client
	// gets ENOTAVAIL; the hypervisor (0) may make fast calls only.
	if (is_fast(uint32_t(in[0]))) {
		if (a7 != 0 && !partition(a7))
			return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
		cur_client_ = a7;
		return fast(in);
	}
	if (!partition(a7))
		return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
	cur_client_ = a7; // virt_set_guest(a7)
	return std_call(in);
}

SmcRegs OpteeModel::fast(const SmcRegs &in)
{
	const uint32_t a7 = uint32_t(in[7]);
	SmcRegs out = in;
	switch (uint32_t(in[0])) {
	case OPTEE_SMC_CALLS_COUNT:
		return with_a0(in, 14);
	case OPTEE_SMC_CALLS_UID:
		out = {0x384fb3e0, 0xe7f811e3, 0xaf630002, 0xa5d5c51b, in[4], in[5], in[6], in[7]};
		return out;
	case OPTEE_SMC_CALLS_REVISION:
		out[0] = 2;
		out[1] = 0;
		return out;
	case OPTEE_SMC_CALL_GET_OS_UUID:
		out = {0x486178e0, 0xe7f811e3, 0xbc5e0002, 0xa5d5c51b, in[4], in[5], in[6], in[7]};
		return out;
	case OPTEE_SMC_CALL_GET_OS_REVISION:
		out[0] = 4;
		out[1] = 5;
		out[2] = 0;
		return out;
	case OPTEE_SMC_EXCHANGE_CAPABILITIES:
		if (in[1] & ~uint64_t(kNsecCapUniprocessor))
			return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
		out[0] = OPTEE_SMC_RETURN_OK;
		out[1] = kSecCapDynamicShm | kSecCapVirtualization | kSecCapMemrefNull |
			 kSecCapAsyncNotif | (cfg_.rpc_arg ? kSecCapRpcArg : 0);
		out[2] = 255;
		out[3] = cfg_.rpc_arg ? TEEMED_LIMIT_RPC_MAX_NUM_PARAMS : 0;
		return out;
	case OPTEE_SMC_ENABLE_SHM_CACHE:
	case OPTEE_SMC_DISABLE_SHM_CACHE: {
		// TOS 304-366: EBUSY unless every thread is free
		Partition *p = partition(a7);
		if (!p)
			return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
		for (const auto &t : p->threads)
			if (t.state != Thread::Free)
				return with_a0(in, OPTEE_SMC_RETURN_EBUSY);
		if (uint32_t(in[0]) == OPTEE_SMC_ENABLE_SHM_CACHE) {
			p->prealloc_rpc_cache = true;
			return with_a0(in, OPTEE_SMC_RETURN_OK);
		}
		p->prealloc_rpc_cache = false;
		for (auto &t : p->threads) {
			if (!t.rpc_mobj)
				continue;
			// dropped before the cookie goes back (TOS 323-327)
			MobjRef m = std::move(t.rpc_mobj);
			const uint64_t c = m->cookie;
			put(m);
			out[0] = OPTEE_SMC_RETURN_OK;
			out[1] = reg_hi(c);
			out[2] = reg_lo(c);
			return out;
		}
		return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
	}
	case OPTEE_SMC_GET_THREAD_COUNT:
		out[0] = OPTEE_SMC_RETURN_OK;
		out[1] = cfg_.threads;
		return out;
	case OPTEE_SMC_VM_CREATED: {
		const uint32_t id = uint32_t(in[1]);
		if (a7 != 0 || id == 0 || parts_.size() >= cfg_.max_guests)
			return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
		// Like OP-TEE, a second VM_CREATED of a live id is not
		// checked; the partition simply stays.
		parts_.try_emplace(id).first->second.threads.resize(cfg_.threads);
		return with_a0(in, OPTEE_SMC_RETURN_OK);
	}
	case OPTEE_SMC_VM_DESTROYED: {
		const uint32_t id = uint32_t(in[1]);
		if (a7 != 0)
			return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
		// virt_guest_destroyed: no thread of it runs (they are
		// suspended or free; a suspended one holds no reference), so
		// the partition goes at once, buffers and threads with it.
		parts_.erase(id);
		return with_a0(in, OPTEE_SMC_RETURN_OK);
	}
	case OPTEE_SMC_ENABLE_ASYNC_NOTIF:
		return with_a0(in, OPTEE_SMC_RETURN_OK);
	case OPTEE_SMC_GET_ASYNC_NOTIF_VALUE:
		out[0] = OPTEE_SMC_RETURN_OK;
		out[1] = 0;
		out[2] = 0;
		return out;
	case OPTEE_SMC_BOOT_SECONDARY:
		return with_a0(in, OPTEE_SMC_RETURN_ENOTAVAIL);
	default:
		return with_a0(in, OPTEE_SMC_RETURN_UNKNOWN_FUNCTION);
	}
}

SmcRegs OpteeModel::std_call(const SmcRegs &in)
{
	const uint32_t a0 = uint32_t(in[0]);
	const size_t nthreads = partition(cur_client_)->threads.size();
	if (a0 == OPTEE_SMC_CALL_RETURN_FROM_RPC) {
		// Thread ids are the partition's own: any suspended one.
		const uint64_t tid = in[3];
		if (tid >= nthreads || thread(tid).state != Thread::Suspended)
			return with_a0(in, OPTEE_SMC_RETURN_ERESUME);
		thread(tid).ch.in = in;
		return run(uint32_t(tid));
	}
	// thread_alloc_and_run: the lowest free thread
	uint32_t tid = 0;
	while (tid < nthreads && thread(tid).state != Thread::Free)
		tid++;
	if (tid == nthreads)
		return with_a0(in, OPTEE_SMC_RETURN_ETHREAD_LIMIT);
	Thread &t = thread(tid);
	t.state = Thread::Suspended; // taken; run() settles the state
	t.task.emplace(std_entry(tid, a0, reg_pair_to_64(in[1], in[2])));
	t.ch.leaf = t.task->handle();
	return run(tid);
}

SmcRegs OpteeModel::run(uint32_t tid)
{
	const uint32_t client = cur_client_;
	Thread &t = thread(tid);
	t.ch.leaf.resume();
	Partition *p = partition(client);
	Thread &tt = p->threads[tid];
	if (tt.task->done()) {
		SmcRegs out{};
		out[0] = tt.task->result();
		tt.task.reset();
		tt.state = Thread::Free; // before the return, as thread_state_free
		return out;
	}
	tt.state = Thread::Suspended;
	SmcRegs out = tt.ch.out;
	out[3] = tid;
	return out;
}

// Interrupts are unmasked in tee_entry_std (ESTD __tee_entry_std): a
// foreign one suspends the thread wherever it comes; what the normal world
// passes on resuming is ignored.
Task<uint32_t> OpteeModel::maybe_foreign_intr(uint32_t tid)
{
	while (cfg_.foreign_intr && cfg_.foreign_intr()) {
		SmcRegs req{};
		req[0] = rpc_val(OPTEE_SMC_RPC_FUNC_FOREIGN_INTR);
		co_await Rpc{&thread(tid).ch, req};
	}
	co_return 0;
}

// std_entry_with_parg (TOS 195-235) and call_entry_std (TOS 143-179).
Task<uint32_t> OpteeModel::std_entry(uint32_t tid, uint64_t a0, uint64_t parg)
{
	if (a0 != OPTEE_SMC_CALL_WITH_ARG && a0 != OPTEE_SMC_CALL_WITH_RPC_ARG)
		co_return OPTEE_SMC_RETURN_EBADCMD; // REGD_ARG: never reaches a mediated OP-TEE
	// Not reserved SHM: one dynamic page, listed under cookie 0 (TOS 220)
	if (parg & kPageMask)
		co_return OPTEE_SMC_RETURN_EBADADDR;
	MobjRef arg = reg_shm_alloc({parg}, 0, kPageSize, 0, "call argument");
	if (!arg)
		co_return OPTEE_SMC_RETURN_EBADADDR;
	uint32_t n = 0;
	read(*arg, offsetof(MsgArgHeader, num_params), std::as_writable_bytes(std::span(&n, 1)));
	if (n > kMaxNumParams) {
		put(arg);
		co_return OPTEE_SMC_RETURN_EBADADDR;
	}
	const uint32_t client = cur_client_;
	if (a0 == OPTEE_SMC_CALL_WITH_RPC_ARG) {
		if (arg_size(n) + arg_size(TEEMED_LIMIT_RPC_MAX_NUM_PARAMS) > kPageSize) {
			put(arg);
			co_return OPTEE_SMC_RETURN_EBADADDR;
		}
		// A call's own RPC argument clears the cache (TOS 159-161).
		if (partition(client)->prealloc_rpc_cache)
			co_await clear_prealloc_rpc_cache(tid);
		thread(tid).rpc_area = arg;
		thread(tid).rpc_area_off = arg_size(n);
	}
	const uint32_t res = co_await entry(tid, arg, n);
	if (!partition(client))
		co_return OPTEE_SMC_RETURN_EBADCMD; // destroyed meanwhile
	const uint32_t rv = res ? OPTEE_SMC_RETURN_EBADCMD : OPTEE_SMC_RETURN_OK;
	thread(tid).rpc_area.reset();
	if (rv == OPTEE_SMC_RETURN_OK && !partition(client)->prealloc_rpc_cache)
		co_await clear_prealloc_rpc_cache(tid);
	if (partition(client))
		put(arg); // TOS 229
	co_return rv;
}

// tee_entry_std (ESTD): one command of the message in @arg.
Task<uint32_t> OpteeModel::entry(uint32_t tid, MobjRef arg, uint32_t n)
{
	co_await maybe_foreign_intr(tid);
	MsgArgHeader h{};
	read(*arg, 0, std::as_writable_bytes(std::span(&h, 1)));
	Partition *p = partition(cur_client_);
	auto set_ret = [&](uint32_t r, uint32_t origin) {
		const uint32_t rv[2] = {r, origin};
		write(*arg, kOffRet, std::as_bytes(std::span(rv)));
	};
	auto param = [&](size_t i) {
		MsgParam prm{};
		read(*arg, param_off(i), std::as_writable_bytes(std::span(&prm, 1)));
		return prm;
	};
	switch (h.cmd) {
	case OPTEE_MSG_CMD_OPEN_SESSION:
		co_return co_await open_session(tid, arg, n);
	case OPTEE_MSG_CMD_INVOKE_COMMAND:
		co_return co_await invoke(tid, arg, n);
	case OPTEE_MSG_CMD_CLOSE_SESSION:
		if (n) {
			set_ret(kTeecErrorBadParameters, kTeecOriginTee);
		} else if (p->sessions.erase(h.session)) {
			set_ret(kTeecSuccess, kTeecOriginTee);
		} else {
			set_ret(kTeecErrorItemNotFound, kTeecOriginTee);
		}
		co_return 0;
	case OPTEE_MSG_CMD_CANCEL:
		set_ret(n ? kTeecErrorBadParameters : kTeecSuccess, kTeecOriginTee);
		co_return 0;
	case OPTEE_MSG_CMD_REGISTER_SHM: {
		// register_shm (ESTD 4.5:478-499 / 4.10:488-509): no
		// duplicate check; unguarded from then on.
		set_ret(kTeecErrorBadParameters, kTeecOriginTee);
		if (n != 1 || param(0).attr != (kAttrTmemOutput | kAttrNoncontig))
			co_return 0;
		MobjRef m = from_noncontig(param(0).a, param(0).b, param(0).c, "registration");
		if (!m)
			co_return 0;
		m->guarded = false;
		set_ret(kTeecSuccess, kTeecOriginTee);
		co_return 0;
	}
	case OPTEE_MSG_CMD_UNREGISTER_SHM: {
		// unregister_shm (ESTD 4.5:501-514 / 4.10:511-524): the
		// cookie is params[0].u.rmem.shm_ref whatever the type.
		if (n != 1) {
			set_ret(kTeecErrorBadParameters, kTeecOriginTee);
			co_return 0;
		}
		const uint64_t cookie = param(0).c;
		const uint32_t client = cur_client_;
		const uint32_t r = co_await release_by_cookie(tid, cookie);
		if (partition(client))
			set_ret(r, kTeecOriginTee);
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
	size_t n = 0;
	if (it != parts_.end())
		for (const MobjRef &m : it->second.reg_shm)
			n += !m->guarded;
	return n;
}

size_t OpteeModel::listed_buffers(uint32_t client) const
{
	std::lock_guard g(lock_);
	auto it = parts_.find(client);
	return it == parts_.end() ? 0 : it->second.reg_shm.size();
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

std::set<uint32_t> OpteeModel::suspended_thread_ids(uint32_t client) const
{
	std::lock_guard g(lock_);
	std::set<uint32_t> ids;
	if (auto it = parts_.find(client); it != parts_.end())
		for (uint32_t t = 0; t < it->second.threads.size(); t++)
			if (it->second.threads[t].state == Thread::Suspended)
				ids.insert(t);
	return ids;
}

uint64_t OpteeModel::ta_loads() const
{
	std::lock_guard g(lock_);
	return ta_loads_;
}

} // namespace teemed::model
