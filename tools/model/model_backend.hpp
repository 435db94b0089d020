// SPDX-License-Identifier: BSD-2-Clause
// teemed::Backend in process: the library's kernel backend (the ioctls it
// makes on /dev/teevm0) on the series' own VM-context code, compiled in
// user space (tools/model/kernel), with OP-TEE's model behind it. The tests,
// the fuzzers, the demo and the Python module run the library against it:
// what the kernel refuses, builds, names and keeps is the kernel's code.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "optee_model.hpp"
#include "teemed/backend.hpp"

namespace teemed::model {

struct ModelBackendStats {
	uint64_t objects = 0;      // pages allocated or pinned for OP-TEE, live
	uint64_t pinned_pages = 0; // user pages pinned, live
	uint64_t contexts = 0;     // open VM contexts
};

class HarnessDevice;

class ModelBackend : public Backend {
public:
	explicit ModelBackend(const ModelConfig &cfg = {});
	~ModelBackend() override;

	Result<std::unique_ptr<BackendContext>> create_vm() override;

	OpteeModel &optee() { return optee_; }
	// The kernel's module parameter vm_max_pages, for new contexts.
	void set_max_pages(uint32_t n);
	ModelBackendStats stats() const;
	// Register the host itself as client 1, as the patched host driver
	// does when OP-TEE reports VIRTUALIZATION; it takes a guest slot.
	bool register_host();
	// What OP-TEE's model reported (design.md: none is the only answer).
	std::vector<std::string> reports() const { return optee_.reports(); }

private:
	OpteeModel optee_;
	std::shared_ptr<HarnessDevice> dev_;
	std::unique_ptr<Backend> kernel_;
};

} // namespace teemed::model
