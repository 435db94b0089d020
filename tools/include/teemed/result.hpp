// SPDX-License-Identifier: BSD-2-Clause
// Errors as values at every boundary of the library.
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

namespace teemed {

// An errno-style code (positive), the way VMMs and the kernel speak.
struct Error {
	int code;
};

inline Error make_error(int code) { return Error{code}; }

// A minimal expected<T, Error>: std::expected is C++23 and not usable with
// the clang this project fuzzes with, so the library carries its own.
template <typename T>
class Result {
public:
	Result(T value) : v_(std::move(value)) {}
	Result(Error e) : v_(e) {}

	explicit operator bool() const { return v_.index() == 0; }
	bool ok() const { return v_.index() == 0; }
	T &value() { return std::get<0>(v_); }
	const T &value() const { return std::get<0>(v_); }
	T &operator*() { return value(); }
	T *operator->() { return &value(); }
	int error() const { return ok() ? 0 : std::get<1>(v_).code; }

private:
	std::variant<T, Error> v_;
};

template <>
class Result<void> {
public:
	Result() = default;
	Result(Error e) : code_(e.code) {}
	explicit operator bool() const { return code_ == 0; }
	bool ok() const { return code_ == 0; }
	int error() const { return code_; }

private:
	int code_ = 0;
};

} // namespace teemed
