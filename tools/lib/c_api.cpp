// SPDX-License-Identifier: BSD-2-Clause
// The C ABI over teemed::Vm. No exception crosses it.
#include "c_api.hpp"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <new>

#include "optee_abi.hpp"

using namespace teemed;

static_assert(TEEMED_VERSION_MAJOR == TEEMED_BUILD_VERSION_MAJOR &&
		      TEEMED_VERSION_MINOR == TEEMED_BUILD_VERSION_MINOR &&
		      TEEMED_VERSION_PATCH == TEEMED_BUILD_VERSION_PATCH,
	      "teemed/export.h and the project's version disagree");

extern "C" {

const uint32_t TEEMED_SMCCC_RANGES[TEEMED_SMCCC_NR_RANGES][2] = {
	{0x30000000, 0x10000000}, // yielding, SMC32, owners 48-63
	{0x70000000, 0x10000000}, // yielding, SMC64
	{0xb0000000, 0x10000000}, // fast, SMC32
	{0xf0000000, 0x10000000}, // fast, SMC64
};

int teemed_is_mediated_fid(uint32_t fid) { return abi::is_trusted_range(fid); }

void teemed_ctx_close(teemed_ctx *ctx) { delete ctx; }

void teemed_limits_default(struct teemed_limits *lim)
{
	const Limits d;
	*lim = {d.max_pages_per_buffer, d.max_pinned_pages_per_vm, d.max_buffers_per_vm,
		d.max_rpc_buffers_per_vm, d.max_calls_per_vm};
}

int teemed_vm_create(teemed_ctx *ctx, const struct teemed_limits *lim, uint64_t label,
		     teemed_vm **out)
{
	if (!ctx || !out)
		return -EINVAL;
	Limits l;
	if (lim)
		l = Limits{lim->max_pages_per_buffer, lim->max_pinned_pages_per_vm,
			   lim->max_buffers_per_vm, lim->max_rpc_buffers_per_vm,
			   lim->max_calls_per_vm};
	try {
		auto vm = Vm::create(*ctx->backend, l, label);
		if (!vm)
			return -vm.error();
		*out = new teemed_vm{ctx->backend, std::move(*vm)};
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
}

int teemed_vm_add_region(teemed_vm *vm, uint64_t ipa, uint64_t size, void *host)
{
	if (!vm)
		return -EINVAL;
	auto r = vm->vm->add_region({ipa, size, reinterpret_cast<uint64_t>(host)});
	return r ? 0 : -r.error();
}

int teemed_vm_remove_region(teemed_vm *vm, uint64_t ipa, uint64_t size)
{
	if (!vm)
		return -EINVAL;
	auto r = vm->vm->remove_region(ipa, size);
	return r ? 0 : -r.error();
}

int teemed_vm_handle_smc(teemed_vm *vm, struct teemed_regs *regs)
{
	if (!vm || !regs)
		return -EINVAL;
	try {
		SmcRegs in;
		for (int i = 0; i < 8; i++)
			in[i] = regs->x[i];
		auto out = vm->vm->handle_smc(in);
		if (!out)
			return -out.error();
		for (int i = 0; i < 8; i++)
			regs->x[i] = (*out)[i];
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	}
}

int teemed_vm_set_foreign_intr_budget(teemed_vm *vm, uint32_t usecs)
{
	if (!vm)
		return -EINVAL;
	vm->vm->set_foreign_intr_budget(std::chrono::microseconds(usecs));
	return 0;
}

int teemed_vm_get_stats(teemed_vm *vm, struct teemed_vm_stats *out, size_t size)
{
	if (!vm || !out)
		return -EINVAL;
	const VmStats s = vm->vm->stats();
	const struct teemed_vm_stats all = {
		s.client_id,	    s.fast_calls,   s.yielding_calls,	s.rpc_returns,
		s.rpcs,		    s.rejected,	    s.backend_calls,	s.backend_errors,
		s.pins,		    s.unpins,	    s.pinned_pages,	s.pinned_pages_max,
		s.shm_buffers,	    s.rpc_buffers,  s.live_calls,	s.live_calls_max,
		s.leaked_pages,	    s.unwind_abandoned, s.foreign_intrs_resumed};
	// A caller built against an older teemed.h knows a shorter structure.
	std::memcpy(out, &all, std::min(size, sizeof(all)));
	return 0;
}

} // extern "C"

teemed_ctx *teemed::ctx_from_backend(std::shared_ptr<Backend> backend)
{
	if (!backend)
		return nullptr;
	return new (std::nothrow) teemed_ctx{std::move(backend)};
}

extern "C" {

uint32_t teemed_vm_client_id(const teemed_vm *vm) { return vm ? vm->vm->client_id() : 0; }

void teemed_vm_close(teemed_vm *vm)
{
	if (vm)
		vm->vm->close();
}

void teemed_vm_destroy(teemed_vm *vm)
{
	if (!vm)
		return;
	vm->vm->close();
	delete vm;
}

} // extern "C"
