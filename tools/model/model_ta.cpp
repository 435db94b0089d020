// SPDX-License-Identifier: BSD-2-Clause
// Sessions and what runs in them. Opening a session of a user TA loads it
// the way OP-TEE's REE FS TA store does: LOAD_TA for the size, SHM_ALLOC
// for the payload, LOAD_TA into it (an RMEM of the payload's cookie),
// SHM_FREE; the image's bytes are checked, so a wrong translation anywhere
// on the path fails the open. Built in, as Debian's OP-TEE has them: the
// invoke-tests pseudo TA and, as a user TA, os_test's TEE_Wait.
#include <cstring>

#include "bytes.hpp"
#include "optee_model.hpp"

namespace teemed::model {

using namespace abi;

// copy_in_params (ESTD 4.5:170-249 / 4.10:183-262): values as they are, a
// NONCONTIG reference a buffer under its shm_ref, an RMEM a reference on
// the buffer its cookie names (set_rmem_param: any, first match). 0 or
// the error the call completes with.
uint32_t OpteeModel::copy_in_params(const Mobj &arg, uint32_t first, uint32_t n,
				    std::vector<Param> &tp)
{
	if (n - first > 4) // TEE_NUM_PARAMS
		return kTeecErrorBadParameters;
	tp.assign(n - first, Param{});
	for (uint32_t i = first; i < n; i++) {
		Param &t = tp[i - first];
		read(arg, param_off(i), std::as_writable_bytes(std::span(&t.raw, 1)));
		t.type = attr_type(t.raw.attr);
		if (t.raw.attr & kAttrMeta)
			return kTeecErrorBadParameters;
		if (is_tmem(t.type)) {
			t.size = t.raw.b;
			if (!t.raw.a) // a NULL memory reference
				continue;
			if (!(t.raw.attr & kAttrNoncontig)) // reserved SHM: none
				return kTeecErrorBadParameters;
			t.mem = from_noncontig(t.raw.a, t.raw.b, t.raw.c, "memory reference");
			if (!t.mem)
				return kTeecErrorBadParameters;
		} else if (is_rmem(t.type)) {
			t.mem = get_by_cookie(t.raw.c);
			t.off = t.raw.a;
			t.size = t.raw.b;
			if (!t.mem || t.off > t.mem->size || t.size > t.mem->size - t.off)
				return kTeecErrorBadParameters;
		} else if (t.type != kAttrTypeNone && !is_value(t.type)) {
			return kTeecErrorBadParameters;
		}
	}
	return 0;
}

// cleanup_shm_refs (ESTD 4.5:251-272 / 4.10:264-285): it switches on the
// unmasked attribute, so in 4.5.0 and 4.10.0 a NONCONTIG reference is
// never dropped and stays listed under its cookie.
void OpteeModel::cleanup_params(std::vector<Param> &tp)
{
	for (Param &t : tp) {
		if (!t.mem)
			continue;
		if (!(is_tmem(t.type) && cfg_.leak_noncontig_refs))
			put(t.mem);
		t.mem.reset();
	}
}

Task<uint32_t> OpteeModel::load_ta(uint32_t tid, uint64_t uuid_hi, uint64_t uuid_lo)
{
	const uint32_t client = cur_client_;
	ta_loads_++;
	// 1: ask for the size (NULL memref).
	std::vector<MsgParam> p{{kAttrValueInput, uuid_hi, uuid_lo, 0},
				{kAttrTmemOutput, 0, 0, 0}};
	uint32_t r = co_await rpc_cmd(tid, OPTEE_RPC_CMD_LOAD_TA, p);
	if (r != kTeecSuccess && r != kTeecErrorShortBuffer)
		co_return r; // the store's (or the RPC's) own error
	const uint64_t size = p[1].b;
	if (size < kTaMagic.size() + 16 || size > (1u << 20))
		co_return kTeecErrorBadFormat;
	// 2: a payload buffer from the normal world.
	MobjRef shm = co_await shm_alloc(tid, kRpcShmTypeAppl, size);
	if (!partition(client))
		co_return kTeecErrorCommunication;
	if (!shm)
		co_return kTeecErrorOutOfMemory;
	// 3: load into it (by its cookie).
	p = {{kAttrValueInput, uuid_hi, uuid_lo, 0}, {kAttrRmemOutput, 0, size, shm->cookie}};
	r = co_await rpc_cmd(tid, OPTEE_RPC_CMD_LOAD_TA, p);
	if (!partition(client))
		co_return kTeecErrorCommunication;
	std::vector<std::byte> img(size);
	const bool got = r == kTeecSuccess && read(*shm, 0, img);
	// 4: give the payload back.
	co_await shm_free(tid, kRpcShmTypeAppl, std::move(shm));
	if (!got)
		co_return kTeecErrorItemNotFound;
	uint64_t hi, lo;
	copy_bytes(&hi, img.data() + kTaMagic.size(), 8);
	copy_bytes(&lo, img.data() + kTaMagic.size() + 8, 8);
	if (std::memcmp(img.data(), kTaMagic.data(), kTaMagic.size()) || hi != uuid_hi ||
	    lo != uuid_lo)
		co_return kTeecErrorBadFormat;
	co_return kTeecSuccess;
}

Task<uint32_t> OpteeModel::open_session(uint32_t tid, MobjRef arg, uint32_t n)
{
	const uint32_t client = cur_client_;
	auto set_ret = [&](uint32_t r, uint32_t origin) {
		const uint32_t rv[2] = {r, origin};
		if (partition(client))
			write(*arg, kOffRet, std::as_bytes(std::span(rv)));
	};
	MsgParam uuid{}, login{};
	read(*arg, param_off(0), std::as_writable_bytes(std::span(&uuid, 1)));
	read(*arg, param_off(1), std::as_writable_bytes(std::span(&login, 1)));
	// get_open_session_meta: two META value params, uuid then login.
	if (n < 2 || uuid.attr != (kAttrValueInput | kAttrMeta) ||
	    login.attr != (kAttrValueInput | kAttrMeta)) {
		set_ret(kTeecErrorBadParameters, kTeecOriginTee);
		co_return 0;
	}
	std::vector<Param> tp;
	uint32_t r = copy_in_params(*arg, 2, n, tp);
	const bool pta = uuid.a == kPtaInvokeTestsHi && uuid.b == kPtaInvokeTestsLo;
	const bool user_ta = (uuid.a == kTaUuidHi && uuid.b == kTaUuidLo) ||
			     (uuid.a == kOsTestHi && uuid.b == kOsTestLo);
	// A user TA is loaded for each session (os_test is multi-instance),
	// or, single-instance as the model TA is, when it has no session open
	// (its context went with its last one): the store is asked, and says
	// what it has.
	bool loaded = false;
	for (const auto &[id, lo] : partition(client)->sessions)
		loaded |= lo == uuid.b && lo == kTaUuidLo;
	if (!r && !pta && !loaded) {
		r = co_await load_ta(tid, uuid.a, uuid.b);
		if (!partition(client))
			co_return 0;
		if (!r && !user_ta)
			r = kTeecErrorItemNotFound;
	}
	cleanup_params(tp);
	if (r) {
		set_ret(r, kTeecOriginTee);
		co_return 0;
	}
	Partition *p = partition(client);
	const uint32_t id = p->next_session++;
	p->sessions.emplace(id, uuid.b);
	write(*arg, kOffSession, std::as_bytes(std::span(&id, 1)));
	set_ret(kTeecSuccess, kTeecOriginTee);
	co_return 0;
}

Task<uint32_t> OpteeModel::invoke(uint32_t tid, MobjRef arg, uint32_t n)
{
	const uint32_t client = cur_client_;
	MsgArgHeader h{};
	read(*arg, 0, std::as_writable_bytes(std::span(&h, 1)));
	auto set_ret = [&](uint32_t r, uint32_t origin) {
		const uint32_t rv[2] = {r, origin};
		if (partition(client))
			write(*arg, kOffRet, std::as_bytes(std::span(rv)));
	};
	auto s = partition(client)->sessions.find(h.session);
	if (s == partition(client)->sessions.end()) {
		set_ret(kTeecErrorItemNotFound, kTeecOriginTee);
		co_return 0;
	}
	std::vector<Param> tp;
	uint32_t res = copy_in_params(*arg, 0, n, tp);
	if (!res)
		res = co_await run_ta(tid, s->second, h.func, tp, *arg);
	if (!partition(client))
		co_return 0;
	cleanup_params(tp);
	set_ret(res, res == kTeecSuccess ? kTeecOriginTee : kTeecOriginTrustedApp);
	co_return 0;
}

// A TA's command over its parameters, outputs written to @arg.
Task<uint32_t> OpteeModel::run_ta(uint32_t tid, uint64_t uuid_lo, uint32_t func,
				  std::vector<Param> &tp, const Mobj &arg)
{
	const uint32_t n = uint32_t(tp.size());
	auto out_value = [&](uint32_t i, uint64_t a, uint64_t b) {
		const uint64_t v[2] = {a, b};
		write(arg, param_off(i) + offsetof(MsgParam, a), std::as_bytes(std::span(v)));
	};
	auto out_size = [&](uint32_t i, uint64_t sz) {
		write(arg, param_off(i) + offsetof(MsgParam, b), std::as_bytes(std::span(&sz, 1)));
	};
	auto is_mem = [&](uint32_t i) { return i < n && (is_tmem(tp[i].type) || is_rmem(tp[i].type)); };
	auto mem_in = [&](uint32_t i) { return is_mem(i) && tp[i].type != kAttrTmemOutput && tp[i].type != kAttrRmemOutput; };
	auto mem_out = [&](uint32_t i) { return is_mem(i) && tp[i].type != kAttrTmemInput && tp[i].type != kAttrRmemInput; };
	auto bytes_of = [&](uint32_t i) {
		std::vector<std::byte> buf(tp[i].size);
		if (tp[i].mem) {
			Via v(*this, "a TA reading its memory reference");
			read(*tp[i].mem, tp[i].off, buf);
		}
		return buf;
	};

	if (uuid_lo == kPtaInvokeTestsLo) {
		if (func != kPtaCmdParams)
			co_return kTeecErrorNotSupported;
		// test_entry_params (core/pta/tests/invoke.c): a value
		// in/out gets a + b; a memory reference the sum of its bytes in
		// byte 0, written even to a NULL one (and OP-TEE panics then).
		for (uint32_t i = 0; i < n; i++) {
			if (tp[i].type == kAttrValueInout) {
				out_value(i, tp[i].raw.a + tp[i].raw.b, tp[i].raw.b);
			} else if (mem_out(i)) {
				if (!tp[i].mem || !tp[i].size) {
					if (cfg_.pta_null_memref_panics) {
						report("Panic: the invoke-tests pseudo TA wrote a NULL "
						       "memory reference");
						panicked_ = true;
					}
					co_return kTeecErrorBadParameters;
				}
				const auto b = bytes_of(i);
				uint8_t sum = 0;
				for (auto x : b)
					sum += uint8_t(x);
				Via v(*this, "a TA writing its memory reference");
				write(*tp[i].mem, tp[i].off, std::as_bytes(std::span(&sum, 1)));
			}
		}
		co_return kTeecSuccess;
	}
	if (uuid_lo == kOsTestLo) {
		if (func != kOsTestCmdWait || n < 1 || !is_value(tp[0].type))
			co_return kTeecErrorBadParameters;
		// TEE_Wait: OPTEE_RPC_CMD_SUSPEND until the time is up; with
		// TEE_TIMEOUT_INFINITE it never is.
		const uint32_t client = cur_client_;
		for (uint64_t left = tp[0].raw.a; left; ) {
			std::vector<MsgParam> p{{kAttrValueInput, left, 0, 0}};
			co_await rpc_cmd(tid, OPTEE_RPC_CMD_SUSPEND, p);
			if (!partition(client))
				co_return kTeecErrorCommunication;
			if (left != 0xffffffffu)
				left = left > 10 ? left - 10 : 0;
		}
		co_return kTeecSuccess;
	}

	switch (func) {
	case kTaEcho: {
		if (!mem_in(0) || !mem_out(1))
			co_return kTeecErrorBadParameters;
		const auto buf = bytes_of(0);
		uint32_t res = kTeecSuccess;
		if (tp[1].size < buf.size() || (!tp[1].mem && !buf.empty()))
			res = kTeecErrorShortBuffer;
		else if (tp[1].mem) {
			Via v(*this, "a TA writing its memory reference");
			write(*tp[1].mem, tp[1].off, buf);
		}
		out_size(1, buf.size());
		co_return res;
	}
	case kTaAdd:
		if (n < 2 || !is_value(tp[0].type) || tp[1].type != kAttrValueOutput)
			co_return kTeecErrorBadParameters;
		out_value(1, tp[0].raw.a + tp[0].raw.b, 0);
		co_return kTeecSuccess;
	case kTaForeignIntr: {
		SmcRegs req{};
		req[0] = rpc_val(OPTEE_SMC_RPC_FUNC_FOREIGN_INTR);
		co_await Rpc{&thread(tid).ch, req};
		co_return kTeecSuccess;
	}
	case kTaRpcShm: {
		if (n < 1 || !is_value(tp[0].type) || !tp[0].raw.a || tp[0].raw.a > (1u << 20))
			co_return kTeecErrorBadParameters;
		const uint32_t client = cur_client_;
		MobjRef shm = co_await shm_alloc(tid, kRpcShmTypeKernel, tp[0].raw.a);
		if (!partition(client))
			co_return kTeecErrorCommunication;
		if (!shm)
			co_return kTeecErrorOutOfMemory;
		std::vector<std::byte> pat(tp[0].raw.a), back(pat.size());
		for (size_t i = 0; i < pat.size(); i++)
			pat[i] = std::byte(i * 7 + 1);
		write(*shm, 0, pat);
		read(*shm, 0, back);
		co_await shm_free(tid, kRpcShmTypeKernel, std::move(shm));
		co_return back == pat ? kTeecSuccess : kTeecErrorGeneric;
	}
	case kTaSum: {
		if (!mem_in(0) || n < 2 || tp[1].type != kAttrValueOutput)
			co_return kTeecErrorBadParameters;
		uint64_t sum = 0;
		const auto buf = bytes_of(0);
		for (auto b : buf)
			sum += uint8_t(b);
		out_value(1, sum, buf.size());
		co_return kTeecSuccess;
	}
	default:
		co_return kTeecErrorNotSupported;
	}
}

} // namespace teemed::model
