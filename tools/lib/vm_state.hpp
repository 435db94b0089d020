// SPDX-License-Identifier: BSD-2-Clause
// The protocol state of one VM, private to the library. One lock guards
// the tables; it is never held across a backend call (design.md, 6).
#pragma once

#include <atomic>
#include <chrono>
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
#include "teemed/limits.hpp"
#include "teemed/stats.hpp"

#include "guest_memory.hpp"
#include "optee_abi.hpp"
#include "sync_points.hpp"

namespace teemed {

// The public defaults are the table's (tables/limits.tsv): a VMM reads
// them in teemed/limits.hpp without the generated header.
static_assert(Limits{}.max_pages_per_buffer == TEEMED_LIMIT_MAX_PAGES_PER_BUFFER);
static_assert(Limits{}.max_pinned_pages_per_vm == TEEMED_LIMIT_MAX_PINNED_PAGES_PER_VM);
static_assert(Limits{}.max_buffers_per_vm == TEEMED_LIMIT_MAX_BUFFERS_PER_VM);
static_assert(Limits{}.max_rpc_buffers_per_vm == TEEMED_LIMIT_MAX_RPC_BUFFERS_PER_VM);
static_assert(Limits{}.max_calls_per_vm == TEEMED_LIMIT_MAX_CALLS_PER_VM);

// How many RPC rounds the destroy path answers per suspended call before
// leaving it to VM_DESTROYED; tables/limits.tsv says why, and why the
// kernel's bound is the same number.
inline constexpr unsigned kUnwindRounds = TEEMED_LIMIT_UNWIND_ROUNDS;

using Clock = std::chrono::steady_clock;

// A yielding call's answer (a refusal, or OP-TEE's completion): a0, a1..a3
// cleared, a4..a7 as the guest had them.
inline SmcRegs std_call_result(const SmcRegs &in, uint64_t a0)
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

// Guest pages pinned for OP-TEE, as a buffer of `size` bytes starting
// `first_offset` bytes into the first page. The handle is released when
// it goes; the backend keeps the pages for as long as OP-TEE holds them.
class PinnedBuffer {
public:
	PinnedBuffer() = default;
	PinnedBuffer(BackendContext *ctx, Handle h, PinAccount *acct, std::vector<uint64_t> page_vas,
		     uint32_t first_offset, uint64_t size);
	PinnedBuffer(PinnedBuffer &&o) noexcept { *this = std::move(o); }
	PinnedBuffer &operator=(PinnedBuffer &&o) noexcept;
	PinnedBuffer(const PinnedBuffer &) = delete;
	PinnedBuffer &operator=(const PinnedBuffer &) = delete;
	~PinnedBuffer() { drop(); }

	Handle handle() const { return h_; }
	uint32_t pages() const { return uint32_t(page_vas_.size()); }
	uint32_t first_offset() const { return first_offset_; }
	uint64_t size() const { return size_; }
	const std::vector<uint64_t> &page_vas() const { return page_vas_; }

private:
	void drop();

	BackendContext *ctx_ = nullptr;
	Handle h_ = 0;
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

// A registered SHM: REGISTER_SHM from the guest, or SHM_ALLOC asked by
// OP-TEE through RPC. OP-TEE knows it by the guest's cookie.
struct ShmBuf {
	PinnedBuffer buf;
	bool from_rpc = false;
};

// An RPC argument buffer (RPC_ALLOC): where the guest has it. What OP-TEE
// reads is the kernel's page under the same cookie.
struct RpcArgBuf {
	uint64_t guest_ipa = 0;
	uint32_t size = 0;
};

enum class ArgMode { Plain, RpcArg, Regd };

// A yielding call from its first SMC until OP-TEE completes it.
struct Call {
	ArgMode mode = ArgMode::Plain;
	GuestSpan arg_loc;       // the guest's struct optee_msg_arg
	GuestSpan rpc_loc;       // RpcArg/Regd: the guest's RPC argument
	abi::MsgArgHeader hdr{}; // as the guest sent it
	std::vector<abi::MsgParam> params;
	std::vector<PinnedBuffer> temp;  // TMEM buffers, released at completion
	std::optional<PinnedBuffer> reg; // REGISTER_SHM, kept on success
	uint64_t reg_cookie = 0;
	bool reg_pending = false; // reg_cookie is reserved in pending_reg_
	uint64_t unreg_cookie = 0;
	bool unreg_pending = false; // unreg_cookie is in unregistering_
	// The message of each SMC, in and out (the backend's CallRequest::msg).
	std::vector<std::byte> msg = std::vector<std::byte>(abi::kPageSize);

