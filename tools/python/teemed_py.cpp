// SPDX-License-Identifier: BSD-2-Clause
// Python bindings: the same API as the C++ one, for tests and scripting.
// Errors become OSError with the errno.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <sys/mman.h>

#include <cstring>
#include <string>

#include "guest_ram.hpp"
#include "model_backend.hpp"
#include "teemed/kernel_backend.hpp"
#include "optee_abi.hpp"
#include "teemed/vm.hpp"

namespace py = pybind11;
using namespace teemed;

namespace {

// OSError(errno, "strerror: what"), as Python's own system calls raise.
[[noreturn]] void raise_errno(int e, const char *what)
{
	const std::string msg = std::string(std::strerror(e)) + ": " + what;
	PyErr_SetObject(PyExc_OSError, py::make_tuple(e, msg).ptr());
	throw py::error_already_set();
}

// Guest RAM for tests: an anonymous mapping with an inaccessible guard page
// on each side, so a mediator access outside it faults instead of reading
// neighbouring host memory.
// The model's guest RAM, with byte access for Python.
class PyGuestRam {
public:
	explicit PyGuestRam(size_t size) : ram_(size) {}
	uint64_t address() const { return reinterpret_cast<uint64_t>(ram_.data()); }
	size_t size() const { return ram_.size(); }
	py::bytes read(size_t off, size_t len) const
	{
		check(off, len);
		return py::bytes(reinterpret_cast<const char *>(ram_.data() + off), len);
	}
	void write(size_t off, py::bytes data)
	{
		std::string s = data;
		check(off, s.size());
		std::memcpy(ram_.data() + off, s.data(), s.size());
	}

private:
	void check(size_t off, size_t len) const
	{
		if (off > ram_.size() || len > ram_.size() - off)
			throw py::index_error("outside guest RAM");
	}
	model::GuestRam ram_;
};

py::dict stats_dict(const VmStats &s)
{
	py::dict d;
	d["client_id"] = s.client_id;
	d["fast_calls"] = s.fast_calls;
	d["yielding_calls"] = s.yielding_calls;
	d["rpc_returns"] = s.rpc_returns;
	d["rpcs"] = s.rpcs;
	d["rejected"] = s.rejected;
	d["backend_calls"] = s.backend_calls;
	d["backend_errors"] = s.backend_errors;
	d["pins"] = s.pins;
	d["unpins"] = s.unpins;
	d["pinned_pages"] = s.pinned_pages;
	d["pinned_pages_max"] = s.pinned_pages_max;
	d["shm_buffers"] = s.shm_buffers;
	d["rpc_buffers"] = s.rpc_buffers;
	d["live_calls"] = s.live_calls;
	d["live_calls_max"] = s.live_calls_max;
	d["leaked_pages"] = s.leaked_pages;
	d["unwind_abandoned"] = s.unwind_abandoned;
	d["foreign_intrs_resumed"] = s.foreign_intrs_resumed;
	return d;
}

// A Vm keeps its backend alive.
struct PyVm {
	std::shared_ptr<Backend> backend;
	std::unique_ptr<Vm> vm;
};

} // namespace

