// SPDX-License-Identifier: BSD-2-Clause
// The explorer's configurations: short programs of two or three actors,
// each aimed at what several vCPUs and the VMM can do to one VM at once.
#pragma once

#include <string>
#include <vector>

#include "world.hpp"

namespace teemed::explore {

// Every configuration, by name.
const std::vector<Config> &configs();
const Config *config(const std::string &name);

} // namespace teemed::explore