	// While suspended in an RPC:
	uint32_t thread = 0;
	bool suspended = false;
	bool busy = false; // a vCPU is driving it right now
	uint32_t rpc_func = 0;
	uint32_t alloc_size = 0;   // RPC_ALLOC: bytes OP-TEE asked for
	GuestSpan cmd_guest;       // RPC_CMD: where the guest gets the request
	std::vector<std::byte> cmd_req; // RPC_CMD: the request, as OP-TEE wrote it
};

// What to do with an RPC OP-TEE returned: show the guest these registers,
// or answer it (as failed) without the guest.
using RpcToGuest = std::optional<SmcRegs>;

// The RETURN_FROM_RPC that answers an RPC: registers, and the message.
struct RpcAnswer {
	explicit RpcAnswer(const SmcRegs &r, size_t len = 0) : regs(r), msg_len(len) {}
	SmcRegs regs{};
	size_t msg_len = 0; // bytes of Call::msg: the RPC_CMD answer
	// A buffer the answer gives OP-TEE under a cookie: forgotten again if
	// the backend refuses the answer.
	std::optional<uint64_t> rpc_buf, shm;
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
	// EBUSY while a call in flight or a registered buffer still has the
	// mediator write into the region's memory.
	Result<void> remove_region(uint64_t ipa, uint64_t size);
	void set_foreign_intr_budget(std::chrono::microseconds budget) { foreign_intr_budget_ = budget; }

private:
	friend class VmAccess;

	void do_close();
	// Entered by every handle_smc; close() waits for all to leave.
	bool enter();
	void leave();

	// fast_calls.cpp
	SmcRegs fast_call(const SmcRegs &in);
	SmcRegs forward_fast(const SmcRegs &in, uint64_t a1);
	SmcRegs get_thread_count(const SmcRegs &in);
	SmcRegs exchange_capabilities(const SmcRegs &in);
	SmcRegs disable_shm_cache(const SmcRegs &in);

	// std_call.cpp: a yielding call's life
	SmcRegs start_call(const SmcRegs &in);
	std::optional<SmcRegs> load_arg(Call &c, const SmcRegs &in);
	uint32_t translate_params(Call &c, std::vector<abi::MsgParam> &out);
	SmcRegs resume_call(const SmcRegs &in);
	// Drive a call from OP-TEE's answer `out` until it completes or an
	// RPC must go to the guest; what the guest gets back. `trapped`: when
	// the guest's SMC reached the mediator.
	SmcRegs drive(std::list<Call>::iterator it, Result<CallResult> out, Clock::time_point trapped);
	bool resume_in_place(const Call &c, Clock::time_point trapped);
	void complete(Call &c, const CallResult &out);
	bool unwind(std::list<Call>::iterator it);
	uint32_t call_limit() const;

