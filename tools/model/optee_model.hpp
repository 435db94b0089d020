// SPDX-License-Identifier: BSD-2-Clause
// An in-process model of OP-TEE built with CFG_NS_VIRTUALIZATION (4.5.0 and
// 4.10.0, identical where this model goes), faithful where the host's
// safety depends on it: how OP-TEE names and keeps the normal world's
// buffers. Each rule cites the source it follows ("TOS" is
// core/arch/arm/kernel/thread_optee_smc.c, "ESTD" core/tee/entry_std.c,
// "DYN" core/mm/mobj_dyn_shm.c, "MP" core/kernel/msg_param.c, "VIRT"
// core/arch/arm/kernel/virtualization.c, "THR" core/arch/arm/kernel/thread.c,
// "KTHR" core/kernel/thread.c, "A64" core/arch/arm/kernel/
// thread_optee_smc_a64.S; two line numbers are 4.5 / 4.10):
//
// - every buffer of a partition is one struct mobj_reg_shm on one list,
//   newest first, whatever its kind: a registration, a call's NONCONTIG
//   reference, a thread's RPC argument, an RPC payload, the call's
//   argument page under cookie 0 (DYN reg_shm_list, SLIST_INSERT_HEAD
//   4.5:339 / 4.10:390); a cookie is looked up first match, with no check
//   of kind or owner, and the lookup takes a reference (DYN
//   mobj_reg_shm_get_by_cookie 4.5:367-380 / 4.10:432-453), which panics
//   on a buffer whose count is 0 (mobj_get(), core/include/mm/mobj.h);
// - UNREGISTER_SHM drops the registration's reference and waits, in
//   RPCs, until every other is gone (DYN mobj_reg_shm_release_by_cookie
//   4.5:382-438 / 4.10:455-511);
// - RPC_FREE comes before OP-TEE drops the RPC argument (TOS 137-138),
//   SHM_FREE after it drops the payload (TOS 601-606); DISABLE_SHM_CACHE
//   drops before it returns the cookie (TOS 325);
// - a call's NONCONTIG references are never dropped in 4.5.0 and 4.10.0
//   (ESTD cleanup_shm_refs() 4.5:257 / 4.10:270; fixed after 4.10);
// - threads are the partition's (KTHR threads[] 4.5:20 / 4.10:25); a new
//   call takes the lowest free one (THR thread_alloc_and_run 4.5:230-243 /
//   4.10:231-244), freed before the call's last return reaches the normal
//   world (thread_state_free at A64 168, the smc at 170-175); a resume may
//   name any suspended thread of the partition (THR 4.5:362-412 /
//   4.10:379-429);
// - a foreign interrupt may suspend a thread wherever the model asks
//   ModelConfig::foreign_intr: interrupts are unmasked from tee_entry_std
//   (ESTD 4.5:538 / 4.10:694) until A64 164, the end-of-call frees and puts
//   included; the registers of the resume are ignored (THR 4.5:398-401 /
//   4.10:415-418);
// - the SHM cache is off until ENABLE_SHM_CACHE (TOS 26); ENABLE and
//   DISABLE need every thread free (TOS 312-317, 353-358); while it is on,
//   a thread keeps its RPC argument across calls (TOS 471-485);
// - the answer to RPC_ALLOC is checked for alignment before anything is
//   mapped (TOS 404), then mapped as one page (TOS 374-376).
//
// The model reaches normal-world memory only through the physical address
// space of the kernel shim (PhysSpace): every access of a page that is not,
// at that moment, allocated by the kernel for the partition's client or
// pinned by it is a report. So is every panic OP-TEE would have. The tests
// and fuzzers assert there are none.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "phys_space.hpp"
#include "task.hpp"
#include "teemed/backend.hpp"
#include "optee_abi.hpp"