PYBIND11_MODULE(teemed, m)
{
	m.doc() = "teemed: OP-TEE mediation for KVM guests";

	py::class_<Limits>(m, "Limits")
		.def(py::init<>())
		.def_readwrite("max_pages_per_buffer", &Limits::max_pages_per_buffer)
		.def_readwrite("max_pinned_pages_per_vm", &Limits::max_pinned_pages_per_vm)
		.def_readwrite("max_buffers_per_vm", &Limits::max_buffers_per_vm)
		.def_readwrite("max_rpc_buffers_per_vm", &Limits::max_rpc_buffers_per_vm)
		.def_readwrite("max_calls_per_vm", &Limits::max_calls_per_vm);

	py::class_<Backend, std::shared_ptr<Backend>>(m, "Backend");

	py::class_<model::ModelBackend, Backend, std::shared_ptr<model::ModelBackend>>(m, "ModelBackend")
		.def(py::init([](uint32_t threads, uint32_t max_guests, bool rpc_arg) {
			     model::ModelConfig c;
			     c.threads = threads;
			     c.max_guests = max_guests;
			     c.rpc_arg = rpc_arg;
			     return std::make_shared<model::ModelBackend>(c);
		     }),
		     py::arg("threads") = 8, py::arg("max_guests") = 8, py::arg("rpc_arg") = true)
		.def("register_host", &model::ModelBackend::register_host)
		.def("smc_hypervisor", [](model::ModelBackend &b, std::vector<uint64_t> r) {
			SmcRegs in{};
			for (size_t i = 0; i < std::min<size_t>(8, r.size()); i++)
				in[i] = r[i];
			SmcRegs out = b.optee().smc(in);
			return std::vector<uint64_t>(out.begin(), out.end());
		})
		.def("stats", [](model::ModelBackend &b) {
			auto s = b.stats();
			py::dict d;
			d["objects"] = s.objects;
			d["pinned_pages"] = s.pinned_pages;
			d["contexts"] = s.contexts;
			d["guests"] = b.optee().guests();
			d["suspended_threads"] = b.optee().suspended_threads();
			d["ta_loads"] = b.optee().ta_loads();
			d["phys_pages"] = b.optee().phys().pages();
			return d;
		})
		.def("registered_shm", [](model::ModelBackend &b, uint32_t c) { return b.optee().registered_shm(c); })
		.def("sessions", [](model::ModelBackend &b, uint32_t c) { return b.optee().sessions(c); })
		// What OP-TEE's model saw that it must not: pages it touched
		// that were not the client's at that moment, panics.
		.def("reports", &model::ModelBackend::reports);

	m.def("open_kernel_backend", [](const std::string &dev) {
		auto b = open_kernel_backend(dev);
		if (!b)
			raise_errno(b.error(), dev.c_str());
		return std::shared_ptr<Backend>(std::move(*b));
	}, py::arg("dev") = "/dev/teevm0");

	py::class_<PyGuestRam>(m, "GuestRam")
		.def(py::init<size_t>())
		.def_property_readonly("address", &PyGuestRam::address)
		.def_property_readonly("size", &PyGuestRam::size)
		.def("read", &PyGuestRam::read)
		.def("write", &PyGuestRam::write);

	py::class_<PyVm>(m, "Vm")
		.def(py::init([](std::shared_ptr<Backend> be, const Limits &lim, uint64_t label) {
			     auto vm = Vm::create(*be, lim, label);
			     if (!vm)
				     raise_errno(vm.error(), "Vm.create");
			     return PyVm{be, std::move(*vm)};
		     }),
		     py::arg("backend"), py::arg("limits") = Limits{}, py::arg("label") = 0)
		.def("add_region", [](PyVm &v, uint64_t ipa, uint64_t size, uint64_t host) {
			auto r = v.vm->add_region({ipa, size, host});
			if (!r)
				raise_errno(r.error(), "add_region");
		})
		.def("remove_region", [](PyVm &v, uint64_t ipa, uint64_t size) {
			auto r = v.vm->remove_region(ipa, size);
			if (!r)
				raise_errno(r.error(), "remove_region");
		})
		.def("smc", [](PyVm &v, std::vector<uint64_t> regs) {
			if (regs.size() > 8)
				throw py::value_error("at most 8 registers");
			SmcRegs in{};
			for (size_t i = 0; i < regs.size(); i++)
				in[i] = regs[i];
			Result<SmcRegs> out = [&] {
				py::gil_scoped_release nogil;
				return v.vm->handle_smc(in);
			}();
			if (!out)
				raise_errno(out.error(), "handle_smc");
			return std::vector<uint64_t>(out->begin(), out->end());
		})
		.def("close", [](PyVm &v) {
			py::gil_scoped_release nogil;
			v.vm->close();
		})
		.def("set_foreign_intr_budget", [](PyVm &v, uint32_t usecs) {
			v.vm->set_foreign_intr_budget(std::chrono::microseconds(usecs));
		}, py::arg("usecs"))
		.def("stats", [](PyVm &v) { return stats_dict(v.vm->stats()); })
		.def_property_readonly("client_id", [](PyVm &v) { return v.vm->client_id(); })
		.def_property_readonly("label", [](PyVm &v) { return v.vm->label(); });
}
