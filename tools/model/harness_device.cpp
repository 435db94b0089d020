// SPDX-License-Identifier: BSD-2-Clause
#include "harness_device.hpp"

#include <stdexcept>

#include "kharness.h"

namespace teemed::model {

using namespace abi;

HarnessDevice::HarnessDevice(OpteeModel &optee) : optee_(optee)
{
	// The probe asked OP-TEE for its capabilities; so does this.
	SmcRegs caps{};
	caps[0] = OPTEE_SMC_EXCHANGE_CAPABILITIES;
	const SmcRegs out = optee_.smc(caps);
	h_ = kharness_new(&HarnessDevice::smc, this, uint32_t(out[1]),
			  (out[1] & kSecCapRpcArg) ? uint32_t(out[3]) : 0, 0);
	if (!h_)
		throw std::runtime_error("kharness_new: no VM contexts");
}

HarnessDevice::~HarnessDevice()
{
	kharness_free(h_);
}

// An open file of the device: released (the context's release()) when
// its last user goes, as a file is: close() while another thread is in an
// ioctl on it leaves the release to that ioctl's end.
struct HarnessDevice::File {
	explicit File(tee_context *c) : ctx(c) {}
	tee_context *ctx;
	File(const File &) = delete;
	File &operator=(const File &) = delete;
	~File() { kharness_close(ctx); }
};

int HarnessDevice::open(int *fd)
{
	tee_context *ctx;
	if (int rc = kharness_open(h_, &ctx))
		return -rc;
	std::lock_guard g(lock_);
	*fd = next_fd_++;
	files_[*fd] = std::make_shared<File>(ctx);
	return 0;
}

int HarnessDevice::ioctl(int fd, unsigned long req, void *arg)
{
	std::shared_ptr<File> f = file(fd);
	return f ? int(-kharness_ioctl(f->ctx, unsigned(req), arg)) : EBADF;
}

void HarnessDevice::close(int fd)
{
	std::shared_ptr<File> f;
	{
		std::lock_guard g(lock_);
		auto it = files_.find(fd);
		if (it == files_.end())
			return;
		f = std::move(it->second);
		files_.erase(it);
	}
}

size_t HarnessDevice::open_files() const
{
	std::lock_guard g(lock_);
	return files_.size();
}

void HarnessDevice::shutdown()
{
	kharness_shutdown(h_);
}

void HarnessDevice::smc(void *arg, const unsigned long *a, unsigned long a7, unsigned long out[4])
{
	auto *self = static_cast<HarnessDevice *>(arg);
	SmcRegs in{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a7};
	const SmcRegs r = self->optee_.smc(in);
	for (int i = 0; i < 4; i++)
		out[i] = r[i];
}

std::shared_ptr<HarnessDevice::File> HarnessDevice::file(int fd)
{
	std::lock_guard g(lock_);
	auto it = files_.find(fd);
	return it == files_.end() ? nullptr : it->second;
}

} // namespace teemed::model
