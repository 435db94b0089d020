// SPDX-License-Identifier: BSD-2-Clause
// Coroutines for the OP-TEE model: an OP-TEE thread that suspends in an RPC
// is a coroutine suspended at `co_await Rpc{...}`. Sub-tasks nest; the
// driver always resumes the innermost suspended one.
#pragma once

#include <coroutine>
#include <exception>
#include <utility>

#include "teemed/backend.hpp"

namespace teemed::model {

// Between a model thread and the SMC driver: the RPC the thread asks for,
// the normal world's answer, and which coroutine to resume with it.
struct Channel {
	SmcRegs out{};
	SmcRegs in{};
	std::coroutine_handle<> leaf;
};

template <typename T>
class Task {
public:
	struct promise_type {
		T value{};
		std::coroutine_handle<> cont;

		Task get_return_object()
		{
			return Task(std::coroutine_handle<promise_type>::from_promise(*this));
		}
		std::suspend_always initial_suspend() noexcept { return {}; }
		auto final_suspend() noexcept
		{
			struct Resume {
				bool await_ready() noexcept { return false; }
				std::coroutine_handle<> await_suspend(
					std::coroutine_handle<promise_type> h) noexcept
				{
					auto c = h.promise().cont;
					return c ? c : std::noop_coroutine();
				}
				void await_resume() noexcept {}
			};
			return Resume{};
		}
		void return_value(T v) { value = std::move(v); }
		void unhandled_exception() { std::terminate(); }
	};

	explicit Task(std::coroutine_handle<promise_type> h) : h_(h) {}
	Task(Task &&o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
	Task &operator=(Task &&o) noexcept
	{
		if (h_)
			h_.destroy();
		h_ = std::exchange(o.h_, nullptr);
		return *this;
	}
	Task(const Task &) = delete;
	~Task()
	{
		if (h_)
			h_.destroy();
	}

	// co_await sub_task(): run it, come back when it returns.
	bool await_ready() { return false; }
	std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller)
	{
		h_.promise().cont = caller;
		return h_;
	}
	T await_resume() { return std::move(h_.promise().value); }

	std::coroutine_handle<promise_type> handle() const { return h_; }
	bool done() const { return h_.done(); }
	T &result() { return h_.promise().value; }

private:
	std::coroutine_handle<promise_type> h_;
};

// co_await Rpc{ch, regs}: suspend the thread, hand `regs` to the normal
// world, resume with its RETURN_FROM_RPC registers.
struct Rpc {
	Channel *ch;
	SmcRegs req;
	bool await_ready() { return false; }
	void await_suspend(std::coroutine_handle<> h)
	{
		ch->out = req;
		ch->leaf = h;
	}
	SmcRegs await_resume() { return ch->in; }
};

} // namespace teemed::model
