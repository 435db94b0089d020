// SPDX-License-Identifier: BSD-2-Clause
// The seam between protocol mediation (the library) and whoever can issue
// the SMC and knows physical addresses: the host kernel's VM-context fd, or
// the in-process OP-TEE model the tests use. The library never issues an SMC
// and never sees a physical address; it names memory by Handle.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "teemed/result.hpp"

namespace teemed {

// x0..x7 of an SMC, in and out.
using SmcRegs = std::array<uint64_t, 8>;

// Opaque name of a pinned buffer or a shadow page in a context; 0 is none.
using Handle = uint32_t;

// Copy bytes into a shadow before the SMC.
struct ShadowWrite {
	Handle shadow;
	uint32_t offset;
	std::span<const std::byte> data;
};

// Copy bytes out of a shadow after the SMC.
struct ShadowRead {
	Handle shadow;
	uint32_t offset;
	std::span<std::byte> data;
};

// "Write the physical address of `object` (+ offset) here." For a pinned
// buffer the address is its OP-TEE page list's and `offset` is the data's
// offset in its first page (a NONCONTIG buf_ptr).
struct Reloc {
	enum class Target : uint32_t { A1A2 = 0, Shadow = 1 };
	Handle object;
	uint32_t offset;
	Target target;
	Handle shadow;          // Target::Shadow only
	uint32_t shadow_offset; // Target::Shadow only, 8-byte aligned
};

// One SMC. a7 of `regs` is ignored: the context's client id goes there.
struct CallRequest {
	SmcRegs regs{};
	std::span<const ShadowWrite> writes;
	std::span<const Reloc> relocs;
	std::span<const ShadowRead> reads;
};

// One VM's context in the TEE: a client id, its pins and shadows.
// Destruction tells the TEE the VM is gone, then frees every object.
class BackendContext {
public:
	virtual ~BackendContext() = default;
	virtual uint32_t client_id() const = 0;
	// Pin the pages at these page-aligned VMM addresses, in buffer order.
	virtual Result<Handle> pin(std::span<const uint64_t> page_vas) = 0;
	// One zeroed page the TEE may read and write and nobody else can.
	virtual Result<Handle> alloc_shadow() = 0;
	// Free a pin or shadow. Only called once the TEE can no longer touch it.
	virtual void release(Handle h) = 0;
	// Issue one SMC; returns x0..x3 as the TEE left them (x4..x7 zero).
	// The error is an errno for a failure of the path itself, never a TEE
	// return code.
	virtual Result<SmcRegs> call(const CallRequest &req) = 0;
	// Copies without an SMC: reading an RPC argument whose shadow only the
	// returned RPC named.
	virtual Result<void> transfer(std::span<const ShadowWrite> writes,
				      std::span<const ShadowRead> reads) = 0;
	// Tell the TEE the VM is gone (OP-TEE: VM_DESTROYED). Objects stay
	// allocated until released or the context is destroyed.
	virtual void shutdown() = 0;
};

class Backend {
public:
	virtual ~Backend() = default;
	// Register a new VM with the TEE (OP-TEE: VM_CREATED).
	virtual Result<std::unique_ptr<BackendContext>> create_vm() = 0;
};

} // namespace teemed