namespace teemed::model {

struct ModelConfig {
	uint32_t threads = 8;    // CFG_NUM_THREADS
	uint32_t max_guests = 8; // CFG_VIRT_GUEST_COUNT
	bool rpc_arg = true;     // OP-TEE >= 3.20 offers OPTEE_SMC_SEC_CAP_RPC_ARG
	// OP-TEE 4.5.0 and 4.10.0 never drop a call's NONCONTIG references
	// (cleanup_shm_refs()); false: as upstream after 4.10 (51d99cd24).
	bool leak_noncontig_refs = true;
	// Debian's OP-TEE 4.5 and 4.10: the invoke-tests pseudo TA writes
	// byte 0 of a NULL memory reference (core/pta/tests/invoke.c) and
	// OP-TEE panics; false: with the fix.
	bool pta_null_memref_panics = true;
	// Asked at each point a thread of OP-TEE can take a foreign
	// interrupt: true suspends it there with RPC_FOREIGN_INTR.
	std::function<bool()> foreign_intr;
};

// The model TA (uuid kTaUuid) and its commands.
inline constexpr uint64_t kTaUuidHi = 0x7465656d65647461ull; // "teemedta"
inline constexpr uint64_t kTaUuidLo = 0x0000000000000001ull;
enum TaCmd : uint32_t {
	kTaEcho = 0,         // memref in p0 -> memref out p1
	kTaAdd = 1,          // value p0.a + p0.b -> value out p1.a
	kTaForeignIntr = 2,  // takes one foreign interrupt, then returns
	kTaRpcShm = 3,       // SHM_ALLOC kernel buffer of p0.a bytes, fill, SHM_FREE
	kTaSum = 4,          // sum of the bytes of memref p0 -> value out p1.a
};
// A TA image as the supplicant serves it: magic, uuid, then anything.
inline constexpr std::array<char, 8> kTaMagic = {'T', 'E', 'E', 'M', 'E', 'D', 'T', 'A'};

// OP-TEE's built-in invoke-tests pseudo TA (d96a5b40-c3e5-21e3-8794-1002a5d5c61b,
// core/pta/tests/invoke.c) as the uuid's two octet halves, and its command
// that the board's adversarial suite uses.
inline constexpr uint64_t kPtaInvokeTestsHi = 0xe321e5c3405b6ad9ull;
inline constexpr uint64_t kPtaInvokeTestsLo = 0x1bc6d5a502109487ull;
inline constexpr uint32_t kPtaCmdParams = 1;
// optee_test's os_test TA (5b9e0e40-2636-11e1-ad9e-0002a5d5c51b) and its wait.
inline constexpr uint64_t kOsTestHi = 0xe1113626400e9e5bull;
inline constexpr uint64_t kOsTestLo = 0x1bc5d5a502009eadull;
inline constexpr uint32_t kOsTestCmdWait = 9;

// struct mobj_reg_shm: a buffer of the normal world, by physical pages.
struct Mobj {
	std::vector<uint64_t> pages;
	uint32_t offset = 0;
	uint64_t size = 0;
	uint64_t cookie = 0;
	bool guarded = true;      // all but a registration (mobj_reg_shm_unguard)
	bool releasing = false;   // its UNREGISTER_SHM runs
	bool release_frees = false;
	int refc = 1;
	const char *what = "";
};
using MobjRef = std::shared_ptr<Mobj>;

class OpteeModel {
public:
	explicit OpteeModel(const ModelConfig &cfg = {});
	~OpteeModel();

	// One SMC from the normal world, a7 included.
	SmcRegs smc(const SmcRegs &in);

	const ModelConfig &config() const { return cfg_; }
	PhysSpace &phys() { return phys_; }

	// What OP-TEE did that it must not: touched a page the client does
	// not own now, or panicked. Empty is the only good answer.
	std::vector<std::string> reports() const;

