// SPDX-License-Identifier: BSD-2-Clause
// Where the kernel backend's VM contexts live: /dev/teevm0 through the
// system calls, or, for the tests, the kernel's own VM-context code run in
// process (tools/model/kernel). One kernel backend serves both, so the
// tests exercise the ioctls the library really makes.
#pragma once

#include <memory>
#include <string>

#include "teemed/backend.hpp"

namespace teemed {

class VmDevice {
public:
	virtual ~VmDevice() = default;
	// open(2) of the device: a VM context. 0 and its fd, or an errno.
	virtual int open(int *fd) = 0;
	// ioctl(2) on it: 0 or an errno (never EINTR).
	virtual int ioctl(int fd, unsigned long req, void *arg) = 0;
	// The last close(2).
	virtual void close(int fd) = 0;
};

// The device file @path.
std::shared_ptr<VmDevice> system_vm_device(std::string path);
// A kernel backend on @dev: each VM a context.
std::unique_ptr<Backend> kernel_backend_on(std::shared_ptr<VmDevice> dev);

} // namespace teemed
