// SPDX-License-Identifier: BSD-2-Clause
// Sessions and the model TA. Opening a session loads the TA the way OP-TEE's
// REE FS TA store does: LOAD_TA for the size, SHM_ALLOC for the payload,
// LOAD_TA into it, SHM_FREE; the image's bytes are checked, so a wrong
// translation anywhere on the path fails the open.
#include <cstring>
#include <numeric>

#include "bytes.hpp"
#include "optee_model.hpp"

namespace teemed::model {

using namespace abi;

namespace {

struct TaParam {
	uint32_t type = kAttrTypeNone;
	MsgParam raw{};
	const Mobj *mem = nullptr;
	std::optional<Mobj> own;
	uint64_t off = 0;
	uint64_t size = 0;
};

MsgParam get_param(const std::byte *arg, size_t i)
{
	MsgParam p;
	copy_bytes(&p, arg + param_off(i), sizeof(p));
	return p;
}

void set_ret(std::byte *arg, uint32_t r, uint32_t origin)
{
	copy_bytes(arg + kOffRet, &r, sizeof(r));
	copy_bytes(arg + kOffRetOrigin, &origin, sizeof(origin));
}

} // namespace

Task<uint32_t> OpteeModel::load_ta(uint32_t tid, uint64_t uuid_hi, uint64_t uuid_lo)
{
	ta_loads_++;
	// 1: ask for the size (NULL memref).
	std::vector<MsgParam> p{{kAttrValueInput, uuid_hi, uuid_lo, 0},
				{kAttrTmemOutput, 0, 0, 0}};
	uint32_t r = co_await rpc_cmd(tid, kRpcCmdLoadTa, p);
	if (r != kTeecSuccess && r != kTeecErrorShortBuffer)
		co_return r; // the store's (or the RPC's) own error

	const uint64_t size = p[1].b;
	if (size < kTaMagic.size() + 16 || size > (1u << 20))
		co_return kTeecErrorBadFormat;
	// 2: a payload buffer from the normal world.
	auto shm = co_await shm_alloc(tid, kRpcShmTypeAppl, size);
	if (!shm)
		co_return kTeecErrorOutOfMemory;
	// 3: load into it (a registered SHM: RMEM by cookie).
	p = {{kAttrValueInput, uuid_hi, uuid_lo, 0}, {kAttrRmemOutput, 0, size, shm->first}};
	r = co_await rpc_cmd(tid, kRpcCmdLoadTa, p);
	std::vector<std::byte> img(size);
	const bool read = r == kTeecSuccess && shm->second.read(0, img);
	// 4: give the payload back.
	co_await shm_free(tid, kRpcShmTypeAppl, shm->first);
	if (!read)
		co_return kTeecErrorItemNotFound;
	uint64_t hi, lo;
	copy_bytes(&hi, img.data() + kTaMagic.size(), 8);
	copy_bytes(&lo, img.data() + kTaMagic.size() + 8, 8);
	if (std::memcmp(img.data(), kTaMagic.data(), kTaMagic.size()) || hi != uuid_hi ||
	    lo != uuid_lo)
		co_return kTeecErrorBadFormat;
	co_return kTeecSuccess;
}

Task<uint32_t> OpteeModel::open_session(uint32_t tid, std::byte *arg, uint32_t n)
{
	const uint32_t client = cur_client_;
	// get_open_session_meta: two META value params, uuid then login.
	if (n < 2 || get_param(arg, 0).attr != (kAttrValueInput | kAttrMeta) ||
	    get_param(arg, 1).attr != (kAttrValueInput | kAttrMeta)) {
		set_ret(arg, kTeecErrorBadParameters, kTeecOriginTee);
		co_return 0;
	}
	const MsgParam uuid = get_param(arg, 0);
	Partition *p = partition(client);
	if (!p->loaded.count(uuid.b) || uuid.a != kTaUuidHi) {
		if (uuid.a != kTaUuidHi || uuid.b != kTaUuidLo) {
			// Still asks the store, which says it has no such TA.
			const uint32_t r = co_await load_ta(tid, uuid.a, uuid.b);
			set_ret(arg, r == kTeecSuccess ? kTeecErrorItemNotFound : r, kTeecOriginTee);
			co_return 0;
		}
		const uint32_t r = co_await load_ta(tid, uuid.a, uuid.b);
		p = partition(client);
		if (!p)
			co_return 0; // destroyed meanwhile
		if (r != kTeecSuccess) {
			set_ret(arg, r, kTeecOriginTee);
			co_return 0;
		}
		p->loaded.insert(uuid.b);
	}
	const uint32_t id = p->next_session++;
	p->sessions.emplace(id, uuid.b);
	copy_bytes(arg + kOffSession, &id, sizeof(id));
	set_ret(arg, kTeecSuccess, kTeecOriginTee);
	co_return 0;
}

Task<uint32_t> OpteeModel::invoke(uint32_t tid, std::byte *arg, uint32_t n)
{
	const uint32_t client = cur_client_;
	MsgArgHeader h;
	copy_bytes(&h, arg, sizeof(h));
	Partition *part = partition(client);
	if (!part->sessions.count(h.session)) {
		set_ret(arg, kTeecErrorItemNotFound, kTeecOriginTee);
		co_return 0;
	}
	if (n > 4) { // TEE_NUM_PARAMS
		set_ret(arg, kTeecErrorBadParameters, kTeecOriginTee);
		co_return 0;
	}
	// copy_in_params
	std::vector<TaParam> tp(n);
	std::vector<RegShm *> users;
	uint32_t bad = 0;
	for (uint32_t i = 0; i < n && !bad; i++) {
		TaParam &t = tp[i];
		t.raw = get_param(arg, i);
		t.type = attr_type(t.raw.attr);
		if (t.raw.attr & kAttrMeta) {
			bad = kTeecErrorBadParameters;
		} else if (is_tmem(t.type)) {
			t.size = t.raw.b;
			if (!t.raw.a) {
				t.size = 0;
			} else if (!(t.raw.attr & kAttrNoncontig)) {
				bad = kTeecErrorBadParameters;
			} else if ((t.own = mobj_from_noncontig(t.raw.a, t.raw.b))) {
				t.mem = &*t.own;
			} else {
				bad = kTeecErrorBadParameters;
			}
		} else if (is_rmem(t.type)) {
			auto it = part->shm.find(t.raw.c);
			if (it == part->shm.end() || t.raw.a > it->second.mobj.size ||
			    t.raw.b > it->second.mobj.size - t.raw.a) {
				bad = kTeecErrorBadParameters;
			} else {
				t.mem = &it->second.mobj;
				t.off = t.raw.a;
				t.size = t.raw.b;
				it->second.users++;
				users.push_back(&it->second);
			}
		} else if (t.type != kAttrTypeNone && !is_value(t.type)) {
			bad = kTeecErrorBadParameters;
		}
	}
	auto release = [&] {
		// The partition may be gone if the VM was destroyed while we
		// were suspended; then so are the counters.
		if (partition(client) == part)
			for (RegShm *r : users)
				r->users--;
	};
	if (bad) {
		release();
		set_ret(arg, bad, kTeecOriginTee);
		co_return 0;
	}

	uint32_t res = kTeecSuccess;
	auto out_value = [&](uint32_t i, uint64_t a, uint64_t b) {
		copy_bytes(arg + param_off(i) + offsetof(MsgParam, a), &a, 8);
		copy_bytes(arg + param_off(i) + offsetof(MsgParam, b), &b, 8);
	};
	auto out_size = [&](uint32_t i, uint64_t s) {
		copy_bytes(arg + param_off(i) + offsetof(MsgParam, b), &s, 8);
	};
	// A NULL memref is a valid, empty buffer.
	auto is_mem = [&](uint32_t i) { return i < n && (is_tmem(tp[i].type) || is_rmem(tp[i].type)); };
	auto mem_in = [&](uint32_t i) { return is_mem(i) && tp[i].type != kAttrTmemOutput && tp[i].type != kAttrRmemOutput; };
	auto mem_out = [&](uint32_t i) { return is_mem(i) && tp[i].type != kAttrTmemInput && tp[i].type != kAttrRmemInput; };

	switch (h.func) {
	case kTaEcho: {
		if (!mem_in(0) || !mem_out(1)) {
			res = kTeecErrorBadParameters;
			break;
		}
		std::vector<std::byte> buf(tp[0].size);
		if (tp[0].mem)
			tp[0].mem->read(tp[0].off, buf);
		if (tp[1].size < buf.size() || (!tp[1].mem && !buf.empty())) {
			res = kTeecErrorShortBuffer;
		} else if (tp[1].mem) {
			tp[1].mem->write(tp[1].off, buf);
		}
		out_size(1, buf.size());
		break;
	}
	case kTaAdd:
		if (n < 2 || !is_value(tp[0].type) || tp[1].type != kAttrValueOutput) {
			res = kTeecErrorBadParameters;
			break;
		}
		out_value(1, tp[0].raw.a + tp[0].raw.b, 0);
		break;
	case kTaForeignIntr: {
		SmcRegs req{};
		req[0] = rpc_val(kRpcFuncForeignIntr);
		co_await Rpc{&thread(tid).ch, req};
		break;
	}
	case kTaRpcShm: {
		if (n < 1 || !is_value(tp[0].type) || !tp[0].raw.a || tp[0].raw.a > (1u << 20)) {
			res = kTeecErrorBadParameters;
			break;
		}
		auto shm = co_await shm_alloc(tid, kRpcShmTypeKernel, tp[0].raw.a);
		if (!shm) {
			res = kTeecErrorOutOfMemory;
			break;
		}
		std::vector<std::byte> pat(tp[0].raw.a);
		for (size_t i = 0; i < pat.size(); i++)
			pat[i] = std::byte(i * 7 + 1);
		shm->second.write(0, pat);
		std::vector<std::byte> back(pat.size());
		shm->second.read(0, back);
		co_await shm_free(tid, kRpcShmTypeKernel, shm->first);
		if (back != pat)
			res = kTeecErrorGeneric;
		break;
	}
	case kTaSum: {
		if (!mem_in(0) || n < 2 || tp[1].type != kAttrValueOutput) {
			res = kTeecErrorBadParameters;
			break;
		}
		std::vector<std::byte> buf(tp[0].size);
		if (tp[0].mem)
			tp[0].mem->read(tp[0].off, buf);
		uint64_t sum = 0;
		for (auto b : buf)
			sum += uint8_t(b);
		out_value(1, sum, buf.size());
		break;
	}
	default:
		res = kTeecErrorNotSupported;
	}
	release();
	set_ret(arg, res, res == kTeecSuccess ? kTeecOriginTee : kTeecOriginTrustedApp);
	co_return 0;
}

} // namespace teemed::model
