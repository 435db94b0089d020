// SPDX-License-Identifier: BSD-2-Clause
// /dev/teevm0 of a kernel whose OP-TEE is the model: the series' VM-context
// code in process (tools/model/kernel), file descriptors its open contexts.
// The library's kernel backend runs on it (ModelBackend), and so do the
// fuzzers that play a hostile VMM with raw ioctls.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "optee_model.hpp"
#include "vm_device.hpp"

struct kharness;
struct tee_context;

namespace teemed::model {

class HarnessDevice : public VmDevice {
public:
	explicit HarnessDevice(OpteeModel &optee);
	~HarnessDevice() override;

	int open(int *fd) override;
	int ioctl(int fd, unsigned long req, void *arg) override;
	void close(int fd) override;
	size_t open_files() const;
	// optee_shutdown(): VM_DESTROYED for every context, no SMC after.
	void shutdown();

private:
	struct File;
	static void smc(void *arg, const unsigned long *a, unsigned long a7, unsigned long out[4]);
	std::shared_ptr<File> file(int fd);

	OpteeModel &optee_;
	kharness *h_ = nullptr;
	mutable std::mutex lock_;
	std::map<int, std::shared_ptr<File>> files_;
	int next_fd_ = 3;
};

} // namespace teemed::model
