// SPDX-License-Identifier: BSD-2-Clause
// teemed::Backend on the OP-TEE model, with the semantics of the kernel's
// VM context (Documentation/design.md): client ids, pins by handle, the
// messages OP-TEE reads built from the library's, every address written
// here, buffers kept while OP-TEE holds them, a quota, an allowlist of
// forwarded SMCs, a7 forced, suspended calls unwound and VM_DESTROYED sent
// on shutdown. Tests run the library against it.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "optee_model.hpp"
#include "teemed/backend.hpp"

namespace teemed::model {

struct ModelBackendStats {
	uint64_t objects = 0;      // live pins + kernel pages, all contexts
	uint64_t pinned_pages = 0; // live, all contexts
	uint64_t contexts = 0;     // live
};

class ModelBackend : public Backend {
public:
	explicit ModelBackend(const ModelConfig &cfg = {});
	~ModelBackend() override;

	Result<std::unique_ptr<BackendContext>> create_vm() override;

	OpteeModel &optee() { return optee_; }
	// The kernel's module parameter vm_max_pages, for new contexts.
	void set_max_pages(uint32_t n) { max_pages_ = n; }
	ModelBackendStats stats() const;
	// Register the host itself as client 1, as the patched host driver
	// does when OP-TEE reports VIRTUALIZATION; it takes a guest slot.
	bool register_host();

private:
	friend class ModelContext;
	OpteeModel optee_;
	mutable std::mutex lock_;
	std::map<uint32_t, bool> ids_; // client ids in use
	ModelBackendStats st_;
	// The kernel's vm_max_pages: pages a context may pin or have allocated.
	uint32_t max_pages_ = TEEMED_LIMIT_KERNEL_MAX_PAGES; // vm_max_pages
};

} // namespace teemed::model
