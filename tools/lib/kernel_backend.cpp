// SPDX-License-Identifier: BSD-2-Clause
// The kernel backend on /dev/teevm0 (its contexts: kernel_context.cpp).
#include "teemed/kernel_backend.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>

#include "c_api.hpp"
#include "vm_device.hpp"

namespace teemed {

namespace {

// /dev/teevm0 through the system calls.
class SystemVmDevice : public VmDevice {
public:
	explicit SystemVmDevice(std::string path) : path_(std::move(path)) {}
	int open(int *fd) override
	{
		*fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
		return *fd < 0 ? errno : 0;
	}
	int ioctl(int fd, unsigned long req, void *arg) override
	{
		int r;
		do
			r = ::ioctl(fd, req, arg);
		while (r < 0 && errno == EINTR);
		return r < 0 ? errno : 0;
	}
	void close(int fd) override { ::close(fd); }

private:
	std::string path_;
};

} // namespace

std::shared_ptr<VmDevice> system_vm_device(std::string path)
{
	return std::make_shared<SystemVmDevice>(std::move(path));
}

Result<std::unique_ptr<Backend>> open_kernel_backend(const std::string &dev)
{
	// Fail early with a clear errno (ENOENT: no virtualized OP-TEE or no
	// patched driver; EACCES: not granted to us), without opening it:
	// each open is a VM context, a client OP-TEE has room for few of.
	if (::access(dev.c_str(), R_OK | W_OK) < 0)
		return make_error(errno);
	return kernel_backend_on(system_vm_device(dev));
}

} // namespace teemed

extern "C" int teemed_ctx_open_kernel(const char *dev, teemed_ctx **out)
{
	if (!out)
		return -EINVAL;
	try {
		auto be = teemed::open_kernel_backend(dev ? dev : "/dev/teevm0");
		if (!be)
			return -be.error();
		*out = new teemed_ctx{std::shared_ptr<teemed::Backend>(std::move(*be))};
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
}
