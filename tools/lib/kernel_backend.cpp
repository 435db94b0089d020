// SPDX-License-Identifier: BSD-2-Clause
#include "teemed/kernel_backend.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <vector>

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

tee_ioctl_vm_xfer to_xfer(const ShadowWrite &w)
{
	return {reinterpret_cast<uint64_t>(w.data.data()), w.shadow, w.offset,
		uint32_t(w.data.size()), TEE_VM_XFER_TO_SHADOW};
}

tee_ioctl_vm_xfer to_xfer(const ShadowRead &r)
{
	return {reinterpret_cast<uint64_t>(r.data.data()), r.shadow, r.offset,
		uint32_t(r.data.size()), TEE_VM_XFER_FROM_SHADOW};
}

class KernelContext : public BackendContext {
public:
	KernelContext(Fd fd, uint32_t id) : fd_(std::move(fd)), id_(id) {}

	uint32_t client_id() const override { return id_; }

	Result<Handle> pin(std::span<const uint64_t> page_vas) override
	{
		tee_ioctl_vm_pin a{reinterpret_cast<uint64_t>(page_vas.data()),
				   uint32_t(page_vas.size()), 0};
		if (int e = xioctl(fd_.get(), TEE_VM_IOC_PIN, &a))
			return make_error(e);
		return a.handle;
	}

	Result<Handle> alloc_shadow() override
	{
		tee_ioctl_vm_shadow a{0, 0};
		if (int e = xioctl(fd_.get(), TEE_VM_IOC_SHADOW, &a))
			return make_error(e);
		return a.handle;
	}

	void release(Handle h) override
	{
		// After shutdown the fd is gone and the kernel freed it all.
		if (fd_.get() < 0)
			return;
		tee_ioctl_vm_release a{h, 0};
		xioctl(fd_.get(), TEE_VM_IOC_RELEASE, &a);
	}

	Result<SmcRegs> call(const CallRequest &req) override
	{
		std::vector<tee_ioctl_vm_xfer> x;
		for (const auto &w : req.writes)
			x.push_back(to_xfer(w));
		for (const auto &r : req.reads)
			x.push_back(to_xfer(r));
		std::vector<tee_ioctl_vm_reloc> rl;
		for (const auto &r : req.relocs)
			rl.push_back({r.object, r.offset, uint32_t(r.target), r.shadow, r.shadow_offset, 0});
		tee_ioctl_vm_call a{};
		for (int i = 0; i < 8; i++)
			a.regs[i] = req.regs[i];
		a.xfers = reinterpret_cast<uint64_t>(x.data());
		a.num_xfers = uint32_t(x.size());
		a.relocs = reinterpret_cast<uint64_t>(rl.data());
		a.num_relocs = uint32_t(rl.size());
		if (fd_.get() < 0)
			return make_error(ESHUTDOWN);
		if (int e = xioctl(fd_.get(), TEE_VM_IOC_CALL, &a))
			return make_error(e);
		SmcRegs out{};
		for (int i = 0; i < 4; i++)
			out[i] = a.regs[i];
		return out;
	}

	Result<void> transfer(std::span<const ShadowWrite> writes,
			      std::span<const ShadowRead> reads) override
	{
		std::vector<tee_ioctl_vm_xfer> x;
		for (const auto &w : writes)
			x.push_back(to_xfer(w));
		for (const auto &r : reads)
			x.push_back(to_xfer(r));
		tee_ioctl_vm_xfers a{reinterpret_cast<uint64_t>(x.data()), uint32_t(x.size()), 0};
		if (fd_.get() < 0)
			return make_error(ESHUTDOWN);
		if (int e = xioctl(fd_.get(), TEE_VM_IOC_XFER, &a))
			return make_error(e);
		return {};
	}

	// Closing the context fd is the kernel's destroy: unwind, VM_DESTROYED,
	// then every pin and shadow freed.
	void shutdown() override { fd_.reset(); }

private:
	Fd fd_;
	const uint32_t id_;
};

class KernelBackend : public Backend {
public:
	explicit KernelBackend(Fd dev) : dev_(std::move(dev)) {}

	Result<std::unique_ptr<BackendContext>> create_vm() override
	{
		tee_ioctl_vm_create a{0, 0, 0, 0};
		int fd;
		do
			fd = ::ioctl(dev_.get(), TEE_IOC_VM_CREATE, &a);
		while (fd < 0 && errno == EINTR);
		if (fd < 0)
			return make_error(errno);
		return std::unique_ptr<BackendContext>(new KernelContext(Fd(fd), a.client_id));
	}

private:
	Fd dev_;
};

} // namespace

Result<std::unique_ptr<Backend>> open_kernel_backend(const std::string &dev)
{
	int fd = ::open(dev.c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return make_error(errno);
	return std::unique_ptr<Backend>(new KernelBackend(Fd(fd)));
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