	// Introspection for tests.
	size_t guests() const;
	size_t registered_shm(uint32_t client) const;
	size_t sessions(uint32_t client) const;
	size_t suspended_threads() const;
	std::set<uint32_t> suspended_thread_ids(uint32_t client) const;
	size_t listed_buffers(uint32_t client) const;
	uint64_t ta_loads() const;

private:
	struct Thread {
		enum State { Free, Suspended } state = Free;
		std::optional<Task<uint32_t>> task;
		Channel ch;
		MobjRef rpc_mobj;        // thr->rpc_mobj: an RPC_ALLOC'd argument
		MobjRef rpc_area;        // or the call's (CALL_WITH_RPC_ARG)
		size_t rpc_area_off = 0;
	};
	struct Partition {
		std::vector<Thread> threads; // CFG_NUM_THREADS of its own
		std::list<MobjRef> reg_shm;  // every buffer, newest first
		std::map<uint32_t, uint64_t> sessions; // id -> TA uuid lo
		uint32_t next_session = 1;
		bool prealloc_rpc_cache = false;
	};
	// A TA's view of a parameter (copy_in_params).
	struct Param {
		uint32_t type = abi::kAttrTypeNone;
		abi::MsgParam raw{};
		MobjRef mem;
		uint64_t off = 0;
		uint64_t size = 0;
	};

	SmcRegs fast(const SmcRegs &in);
	SmcRegs std_call(const SmcRegs &in);
	SmcRegs run(uint32_t tid);

	// The partition's buffers (DYN)
	MobjRef reg_shm_alloc(std::vector<uint64_t> pages, uint32_t offset, uint64_t size,
			      uint64_t cookie, const char *what);
	MobjRef get_by_cookie(uint64_t cookie);
	void put(const MobjRef &m);
	MobjRef from_noncontig(uint64_t buf_ptr, uint64_t size, uint64_t cookie, const char *what);
	bool read(const Mobj &m, uint64_t off, std::span<std::byte> out);
	bool write(const Mobj &m, uint64_t off, std::span<const std::byte> in);
	Task<uint32_t> release_by_cookie(uint32_t tid, uint64_t cookie);

	// A yielding call (TOS, ESTD)
	Task<uint32_t> std_entry(uint32_t tid, uint64_t a0, uint64_t parg);
	Task<uint32_t> entry(uint32_t tid, MobjRef arg, uint32_t num_params);
	uint32_t copy_in_params(const Mobj &arg, uint32_t first, uint32_t n,
				std::vector<Param> &tp);
	void cleanup_params(std::vector<Param> &tp);
	Task<uint32_t> open_session(uint32_t tid, MobjRef arg, uint32_t n);
	Task<uint32_t> invoke(uint32_t tid, MobjRef arg, uint32_t n);
	Task<uint32_t> run_ta(uint32_t tid, uint64_t uuid_lo, uint32_t func, std::vector<Param> &tp,
			      const Mobj &arg);
	Task<uint32_t> load_ta(uint32_t tid, uint64_t uuid_hi, uint64_t uuid_lo);
	Task<uint32_t> maybe_foreign_intr(uint32_t tid);

	// RPCs (TOS)
	Task<uint32_t> rpc_cmd(uint32_t tid, uint32_t cmd, std::vector<abi::MsgParam> &params);
	Task<MobjRef> rpc_alloc_arg(uint32_t tid);
	Task<uint32_t> rpc_free_arg(uint32_t tid, uint64_t cookie);
	Task<uint32_t> clear_prealloc_rpc_cache(uint32_t tid);
	Task<MobjRef> shm_alloc(uint32_t tid, uint32_t type, uint64_t size);
	Task<uint32_t> shm_free(uint32_t tid, uint32_t type, MobjRef m);

	Partition *partition(uint32_t client);
	Thread &thread(uint32_t tid) { return parts_.at(cur_client_).threads[tid]; }
	void report(std::string what);
	// A page of the normal world for the running partition, or a report.
	std::byte *map(uint64_t pa, size_t len, const char *what);
	// What OP-TEE is doing with the buffers it reads and writes, for the
	// reports: set for the span of one access (read/write are synchronous).
	struct Via {
		Via(OpteeModel &m, const char *doing) : m_(m), was_(m.via_) { m.via_ = doing; }
		~Via() { m_.via_ = was_; }
		OpteeModel &m_;
		const char *was_;
	};
	const char *via_ = nullptr;

	const ModelConfig cfg_;
	PhysSpace phys_;
	mutable std::recursive_mutex lock_;
	std::map<uint32_t, Partition> parts_;
	uint32_t cur_client_ = 0; // the partition whose thread runs
	uint64_t ta_loads_ = 0;
	bool panicked_ = false;
	std::vector<std::string> reports_;
};

} // namespace teemed::model
