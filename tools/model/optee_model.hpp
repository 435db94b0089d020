// SPDX-License-Identifier: BSD-2-Clause
// An in-process model of OP-TEE 4.5 built with CFG_NS_VIRTUALIZATION, for
// the tests: per-client partitions created and destroyed by the hypervisor
// (a7 = 0), refusal of unknown clients, the threads of each partition its
// own (destroyed with it, as VM_DESTROYED does), dynamic SHM
// only (NONCONTIG page lists walked through the physical address space),
// RPC argument allocation or RPC_ARG, the RPC sequences for loading a TA and
// allocating/freeing SHM, and a small TA whose commands move real bytes
// through the mediated buffers. It follows OP-TEE's return codes wherever
// the mediator's behaviour depends on them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
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

// A buffer OP-TEE resolved from a NONCONTIG page list.
struct Mobj {
	std::vector<std::byte *> pages;
	uint32_t offset = 0;
	uint64_t size = 0;
	bool read(uint64_t off, std::span<std::byte> out) const;
	bool write(uint64_t off, std::span<const std::byte> in) const;
};

class OpteeModel {
public:
	explicit OpteeModel(const ModelConfig &cfg = {});
	~OpteeModel();

	// One SMC from the normal world, a7 included.
	SmcRegs smc(const SmcRegs &in);

	PhysSpace &phys() { return phys_; }
	const ModelConfig &config() const { return cfg_; }

	// Introspection for tests.
	size_t guests() const;
	size_t registered_shm(uint32_t client) const;
	size_t sessions(uint32_t client) const;
	size_t suspended_threads() const;
	uint64_t ta_loads() const;

private:
	struct RegShm {
		Mobj mobj;
		unsigned users = 0;
	};
	struct Thread {
		enum State { Free, Suspended } state = Free;
		std::optional<Task<uint32_t>> task;
		Channel ch;
		std::byte *rpc_arg = nullptr; // where RPC CMD arguments go
		uint64_t rpc_cookie = 0;      // its cookie (0: part of the call's page)
		bool rpc_from_call = false;
	};
	struct Partition {
		std::vector<Thread> threads; // CFG_NUM_THREADS of its own
		std::map<uint64_t, RegShm> shm;
		std::map<uint32_t, uint64_t> sessions; // id -> TA uuid lo
		std::set<uint64_t> loaded;
		uint32_t next_session = 1;
		bool prealloc_rpc_cache = false;
	};

	SmcRegs fast(const SmcRegs &in);
	SmcRegs std_call(const SmcRegs &in);
	SmcRegs run(uint32_t tid);

	Task<uint32_t> std_entry(uint32_t tid, uint64_t a0, uint64_t parg);
	Task<uint32_t> entry(uint32_t tid, std::byte *arg, uint32_t num_params);
	Task<uint32_t> open_session(uint32_t tid, std::byte *arg, uint32_t n);
	Task<uint32_t> invoke(uint32_t tid, std::byte *arg, uint32_t n);
	Task<uint32_t> load_ta(uint32_t tid, uint64_t uuid_hi, uint64_t uuid_lo);
	// One RPC CMD with up to kRpcMaxNumParams params; outputs written
	// back into `params`. Returns the normal world's ret.
	Task<uint32_t> rpc_cmd(uint32_t tid, uint32_t cmd, std::vector<abi::MsgParam> &params);
	Task<std::optional<std::pair<uint64_t, Mobj>>> shm_alloc(uint32_t tid, uint32_t type,
								 uint64_t size);
	Task<uint32_t> shm_free(uint32_t tid, uint32_t type, uint64_t cookie);
	Task<uint32_t> free_rpc_arg(uint32_t tid);

	std::optional<Mobj> mobj_from_noncontig(uint64_t buf_ptr, uint64_t size) const;
	Partition *partition(uint32_t client);
	Thread &thread(uint32_t tid) { return parts_.at(cur_client_).threads[tid]; }

	const ModelConfig cfg_;
	PhysSpace phys_;
	mutable std::recursive_mutex lock_;
	std::map<uint32_t, Partition> parts_;
	uint32_t cur_client_ = 0; // the partition whose thread runs
	uint64_t ta_loads_ = 0;
};

} // namespace teemed::model
