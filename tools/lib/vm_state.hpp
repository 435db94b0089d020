// SPDX-License-Identifier: BSD-2-Clause
// The protocol state of one VM, private to the library. One mutex guards
// the tables; it is never held across a backend call (design.md, 6).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "teemed/backend.hpp"
#include "teemed/guest_memory.hpp"
#include "teemed/limits.hpp"
#include "teemed/optee_abi.hpp"
#include "teemed/stats.hpp"

namespace teemed {

// A yielding call's answer without results: a0, and a1..a3 cleared (x4..x7
// stay as the guest had them).
inline SmcRegs refusal(const SmcRegs &in, uint64_t a0)
{
	SmcRegs out = in;
	out[0] = a0;
	out[1] = out[2] = out[3] = 0;
	return out;
}

// Pinned-page accounting shared by every pin of a VM.
struct PinAccount {
	std::atomic<uint32_t> pages{0};
	std::atomic<uint32_t> pages_max{0};
	std::atomic<uint64_t> pins{0};
	std::atomic<uint64_t> unpins{0};
	uint64_t label = 0;
	uint32_t client_id = 0;

	// Take `n` pages of the quota before pinning them, so that vCPUs
	// pinning at once cannot together exceed it.
	bool reserve(uint32_t n, uint32_t max);
	void unreserve(uint32_t n) { pages.fetch_sub(n); }
};

// A pin or a shadow in the backend context; released when destroyed.
class BackendObject {
public:
	BackendObject() = default;
	BackendObject(BackendContext *ctx, Handle h) : ctx_(ctx), h_(h) {}
	BackendObject(BackendObject &&o) noexcept : ctx_(o.ctx_), h_(o.h_) { o.h_ = 0; }
	BackendObject &operator=(BackendObject &&o) noexcept;
	BackendObject(const BackendObject &) = delete;
	BackendObject &operator=(const BackendObject &) = delete;
	~BackendObject() { reset(); }

	Handle handle() const { return h_; }
	explicit operator bool() const { return h_ != 0; }
	void reset();
	// Give up ownership without releasing: for pages OP-TEE may still
	// touch (a failed unwind). The context frees them when it dies.
	void leak() { h_ = 0; }

private:
	BackendContext *ctx_ = nullptr;
	Handle h_ = 0;
};

// Guest pages pinned for OP-TEE, described as a NONCONTIG buffer.
class PinnedBuffer {
public:
	PinnedBuffer() = default;
	PinnedBuffer(BackendObject obj, PinAccount *acct, std::vector<uint64_t> page_vas,
		     uint32_t first_offset, uint64_t size);
	PinnedBuffer(PinnedBuffer &&) noexcept = default;
	PinnedBuffer &operator=(PinnedBuffer &&o) noexcept;
	~PinnedBuffer() { drop(); }

	Handle handle() const { return obj_.handle(); }
	uint32_t pages() const { return uint32_t(page_vas_.size()); }
	uint32_t first_offset() const { return first_offset_; }
	uint64_t size() const { return size_; }
	const std::vector<uint64_t> &page_vas() const { return page_vas_; }
	// Leak the pin (see BackendObject::leak); returns the pages leaked.
	uint32_t leak();

private:
	void drop();

	BackendObject obj_;
	PinAccount *acct_ = nullptr;
	std::vector<uint64_t> page_vas_;
	uint32_t first_offset_ = 0;
	uint64_t size_ = 0;
};

// A run of VMM memory holding (part of) a guest structure.
struct Segment {
	uint64_t va;
	uint32_t len;
};

// Where a guest structure lives: contiguous guest RAM, or pieces of a
// registered SHM (CALL_WITH_REGD_ARG).
struct GuestSpan {
	std::vector<Segment> segs;
	size_t size() const;
	void read(std::span<std::byte> out) const;   // out.size() <= size()
	void write(size_t off, std::span<const std::byte> in) const;
};

// A registered SHM: REGISTER_SHM from the guest or SHM_ALLOC asked by OP-TEE
// through RPC. OP-TEE knows it by the guest's cookie.
struct ShmBuf {
	PinnedBuffer buf;
	bool from_rpc = false;
};

// An RPC argument buffer (RPC ALLOC): the guest's page, and the shadow
// OP-TEE really uses.
struct RpcArgBuf {
	uint64_t guest_ipa = 0;
	uint32_t size = 0;
	BackendObject shadow;
};

enum class ArgMode { Plain, RpcArg, Regd };

// A yielding call from its first SMC until OP-TEE completes it.
struct Call {
	ArgMode mode = ArgMode::Plain;
	GuestSpan arg_loc;       // the guest's struct optee_msg_arg
	GuestSpan rpc_loc;       // RpcArg/Regd: the guest's RPC argument
	abi::MsgArgHeader hdr{}; // as the guest sent it
	std::vector<abi::MsgParam> params;
	BackendObject shadow;    // argument (+ RPC argument) as OP-TEE sees it
	std::vector<PinnedBuffer> temp; // TMEM buffers, freed at completion
	std::optional<PinnedBuffer> reg; // REGISTER_SHM, kept on success
	uint64_t reg_cookie = 0;
	bool reg_pending = false; // reg_cookie is reserved in pending_reg_
	uint64_t unreg_cookie = 0;

