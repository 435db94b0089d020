// SPDX-License-Identifier: BSD-2-Clause
#include "teemed/kernel_backend.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>

#include "c_api.hpp"
#include "uapi/linux/tee_vm.h"

namespace teemed {

namespace {

// An fd, closed when it goes.
class Fd {
public:
	explicit Fd(int fd = -1) : fd_(fd) {}
	Fd(Fd &&o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd() { reset(); }
	int get() const { return fd_; }
	void reset()
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = -1;
	}

private:
	int fd_;
};

int xioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do
		r = ::ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r < 0 ? errno : 0;
}

// One VM context: an open file of /dev/teevm0, bound to this process.
class KernelContext : public BackendContext {
public:
	KernelContext(Fd fd, uint32_t id) : fd_(std::move(fd)), id_(id) {}

	uint32_t client_id() const override { return id_; }

	Result<Handle> pin(std::span<const uint64_t> page_vas, uint32_t offset,
			   uint64_t size) override
	{
		tee_ioctl_vm_pin a{};
		a.pages = reinterpret_cast<uint64_t>(page_vas.data());
		a.num_pages = uint32_t(page_vas.size());
		a.offset = offset;
		a.size = size;
		if (int e = xioctl(fd_.get(), TEE_IOC_VM_PIN, &a))
			return make_error(e);
		return a.handle;
	}

	void release(Handle h) override
	{
		// After shutdown the file is closed and the kernel freed it all.
		if (fd_.get() < 0)
			return;
		tee_ioctl_vm_release a{h, 0};
		xioctl(fd_.get(), TEE_IOC_VM_RELEASE, &a);
	}

	Result<CallResult> call(const CallRequest &req) override
	{
		if (fd_.get() < 0)
			return make_error(ESHUTDOWN);
		tee_ioctl_vm_call a{};
		for (int i = 0; i < 8; i++)
			a.regs[i] = req.regs[i];
		a.msg = reinterpret_cast<uint64_t>(req.msg.data());
		a.msg_size = uint32_t(req.msg.size());
		if (int e = xioctl(fd_.get(), TEE_IOC_VM_CALL, &a))
			return make_error(e);
		CallResult out;
		for (int i = 0; i < 4; i++)
			out.regs[i] = a.regs[i];
		out.msg_len = a.msg_size;
		return out;
	}

	// Closing the context is the kernel's destroy: unwind, VM_DESTROYED,
	// then every pin and page freed.
	void shutdown() override { fd_.reset(); }

private:
	Fd fd_;
	const uint32_t id_;
};

// Each open of /dev/teevm0 is a VM context.
class KernelBackend : public Backend {
public:
	explicit KernelBackend(std::string dev) : dev_(std::move(dev)) {}

	Result<std::unique_ptr<BackendContext>> create_vm() override
	{
		Fd fd(::open(dev_.c_str(), O_RDWR | O_CLOEXEC));
		if (fd.get() < 0)
			return make_error(errno);
		tee_ioctl_vm_info info{};
		if (int e = xioctl(fd.get(), TEE_IOC_VM_INFO, &info))
			return make_error(e);
		return std::unique_ptr<BackendContext>(new KernelContext(std::move(fd), info.client_id));
	}

private:
	std::string dev_;
};

} // namespace

Result<std::unique_ptr<Backend>> open_kernel_backend(const std::string &dev)
{
	// Fail early with a clear errno (ENOENT: no virtualized OP-TEE or no
	// patched driver; EACCES: not granted to us), without opening it:
	// each open is a VM context, a client OP-TEE has room for few of.
	if (::access(dev.c_str(), R_OK | W_OK) < 0)
		return make_error(errno);
	return std::unique_ptr<Backend>(new KernelBackend(dev));
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
