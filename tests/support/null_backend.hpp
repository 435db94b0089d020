// SPDX-License-Identifier: BSD-2-Clause
// A backend that answers every SMC at once with OK, pins being counters: what remains of a call's cost is the mediator's own.
#pragma once

#include <atomic>
#include <memory>
#include <tuple>

#include "teemed/backend.hpp"
#include "optee_abi.hpp"

namespace teemed::bench {

class NullContext : public BackendContext {
public:
	uint32_t client_id() const override { return 2; }
	Result<Handle> pin(std::span<const uint64_t> v, uint32_t, uint64_t) override
	{
		pinned_ += v.size();
		return ++next_;
	}
	void release(Handle) override {}
	Result<CallResult> call(const CallRequest &req) override
	{
		CallResult out;
		out.regs[0] = OPTEE_SMC_RETURN_OK;
		// What a kernel does per call: copy the message in, and back.
		if (req.msg_len) {
			sink_ += uint8_t(req.msg[0]);
			out.msg_len = req.msg_len;
		}
		return out;
	}
	void shutdown() override {}

private:
	Handle next_ = 0;
	uint64_t pinned_ = 0;
	uint64_t sink_ = 0;
};

// A backend whose every VM gets a new Ctx, built from the arguments the
// backend was given.
template <typename Ctx, typename... Args>
class BackendOf : public Backend {
public:
	explicit BackendOf(Args... args) : args_(args...) {}
	Result<std::unique_ptr<BackendContext>> create_vm() override
	{
		return std::apply([](Args... a) { return std::unique_ptr<BackendContext>(new Ctx(a...)); },
				  args_);
	}

private:
	std::tuple<Args...> args_;
};

using NullBackend = BackendOf<NullContext>;

} // namespace teemed::bench