	// While suspended in an RPC:
	uint32_t thread = 0;
	bool suspended = false;
	bool busy = false;      // a vCPU is driving it right now
	uint32_t rpc_func = 0;
	uint32_t alloc_size = 0;
	// RPC CMD being served: where its argument is, and the request as
	// OP-TEE wrote it (the only trusted copy).
	Handle cmd_shadow = 0;
	uint32_t cmd_shadow_off = 0;
	GuestSpan cmd_guest;
	std::vector<std::byte> cmd_req;

	// OP-TEE's view of the argument after each SMC (header + params).
	std::vector<std::byte> readback;
};

class VmState {
public:
	VmState(Backend &be, std::unique_ptr<BackendContext> ctx, const Limits &lim,
		uint64_t label);
	~VmState();

	Result<SmcRegs> handle_smc(const SmcRegs &in);
	void close();
	VmStats stats() const;
	uint32_t client_id() const { return client_id_; }
	uint64_t label() const { return label_; }
	GuestMemory &memory() { return mem_; }

private:
	friend class VmAccess;

	void do_close();
	// Entered by every handle_smc; close() waits for all to leave.
	bool enter();
	void leave();

	// fast_calls.cpp
	SmcRegs fast_call(const SmcRegs &in);
	SmcRegs forward_fast(const SmcRegs &in, uint64_t a1);
	// std_calls.cpp
	SmcRegs start_call(const SmcRegs &in);
	std::optional<SmcRegs> load_arg(Call &c, const SmcRegs &in);
	uint32_t translate_params(Call &c, std::vector<abi::MsgParam> &out,
				  std::vector<Reloc> &relocs);
	void complete(Call &c, const SmcRegs &out);
	// shm.cpp
	Result<PinnedBuffer> pin_noncontig(uint64_t buf_ptr, uint64_t size);
	bool cookie_in_use(uint64_t cookie) const;
	size_t buffers_in_use() const { return shm_.size() + pending_reg_.size(); }
	// rpc.cpp
	SmcRegs resume(const SmcRegs &in);
	// Drive a call from OP-TEE's answer `out` until it completes or an
	// RPC must go to the guest; what the guest gets back.
	SmcRegs drive(std::list<Call>::iterator it, Result<SmcRegs> out);
	// Bookkeeping for an RPC OP-TEE returned; the guest's registers, or
	// nothing when the mediator answers it as failed on its own.
	std::optional<SmcRegs> take_rpc(Call &c, const SmcRegs &out, bool to_guest);
	// The RETURN_FROM_RPC for the pending RPC: from the guest's registers,
	// or as failed when `guest` is null.
	void build_rpc_reply(Call &c, const SmcRegs *guest, SmcRegs &regs,
			     std::vector<std::byte> &arg, std::vector<Reloc> &relocs);
	Result<SmcRegs> resume_smc(Call &c, const SmcRegs *guest);
	bool unwind(std::list<Call>::iterator it);
	uint32_t call_limit() const;

	// An SMC through the backend, with probes and counters.
	Result<SmcRegs> smc(const CallRequest &req);
	// Drop a finished call and everything it pinned for itself.
	void erase_call(std::list<Call>::iterator it);

	Backend &backend_;
	std::unique_ptr<BackendContext> ctx_;
	const Limits limits_;
	const uint64_t label_;
	const uint32_t client_id_;
	GuestMemory mem_;
	PinAccount acct_;

	mutable std::mutex lock_;
	std::condition_variable idle_;
	unsigned active_ = 0;
	bool closed_ = false;
	std::once_flag close_once_;

	// OP-TEE's own thread count (GET_THREAD_COUNT), learnt at creation.
	uint32_t optee_threads_ = 0;
	uint32_t rpc_param_count_ = 0; // from EXCHANGE_CAPABILITIES, 0 = no RPC_ARG

	std::list<Call> calls_;                            // in flight
	std::map<uint32_t, std::list<Call>::iterator> threads_; // suspended, by OP-TEE thread
	std::map<uint64_t, ShmBuf> shm_;                   // by cookie
	std::map<uint64_t, RpcArgBuf> rpc_bufs_;           // by cookie
	std::set<uint64_t> pending_reg_;                   // REGISTER_SHM in flight
	VmStats st_;                                       // counters under lock_
};

} // namespace teemed
