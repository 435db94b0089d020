// SPDX-License-Identifier: BSD-2-Clause
#include <cerrno>
#include <new>

#include "../lib/c_api.hpp"
#include "model_backend.hpp"
#include "teemed_model.h"

extern "C" int teemed_ctx_open_model(uint32_t threads, uint32_t max_guests, teemed_ctx **out)
{
	if (!out || !threads || !max_guests)
		return -EINVAL;
	try {
		teemed::model::ModelConfig cfg;
		cfg.threads = threads;
		cfg.max_guests = max_guests;
		*out = new teemed_ctx{std::make_shared<teemed::model::ModelBackend>(cfg)};
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
}
