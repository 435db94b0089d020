// SPDX-License-Identifier: BSD-2-Clause
#include <cerrno>
#include <new>

#include "teemed/backend.hpp"
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
		*out = teemed::ctx_from_backend(std::make_shared<teemed::model::ModelBackend>(cfg));
		return *out ? 0 : -ENOMEM;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
}
