// SPDX-License-Identifier: BSD-2-Clause
// The library's kernel backend on the series' VM-context code in process.
#include "model_backend.hpp"

#include <map>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "kshim_runtime.h"
#include "harness_device.hpp"

namespace teemed::model {

using namespace abi;

ModelBackend::ModelBackend(const ModelConfig &cfg)
	: optee_(cfg), dev_(std::make_shared<HarnessDevice>(optee_)),
	  kernel_(kernel_backend_on(dev_))
{
}

// What OP-TEE's model reported is a failure wherever the backend served:
// a test, the demo, a fuzzer. None may pass unseen.
ModelBackend::~ModelBackend()
{
	const auto reports = optee_.reports();
	if (reports.empty())
		return;
	for (const auto &r : reports)
		fprintf(stderr, "teemed model: OP-TEE's model reported: %s\n", r.c_str());
	abort();
}

Result<std::unique_ptr<BackendContext>> ModelBackend::create_vm()
{
	return kernel_->create_vm();
}

void ModelBackend::set_max_pages(uint32_t n)
{
	kshim_set_param("vm_max_pages", n);
}

ModelBackendStats ModelBackend::stats() const
{
	struct kshim_stats st;
	kshim_stats(&st);
	ModelBackendStats s;
	s.objects = st.kernel_pages + st.user_pages;
	s.pinned_pages = st.user_pages;
	s.contexts = dev_->open_files();
	return s;
}

bool ModelBackend::register_host()
{
	SmcRegs in{};
	in[0] = OPTEE_SMC_VM_CREATED;
	in[1] = 1; // OPTEE_SMC_HOST_CLIENT_ID, from the hypervisor (a7 = 0)
	return optee_.smc(in)[0] == OPTEE_SMC_RETURN_OK;
}

} // namespace teemed::model
