// SPDX-License-Identifier: BSD-2-Clause
// teemed::Backend on the host kernel's VM-context device (/dev/teevm0, from
// the kernel/ series): one fd per VM context, one ioctl per SMC.
#pragma once

#include <memory>
#include <string>

#include "teemed/backend.hpp"

namespace teemed {

// Opens `dev`; errors: the errno of open(2) (ENOENT: no patched driver or
// OP-TEE without NS-virtualization, EACCES: no permission).
TEEMED_API Result<std::unique_ptr<Backend>> open_kernel_backend(const std::string &dev = "/dev/teevm0");

} // namespace teemed
