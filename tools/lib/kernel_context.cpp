// SPDX-License-Identifier: BSD-2-Clause
// The kernel backend: each VM a context of a VmDevice (vm_device.hpp), one
// ioctl per SMC. Its device is /dev/teevm0 (kernel_backend.cpp) or, in the
// tests, the series' own code in process.
#include <cerrno>
#include <memory>

#include "uapi/linux/tee_vm.h"
#include "vm_device.hpp"

namespace teemed {

namespace {

// An open context of a device, closed when it goes.
class Fd {
public:
	Fd(std::shared_ptr<VmDevice> dev, int fd) : dev_(std::move(dev)), fd_(fd) {}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd() { reset(); }
	int ioctl(unsigned long req, void *arg) { return dev_->ioctl(fd_, req, arg); }
	bool open() const { return fd_ >= 0; }
	void reset()
	{
		if (fd_ >= 0)
			dev_->close(fd_);
		fd_ = -1;
	}

private:
	std::shared_ptr<VmDevice> dev_;
	int fd_;
};

// One VM context: an open file of /dev/teevm0, bound to this process.
class KernelContext : public BackendContext {
public:
	KernelContext(std::unique_ptr<Fd> fd, uint32_t id) : fd_(std::move(fd)), id_(id) {}

	uint32_t client_id() const override { return id_; }

	Result<Handle> pin(std::span<const uint64_t> page_vas, uint32_t offset,
			   uint64_t size) override
	{
		tee_ioctl_vm_pin a{};
		a.pages = reinterpret_cast<uint64_t>(page_vas.data());
		a.num_pages = uint32_t(page_vas.size());
		a.offset = offset;
		a.size = size;
		if (int e = fd_->ioctl(TEE_IOC_VM_PIN, &a))
			return make_error(e);
		return a.handle;
	}

	void release(Handle h) override
	{
		// After shutdown the file is closed and the kernel freed it all.
		if (!fd_->open())
			return;
		tee_ioctl_vm_release a{h, 0};
		fd_->ioctl(TEE_IOC_VM_RELEASE, &a);
	}

	Result<CallResult> call(const CallRequest &req) override
	{
		if (!fd_->open())
			return make_error(ESHUTDOWN);
		tee_ioctl_vm_call a{};
		for (int i = 0; i < 8; i++)
			a.regs[i] = req.regs[i];
		a.msg = reinterpret_cast<uint64_t>(req.msg.data());
		a.msg_size = uint32_t(req.msg.size());
		if (int e = fd_->ioctl(TEE_IOC_VM_CALL, &a))
			return make_error(e);
		CallResult out;
		for (int i = 0; i < 4; i++)
			out.regs[i] = a.regs[i];
		out.msg_len = a.msg_size;
		return out;
	}

	// Closing the context is the kernel's destroy: unwind, VM_DESTROYED,
	// then every pin and page freed.
	void shutdown() override { fd_->reset(); }

private:
	std::unique_ptr<Fd> fd_;
	const uint32_t id_;
};

// Each open of the device is a VM context.
class KernelBackend : public Backend {
public:
	explicit KernelBackend(std::shared_ptr<VmDevice> dev) : dev_(std::move(dev)) {}

	Result<std::unique_ptr<BackendContext>> create_vm() override
	{
		int fd;
		if (int e = dev_->open(&fd))
			return make_error(e);
		auto f = std::make_unique<Fd>(dev_, fd);
		tee_ioctl_vm_info info{};
		if (int e = f->ioctl(TEE_IOC_VM_INFO, &info))
			return make_error(e);
		return std::unique_ptr<BackendContext>(new KernelContext(std::move(f), info.client_id));
	}

private:
	std::shared_ptr<VmDevice> dev_;
};

} // namespace

std::unique_ptr<Backend> kernel_backend_on(std::shared_ptr<VmDevice> dev)
{
	return std::make_unique<KernelBackend>(std::move(dev));
}

} // namespace teemed