	// rpc.cpp: one function per RPC kind, each way. OP-TEE returned an
	// RPC: what the mediator notes of it, then what the guest sees.
	void note_rpc(Call &c, const SmcRegs &out, size_t msg_len);
	void note_rpc_alloc(Call &c, const SmcRegs &out);
	void note_rpc_free(const SmcRegs &out);
	void note_rpc_cmd(Call &c, const SmcRegs &out, size_t msg_len);
	void note_rpc_cmd_shm_free(const Call &c);
	RpcToGuest show_rpc(Call &c, const SmcRegs &out);
	RpcToGuest show_rpc_cmd(Call &c, const SmcRegs &out);
	// The guest answered with RETURN_FROM_RPC: what OP-TEE gets.
	RpcAnswer answer_rpc(Call &c, const SmcRegs &guest);
	RpcAnswer answer_rpc_alloc(Call &c, const SmcRegs &guest);
	RpcAnswer answer_rpc_cmd(Call &c);
	uint32_t answer_rpc_cmd_shm_alloc(Call &c, abi::MsgParam &p, uint64_t size);
	// The mediator answers as failed, without the guest.
	RpcAnswer answer_rpc_failed(Call &c);

	// shm.cpp
	Result<PinnedBuffer> pin_noncontig(uint64_t buf_ptr, uint64_t size);
	// Whether every VMM address of @s / of the pages of @b still lies in
	// guest RAM. Checked under lock_ as the library keeps one: the VMM
	// removes a region under lock_ too, so an address kept is one its
	// busy check sees, and one removed before is not kept.
	bool mapped(const GuestSpan &s) const;
	bool mapped(const PinnedBuffer &b) const;
	bool cookie_in_use(uint64_t cookie) const;
	size_t buffers_in_use() const { return shm_.size() + pending_reg_.size(); }

	// An SMC through the backend, with probes and counters.
	Result<CallResult> smc(const CallRequest &req);
	Result<CallResult> smc(const SmcRegs &regs, Call &c, size_t msg_len);
	// The call no longer waits on its OP-TEE thread.
	void forget_thread(std::list<Call>::iterator it);
	// Drop a finished call; what it pinned for itself is buried.
	void erase_call(std::list<Call>::iterator it);
	// Buffers whose pins go are released outside the lock (the backend is
	// never called under it): bury() them under the lock, reap() after.
	void bury(PinnedBuffer &&b) { dead_.push_back(std::move(b)); }
	void drop_shm(std::map<uint64_t, ShmBuf>::iterator it);
	void reap();

	Backend &backend_;
	std::unique_ptr<BackendContext> ctx_;
	const Limits limits_;
	const uint64_t label_;
	const uint32_t client_id_;
	GuestMemory mem_;
	PinAccount acct_;

	mutable VmLock lock_;
	std::condition_variable_any idle_;
	unsigned active_ = 0;
	bool closed_ = false;
	std::once_flag close_once_;

	// OP-TEE's own thread count (GET_THREAD_COUNT), learnt at creation.
	uint32_t optee_threads_ = 0;
	uint32_t rpc_param_count_ = 0; // from EXCHANGE_CAPABILITIES, 0 = no RPC_ARG
	// Foreign interrupts resumed without the guest for this long per SMC.
	std::atomic<std::chrono::microseconds> foreign_intr_budget_{
		std::chrono::microseconds(TEEMED_LIMIT_FOREIGN_INTR_BUDGET_US)};

	std::list<Call> calls_;                            // in flight
	std::map<uint32_t, std::list<Call>::iterator> threads_; // suspended, by OP-TEE thread
	std::map<uint64_t, ShmBuf> shm_;                   // by cookie
	std::map<uint64_t, RpcArgBuf> rpc_bufs_;           // by cookie
	// A cookie the guest registers goes Free -> pending_reg_ (its
	// REGISTER_SHM in flight) -> shm_ -> also unregistering_ (its
	// UNREGISTER_SHM in flight) -> Free, each step taken under the lock
	// by the vCPU whose check allowed it: a second REGISTER or
	// UNREGISTER of the cookie meanwhile is refused, never reordered
	// with the first on its way to OP-TEE.
	std::set<uint64_t> pending_reg_;
	std::set<uint64_t> unregistering_;
	std::vector<PinnedBuffer> dead_;                   // to release, after the lock
	VmStats st_;                                       // counters under lock_
};

} // namespace teemed
