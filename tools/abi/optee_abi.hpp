// SPDX-License-Identifier: BSD-2-Clause
// The OP-TEE SMC and message ABI, one neutral place for everything that
// speaks it in C++: the library, the OP-TEE model, the Python module and the
// tests (tools/abi, the teemed_abi target; none of them reaches into
// another's private headers for it). The ids, return codes, commands, RPCs
// and limits are tables/ (teemed_tables.h, generated, under upstream's
// names); what is here is the rest of the published ABI (optee_msg.h's
// layouts and attributes, capabilities, GlobalPlatform's codes) and the
// handling rules built from the tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "teemed_tables.h"

namespace teemed::abi {

// ---- SMCCC function id layout ------------------------------------------
inline constexpr uint32_t kFastCall = 0x80000000u;
inline constexpr uint32_t kSmc64 = 0x40000000u;
inline constexpr uint32_t kOwnerShift = 24;
inline constexpr uint32_t kOwnerMask = 0x3f;
inline constexpr uint32_t kOwnerTrustedApp = 48;
inline constexpr uint32_t kOwnerTrustedOs = 50;
inline constexpr uint32_t kOwnerTrustedOsEnd = 63;

constexpr uint32_t owner_of(uint32_t fid) { return (fid >> kOwnerShift) & kOwnerMask; }
constexpr bool is_fast(uint32_t fid) { return fid & kFastCall; }
// Trusted Application (48-49) and Trusted OS (50-63) owners: the ranges the
// VMM's SMCCC filter forwards to us.
constexpr bool is_trusted_range(uint32_t fid) { return owner_of(fid) >= kOwnerTrustedApp; }

constexpr uint32_t fast_val(uint32_t owner, uint32_t func) {
	return kFastCall | (owner << kOwnerShift) | func;
}
constexpr uint32_t std_val(uint32_t func) { return (kOwnerTrustedOs << kOwnerShift) | func; }

// ---- optee_smc.h, optee_msg.h, optee_rpc_cmd.h: ids, codes, commands ---
// Every number tables/ defines (teemed_tables.h, generated) is used under
// upstream's one name (OPTEE_SMC_CALL_WITH_ARG, OPTEE_MSG_CMD_OPEN_SESSION,
// OPTEE_RPC_CMD_SHM_ALLOC, ...): no second name here.

// OPTEE_SMC_RETURN_IS_RPC: UNKNOWN_FUNCTION (0xffffffff) shares the prefix
// but is an answer, not an RPC.
constexpr bool is_rpc(uint64_t a0)
{
	return uint32_t(a0) != OPTEE_SMC_RETURN_UNKNOWN_FUNCTION && (uint32_t(a0) & OPTEE_SMC_RETURN_RPC_PREFIX_MASK) == OPTEE_SMC_RETURN_RPC_PREFIX;
}
constexpr uint32_t rpc_func(uint64_t a0) { return uint32_t(a0) & 0xffffu; }
constexpr uint32_t rpc_val(uint32_t func) { return OPTEE_SMC_RETURN_RPC_PREFIX | func; }

// Who does what with each id, command and RPC (the handling columns of
// tables/optee_smc.tsv and tables/optee_msg.tsv).
enum class Handling { forward, mediate, refuse, answer };

struct FastCallRule {
	uint32_t fid;
	const char *name;
	Handling kernel;
	Handling library;
	uint32_t answer; // the library's a0 when library is answer
};

// The fast calls of the table: the yielding ones (std_val) are the life of
// a call (std_call.cpp), not a rule.
inline constexpr FastCallRule kFastCallRules[] = {
#define TEEMED_FAST_RULE(id, name, kernel, library, answer) \
	{id, name, Handling::kernel, Handling::library, answer},
	TEEMED_OPTEE_SMC_IDS(TEEMED_FAST_RULE)
#undef TEEMED_FAST_RULE
};

// The rule for a fast call id, or nullptr: an id no table names is
// answered UNKNOWN_FUNCTION, as OP-TEE does.
constexpr const FastCallRule *fast_call_rule(uint32_t fid)
{
	if (!is_fast(fid))
		return nullptr;
	for (const auto &r : kFastCallRules)
		if (r.fid == fid)
			return &r;
	return nullptr;
}

struct CmdRule {
	uint32_t cmd;
	const char *name;
	Handling kernel;
	Handling library;
};

inline constexpr CmdRule kMsgCmdRules[] = {
#define TEEMED_CMD_RULE(value, name, kernel, library) {value, name, Handling::kernel, Handling::library},
	TEEMED_OPTEE_MSG_CMDS(TEEMED_CMD_RULE)
#undef TEEMED_CMD_RULE
};

// Whether a side (the kernel, the library) lets a message command through.
constexpr bool cmd_forwarded(uint32_t cmd, Handling CmdRule::*side)
{
	for (const auto &r : kMsgCmdRules)
		if (r.cmd == cmd)
			return r.*side != Handling::refuse;
	return false;
}

// ---- capabilities (EXCHANGE_CAPABILITIES) -------------------------------
inline constexpr uint32_t kSecCapHaveReservedShm = 1u << 0;
inline constexpr uint32_t kSecCapUnregisteredShm = 1u << 1;
inline constexpr uint32_t kSecCapDynamicShm = 1u << 2;
inline constexpr uint32_t kSecCapVirtualization = 1u << 3;
inline constexpr uint32_t kSecCapMemrefNull = 1u << 4;
inline constexpr uint32_t kSecCapAsyncNotif = 1u << 5;
inline constexpr uint32_t kSecCapRpcArg = 1u << 6;
inline constexpr uint32_t kSecCapRpmbProbe = 1u << 7;
inline constexpr uint32_t kNsecCapUniprocessor = 1u << 0;

// ---- optee_msg.h ---------------------------------------------------------
inline constexpr uint32_t kAttrTypeNone = 0x0;
inline constexpr uint32_t kAttrValueInput = 0x1;
inline constexpr uint32_t kAttrValueOutput = 0x2;
inline constexpr uint32_t kAttrValueInout = 0x3;
inline constexpr uint32_t kAttrRmemInput = 0x5;
inline constexpr uint32_t kAttrRmemOutput = 0x6;
inline constexpr uint32_t kAttrRmemInout = 0x7;
inline constexpr uint32_t kAttrTmemInput = 0x9;
inline constexpr uint32_t kAttrTmemOutput = 0xa;
inline constexpr uint32_t kAttrTmemInout = 0xb;
inline constexpr uint32_t kAttrTypeMask = 0xff;
inline constexpr uint32_t kAttrMeta = 1u << 8;
inline constexpr uint32_t kAttrNoncontig = 1u << 9;
inline constexpr uint32_t kAttrCacheShift = 16;
inline constexpr uint32_t kAttrCacheMask = 0x7;

constexpr uint32_t attr_type(uint64_t attr) { return uint32_t(attr) & kAttrTypeMask; }
constexpr bool is_value(uint32_t t) { return t >= kAttrValueInput && t <= kAttrValueInout; }
constexpr bool is_rmem(uint32_t t) { return t >= kAttrRmemInput && t <= kAttrRmemInout; }
constexpr bool is_tmem(uint32_t t) { return t >= kAttrTmemInput && t <= kAttrTmemInout; }
// OUTPUT and INOUT of each kind: the ones whose fields OP-TEE writes back.
constexpr bool is_output(uint32_t t) {
	return t == kAttrValueOutput || t == kAttrValueInout || t == kAttrRmemOutput ||
	       t == kAttrRmemInout || t == kAttrTmemOutput || t == kAttrTmemInout;
}


inline constexpr size_t kPageSize = 4096; // OPTEE_MSG_NONCONTIG_PAGE_SIZE
inline constexpr uint64_t kPageMask = kPageSize - 1;

struct MsgParam {
	uint64_t attr;
	uint64_t a; // tmem.buf_ptr, rmem.offs, value.a
	uint64_t b; // tmem.size,    rmem.size, value.b
	uint64_t c; // tmem.shm_ref, rmem.shm_ref, value.c
};
static_assert(sizeof(MsgParam) == 32);

struct MsgArgHeader {
	uint32_t cmd;
	uint32_t func;
	uint32_t session;
	uint32_t cancel_id;
	uint32_t pad;
	uint32_t ret;
	uint32_t ret_origin;
	uint32_t num_params;
};
static_assert(sizeof(MsgArgHeader) == 32);

constexpr size_t arg_size(size_t num_params) {
	return sizeof(MsgArgHeader) + sizeof(MsgParam) * num_params;
}
// OPTEE_MSG_MAX_NUM_PARAMS: as many as fit in one page with the header.
inline constexpr uint32_t kMaxNumParams = (kPageSize - sizeof(MsgArgHeader)) / sizeof(MsgParam);
// OP-TEE's THREAD_RPC_MAX_NUM_PARAMS, the size of an RPC argument, is
// TEEMED_LIMIT_RPC_MAX_NUM_PARAMS (tables/limits.tsv).
// A NONCONTIG page list page: 511 page addresses, then the next list page.
inline constexpr size_t kPagesPerListPage = kPageSize / sizeof(uint64_t) - 1;

// offsets inside an argument
inline constexpr size_t kOffRet = offsetof(MsgArgHeader, ret);
inline constexpr size_t kOffRetOrigin = offsetof(MsgArgHeader, ret_origin);
inline constexpr size_t kOffSession = offsetof(MsgArgHeader, session);
constexpr size_t param_off(size_t i) { return sizeof(MsgArgHeader) + i * sizeof(MsgParam); }

// ---- optee_rpc_cmd.h ---------------------------------------------------
inline constexpr uint32_t kRpcShmTypeAppl = 0;
inline constexpr uint32_t kRpcShmTypeKernel = 1;
inline constexpr uint32_t kRpcShmTypeGlobal = 2;

// ---- GlobalPlatform return codes (tee_client_api.h) --------------------
inline constexpr uint32_t kTeecSuccess = 0;
inline constexpr uint32_t kTeecErrorGeneric = 0xffff0000u;
inline constexpr uint32_t kTeecErrorAccessDenied = 0xffff0001u;
inline constexpr uint32_t kTeecErrorBadFormat = 0xffff0005u;
inline constexpr uint32_t kTeecErrorBadParameters = 0xffff0006u;
inline constexpr uint32_t kTeecErrorBadState = 0xffff0007u;
inline constexpr uint32_t kTeecErrorItemNotFound = 0xffff0008u;
inline constexpr uint32_t kTeecErrorNotImplemented = 0xffff0009u;
inline constexpr uint32_t kTeecErrorNotSupported = 0xffff000au;
inline constexpr uint32_t kTeecErrorOutOfMemory = 0xffff000cu;
inline constexpr uint32_t kTeecErrorBusy = 0xffff000du;
inline constexpr uint32_t kTeecErrorCommunication = 0xffff000eu;
inline constexpr uint32_t kTeecErrorShortBuffer = 0xffff0010u;
inline constexpr uint32_t kTeecErrorTargetDead = 0xffff3024u;
inline constexpr uint32_t kTeecOriginApi = 1;
inline constexpr uint32_t kTeecOriginComms = 2;
inline constexpr uint32_t kTeecOriginTee = 3;
inline constexpr uint32_t kTeecOriginTrustedApp = 4;

// ---- register helpers ----------------------------------------------------
// A fast call's answer: a0, the caller's own a1..a7 otherwise (what OP-TEE
// leaves of a call it refuses, and what the mediator gives for one).
template <class Regs> constexpr Regs with_a0(Regs in, uint64_t a0)
{
	in[0] = a0;
	return in;
}

constexpr uint64_t reg_pair_to_64(uint64_t hi, uint64_t lo) {
	return (uint64_t(uint32_t(hi)) << 32) | uint32_t(lo);
}
constexpr uint64_t reg_hi(uint64_t v) { return v >> 32; }
constexpr uint64_t reg_lo(uint64_t v) { return uint32_t(v); }

} // namespace teemed::abi
