// SPDX-License-Identifier: BSD-2-Clause
// What the C handles are, shared by the C API and backends that add an
// opener of their own (teemed_ctx_open_model).
#pragma once

#include <memory>

#include "teemed/backend.hpp"
#include "teemed/teemed.h"
#include "teemed/vm.hpp"

struct teemed_ctx {
	std::shared_ptr<teemed::Backend> backend;
};

struct teemed_vm {
	std::shared_ptr<teemed::Backend> backend; // outlives the Vm
	std::unique_ptr<teemed::Vm> vm;
};
