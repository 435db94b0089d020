// SPDX-License-Identifier: BSD-2-Clause
// A backend that answers every SMC at once with OK, pins and shadows being
// counters: what remains of a call's cost is the mediator's own.
#pragma once

#include <atomic>

#include "teemed/backend.hpp"
#include "teemed/optee_abi.hpp"

namespace teemed::bench {

class NullContext : public BackendContext {
public:
	uint32_t client_id() const override { return 2; }
	Result<Handle> pin(std::span<const uint64_t> v) override
	{
		pinned_ += v.size();
		return ++next_;
	}
	Result<Handle> alloc_shadow() override { return ++next_; }
	void release(Handle) override {}
	Result<SmcRegs> call(const CallRequest &req) override
	{
		SmcRegs out{};
		out[0] = abi::kReturnOk;
		// What a kernel does per call: touch the bytes it copies.
		for (const auto &w : req.writes)
			sink_ += w.data.size() ? uint8_t(w.data[0]) : 0;
		for (const auto &r : req.reads)
			if (!r.data.empty())
				r.data[0] = std::byte{0};
		return out;
	}
	Result<void> transfer(std::span<const ShadowWrite>, std::span<const ShadowRead>) override
	{
		return {};
	}
	void shutdown() override {}

private:
	Handle next_ = 0;
	uint64_t pinned_ = 0;
	uint64_t sink_ = 0;
};

class NullBackend : public Backend {
public:
	Result<std::unique_ptr<BackendContext>> create_vm() override
	{
		return std::unique_ptr<BackendContext>(new NullContext);
	}
};

} // namespace teemed::bench
