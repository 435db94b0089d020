// SPDX-License-Identifier: BSD-2-Clause
// The OP-TEE SMC and message ABI as the mediator needs it: function ids and
// return codes of optee_smc.h, structures of optee_msg.h and the RPC
// commands of optee_rpc_cmd.h (OP-TEE 4.5). Written from the published ABI;
// every number here is fixed by that ABI.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

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

// ---- optee_smc.h function ids ------------------------------------------
inline constexpr uint32_t kCallsCount = fast_val(kOwnerTrustedOsEnd, 0xff00);
inline constexpr uint32_t kCallsUid = fast_val(kOwnerTrustedOsEnd, 0xff01);
inline constexpr uint32_t kCallsRevision = fast_val(kOwnerTrustedOsEnd, 0xff03);
inline constexpr uint32_t kGetOsUuid = fast_val(kOwnerTrustedOs, 0);
inline constexpr uint32_t kGetOsRevision = fast_val(kOwnerTrustedOs, 1);
inline constexpr uint32_t kGetShmConfig = fast_val(kOwnerTrustedOs, 7);
inline constexpr uint32_t kL2ccMutex = fast_val(kOwnerTrustedOs, 8);
inline constexpr uint32_t kExchangeCapabilities = fast_val(kOwnerTrustedOs, 9);
inline constexpr uint32_t kDisableShmCache = fast_val(kOwnerTrustedOs, 10);
inline constexpr uint32_t kEnableShmCache = fast_val(kOwnerTrustedOs, 11);
inline constexpr uint32_t kBootSecondary = fast_val(kOwnerTrustedOs, 12);
inline constexpr uint32_t kVmCreated = fast_val(kOwnerTrustedOs, 13);
inline constexpr uint32_t kVmDestroyed = fast_val(kOwnerTrustedOs, 14);
inline constexpr uint32_t kGetThreadCount = fast_val(kOwnerTrustedOs, 15);
inline constexpr uint32_t kEnableAsyncNotif = fast_val(kOwnerTrustedOs, 16);
inline constexpr uint32_t kGetAsyncNotifValue = fast_val(kOwnerTrustedOs, 17);
inline constexpr uint32_t kCallWithArg = std_val(4);
inline constexpr uint32_t kReturnFromRpc = std_val(3);
inline constexpr uint32_t kCallWithRpcArg = std_val(18);
inline constexpr uint32_t kCallWithRegdArg = std_val(19);

// ---- return codes -------------------------------------------------------
inline constexpr uint32_t kReturnOk = 0;
inline constexpr uint32_t kReturnEThreadLimit = 1;
inline constexpr uint32_t kReturnEBusy = 2;
inline constexpr uint32_t kReturnEResume = 3;
inline constexpr uint32_t kReturnEBadAddr = 4;
inline constexpr uint32_t kReturnEBadCmd = 5;
inline constexpr uint32_t kReturnENoMem = 6;
inline constexpr uint32_t kReturnENotAvail = 7;
inline constexpr uint32_t kReturnUnknownFunction = 0xffffffffu;

inline constexpr uint32_t kRpcPrefixMask = 0xffff0000u;
inline constexpr uint32_t kRpcPrefix = 0xffff0000u;
inline constexpr uint32_t kRpcFuncAlloc = 0;
inline constexpr uint32_t kRpcFuncFree = 2;
inline constexpr uint32_t kRpcFuncForeignIntr = 4;
inline constexpr uint32_t kRpcFuncCmd = 5;
// OPTEE_SMC_RETURN_IS_RPC: UNKNOWN_FUNCTION (0xffffffff) shares the prefix
// but is an answer, not an RPC.
constexpr bool is_rpc(uint64_t a0)
{
	return uint32_t(a0) != kReturnUnknownFunction && (uint32_t(a0) & kRpcPrefixMask) == kRpcPrefix;
}
constexpr uint32_t rpc_func(uint64_t a0) { return uint32_t(a0) & 0xffffu; }
constexpr uint32_t rpc_val(uint32_t func) { return kRpcPrefix | func; }

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

inline constexpr uint32_t kCmdOpenSession = 0;
inline constexpr uint32_t kCmdInvokeCommand = 1;
inline constexpr uint32_t kCmdCloseSession = 2;
inline constexpr uint32_t kCmdCancel = 3;
inline constexpr uint32_t kCmdRegisterShm = 4;
inline constexpr uint32_t kCmdUnregisterShm = 5;
inline constexpr uint32_t kCmdDoBottomHalf = 6;
inline constexpr uint32_t kCmdStopAsyncNotif = 7;

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
// THREAD_RPC_MAX_NUM_PARAMS of OP-TEE: the size of an RPC argument.
inline constexpr uint32_t kRpcMaxNumParams = 4;
// A NONCONTIG page list page: 511 page addresses, then the next list page.
inline constexpr size_t kPagesPerListPage = kPageSize / sizeof(uint64_t) - 1;

// offsets inside an argument
inline constexpr size_t kOffRet = offsetof(MsgArgHeader, ret);
inline constexpr size_t kOffRetOrigin = offsetof(MsgArgHeader, ret_origin);
inline constexpr size_t kOffSession = offsetof(MsgArgHeader, session);
constexpr size_t param_off(size_t i) { return sizeof(MsgArgHeader) + i * sizeof(MsgParam); }

// ---- optee_rpc_cmd.h ---------------------------------------------------
inline constexpr uint32_t kRpcCmdLoadTa = 0;
inline constexpr uint32_t kRpcCmdRpmb = 1;
inline constexpr uint32_t kRpcCmdFs = 2;
inline constexpr uint32_t kRpcCmdGetTime = 3;
inline constexpr uint32_t kRpcCmdNotification = 4;
inline constexpr uint32_t kRpcCmdSuspend = 5;
inline constexpr uint32_t kRpcCmdShmAlloc = 6;
inline constexpr uint32_t kRpcCmdShmFree = 7;
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
constexpr uint64_t reg_pair_to_64(uint64_t hi, uint64_t lo) {
	return (uint64_t(uint32_t(hi)) << 32) | uint32_t(lo);
}
constexpr uint64_t reg_hi(uint64_t v) { return v >> 32; }
constexpr uint64_t reg_lo(uint64_t v) { return uint32_t(v); }

} // namespace teemed::abi
