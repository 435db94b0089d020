// SPDX-License-Identifier: BSD-2-Clause
// The seam between protocol mediation (the library) and whoever issues the
// SMC and knows physical memory: the host kernel's VM context
// (/dev/teevm0), or the in-process OP-TEE model the tests use. The library
// never issues an SMC and never sees a physical address: it names guest
// memory by the Handle of a pin, and hands the backend OP-TEE's messages
// with handles where OP-TEE takes addresses; the backend builds what OP-TEE
// reads (the kernel: include/uapi/linux/tee.h, TEE_IOC_VM_CALL).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "teemed/export.h"
#include "teemed/result.hpp"
#include "teemed/teemed.h"

namespace teemed {

// x0..x7 of an SMC, in and out.
using SmcRegs = std::array<uint64_t, 8>;

// Opaque name of a pin in a context; 0 is none.
using Handle = uint32_t;

// One SMC. a7 of `regs` is ignored: the context's client id goes there.
// `msg` is a buffer that carries, in, `msg_len` bytes of the message of a
// CALL_WITH_ARG / CALL_WITH_RPC_ARG or of the answer to an RPC_CMD
// (OP-TEE's struct optee_msg_arg; a TMEM names a pin by handle in its
// buf_ptr), and, out, the completed message or OP-TEE's RPC_CMD request.
struct CallRequest {
	SmcRegs regs{};
	std::span<std::byte> msg;
	size_t msg_len = 0;
};

// What one SMC returned: a0..a3 as OP-TEE left them (a4..a7 zero), and
// how many bytes of the request's `msg` it wrote.
struct CallResult {
	SmcRegs regs{};
	size_t msg_len = 0;
};

// One VM's context in the TEE: a client id and its pins. Destruction tells
// the TEE the VM is gone, then frees everything.
class TEEMED_API BackendContext {
public:
	virtual ~BackendContext() = default;
	virtual uint32_t client_id() const = 0;
	// Pin the pages at these page-aligned VMM addresses, in buffer order,
	// as a buffer of `size` bytes starting `offset` bytes into the first.
	virtual Result<Handle> pin(std::span<const uint64_t> page_vas, uint32_t offset,
				   uint64_t size) = 0;
	// Drop the handle. The backend keeps the pages while the TEE holds
	// them (a registration, a call in flight).
	virtual void release(Handle h) = 0;
	// Issue one SMC. The error is an errno for a refusal or a failure of
	// the path itself (no SMC was made then), never a TEE return code.
	virtual Result<CallResult> call(const CallRequest &req) = 0;
	// Tell the TEE the VM is gone (OP-TEE: VM_DESTROYED) and free it all.
	virtual void shutdown() = 0;
};

class TEEMED_API Backend {
public:
	virtual ~Backend() = default;
	// Register a new VM with the TEE (OP-TEE: VM_CREATED).
	virtual Result<std::unique_ptr<BackendContext>> create_vm() = 0;
};

// A C handle (teemed.h) over a backend of the embedder's own, for C code
// that takes a teemed_ctx; it shares ownership. NULL on failure.
TEEMED_API teemed_ctx *ctx_from_backend(std::shared_ptr<Backend> backend);

} // namespace teemed
