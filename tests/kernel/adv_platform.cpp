// SPDX-License-Identifier: BSD-2-Clause
// kernel/tests/adversarial-vmm.c in process: the board's attacks, written
// once, against the series' own code (tools/model/kernel) and OP-TEE's model,
// under ASan. Passes when every check passes and OP-TEE's model reported
// nothing: it touched no page the attacked context did not own at that
// moment, and did not panic.
//
// ADV_RECORD=DIR writes each attack's ioctls, from the context's open, as a
// seed of fuzz_kernel in its input language (tests/fuzz/kernel_ops.hpp):
// DIR/<attack> (make fuzz-seeds).
#include "adv_platform.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness_device.hpp"
#include "kernel_ops.hpp"
#include "kshim_runtime.h"

using namespace teemed;

namespace {

model::OpteeModel *g_optee;
model::HarnessDevice *g_dev;
std::string g_ta_dir;

// The ioctls of an attack, as fuzz_kernel's input.
class Recorder {
public:
	void open(int fd) { add({Ev::Open, fd}); }
	void close(int fd) { add({Ev::Close, fd}); }

	void ioctl(int fd, unsigned long req, const void *arg)
	{
		Ev e{Ev::Info, fd};
		if (req == TEE_IOC_VM_PIN) {
			const auto *a = static_cast<const tee_ioctl_vm_pin *>(arg);
			e.kind = Ev::Pin;
			const auto *va = reinterpret_cast<const uint64_t *>(a->pages);
			for (uint32_t i = 0; va && a->num_pages <= fuzz::kMaxRawPages &&
					     i < a->num_pages; i++)
				e.pin.pages.push_back(page_index(va[i]));
			e.pin.offset = a->offset;
			e.pin.size = a->size;
			e.pin.flags = a->flags;
		} else if (req == TEE_IOC_VM_RELEASE) {
			e.kind = Ev::Release;
			e.release.a = *static_cast<const tee_ioctl_vm_release *>(arg);
		} else if (req == TEE_IOC_VM_CALL) {
			e.kind = Ev::Call;
			e.call.a = *static_cast<const tee_ioctl_vm_call *>(arg);
			const auto *m = reinterpret_cast<const uint8_t *>(e.call.a.msg);
			if (m)
				e.call.msg.assign(m, m + std::min(e.call.a.msg_size, fuzz::kMaxMsg));
			// The buffer the fuzzer hands over is zeroed past these.
			while (!e.call.msg.empty() && !e.call.msg.back())
				e.call.msg.pop_back();
			e.call.a.msg = m != nullptr;
			e.call.a.msg_size = std::min(e.call.a.msg_size, fuzz::kMaxMsg);
		}
		add(e);
	}

	// An attack begins (@name), or they are over (nullptr): the one
	// before is written, after the ioctls that came before the first.
	void attack(const char *name)
	{
		std::lock_guard g(lock_);
		if (!attack_.empty())
			write(attack_);
		if (attack_.empty() && !done_)
			prologue_ = std::move(ops_);
		if (!name) {
			done_ = true;
			prologue_.clear();
		}
		ops_.clear();
		attack_ = name ? name : "";
	}

	std::string dir;

private:
	struct Ev {
		enum Kind { Open, Close, Pin, Release, Call, Info } kind;
		int fd;
		fuzz::RawPin pin{};
		fuzz::RawRelease release{};
		fuzz::RawCall call{};
	};

	void add(Ev e)
	{
		std::lock_guard g(lock_);
		ops_.push_back(std::move(e));
	}

	uint8_t page_index(uint64_t va)
	{
		std::lock_guard g(pages_lock_);
		const uint64_t page = va / 4096;
		auto [it, fresh] = pages_.try_emplace(page, uint8_t(pages_.size() % fuzz::kArenaPages));
		return it->second;
	}

	// The steps, each context in a slot of its own while it is open.
	void write(const std::string &name)
	{
		fuzz::Writer w;
		fuzz::Head head; // adv_main's model: 4 threads, RPC_ARG, no interrupt
		head.io(w);
		std::map<int, uint8_t> slots;
		int steps = 0;
		auto step = [&](const Ev &e) {
			if (e.kind == Ev::Open) {
				for (uint8_t s = 0; s < fuzz::kSlots; s++) {
					bool used = false;
					for (auto &[fd, t] : slots)
						used |= t == s;
					if (!used) {
						slots[e.fd] = s;
						fuzz::step_io(w, s);
						return true;
					}
				}
				return false;
			}
			auto it = slots.find(e.fd);
			if (it == slots.end())
				return false;
			fuzz::step_io(w, it->second);
			Ev x = e;
			uint8_t op;
			switch (e.kind) {
			case Ev::Close:
				op = fuzz::kClose;
				fuzz::op_io(w, op);
				slots.erase(it);
				break;
			case Ev::Pin:
				op = fuzz::kRawPin;
				fuzz::op_io(w, op);
				x.pin.io(w);
				break;
			case Ev::Release:
				op = fuzz::kRawRelease;
				fuzz::op_io(w, op);
				x.release.io(w);
				break;
			case Ev::Call:
				op = fuzz::kRawCall;
				fuzz::op_io(w, op);
				x.call.io(w);
				break;
			default:
				op = fuzz::kRawInfo;
				fuzz::op_io(w, op);
			}
			return true;
		};
		for (const auto *ops : {&prologue_, &ops_})
			for (const Ev &e : *ops)
				if (steps < fuzz::kMaxSteps && step(e))
					steps++;
		const auto data = w.data();
		FILE *f = fopen((dir + "/" + name).c_str(), "w");
		if (!f || fwrite(data.data(), 1, data.size(), f) != data.size() || fclose(f)) {
			perror("adversarial-vmm: seed");
			exit(2);
		}
	}

	std::mutex lock_;
	std::vector<Ev> prologue_, ops_;
	std::string attack_;
	bool done_ = false;
	std::mutex pages_lock_;
	std::map<uint64_t, uint8_t> pages_; // the VMM's pages by arena index
};

Recorder *g_rec;

// os_test's image as the model's TA store checks it: magic and uuid.
void write_ta(const char *name, uint64_t hi, uint64_t lo)
{
	std::string img(model::kTaMagic.begin(), model::kTaMagic.end());
	img.append(reinterpret_cast<const char *>(&hi), 8);
	img.append(reinterpret_cast<const char *>(&lo), 8);
	img.append(40, '\0');
	FILE *f = fopen((g_ta_dir + "/" + name).c_str(), "w");
	if (!f || fwrite(img.data(), img.size(), 1, f) != 1 || fclose(f)) {
		perror("adversarial-vmm: TA image");
		exit(2);
	}
}

} // namespace

extern "C" int adv_open(void)
{
	int fd;
	const int e = g_dev->open(&fd);
	if (!e && g_rec)
		g_rec->open(fd);
	return e ? -e : fd;
}

extern "C" int adv_ioctl(int fd, unsigned long req, void *arg)
{
	if (g_rec)
		g_rec->ioctl(fd, req, arg);
	return -g_dev->ioctl(fd, req, arg);
}

extern "C" void adv_close(int fd)
{
	if (g_rec)
		g_rec->close(fd);
	g_dev->close(fd);
}

extern "C" void adv_attack(const char *name)
{
	if (g_rec)
		g_rec->attack(name);
}

extern "C" uint64_t adv_phys_of(const void *va)
{
	return kshim_phys_foreign(va);
}

extern "C" long adv_pinned_kb(void)
{
	return kshim_current_pinned_vm() * 4;
}

extern "C" int adv_param(const char *name, unsigned int value, unsigned int *old)
{
	unsigned int was;
	if (int rc = kshim_get_param(name, &was))
		return rc;
	kshim_set_param(name, value);
	if (old)
		*old = was;
	return 0;
}

// Another process: a thread with an address space of its own.
extern "C" int adv_child(int (*fn)(void *), void *arg)
{
	int st = -1;
	std::thread t([&] {
		struct mm_struct *mm = kshim_new_mm();
		kshim_set_task(mm, 0, ~0ull);
		st = fn(arg);
		kshim_set_task(nullptr, 0, ~0ull);
		kshim_exit_mm(mm);
	});
	t.join();
	return st;
}

extern "C" int adv_drop_cap(int cap)
{
	kshim_drop_cap(cap);
	return 0;
}

extern "C" int adv_set_memlock(unsigned long bytes)
{
	kshim_set_memlock(bytes / 4096);
	return 0;
}

extern "C" const char *adv_ta_dir(void)
{
	return g_ta_dir.c_str();
}

extern "C" long adv_log_mark(void)
{
	struct kshim_stats st;
	kshim_stats(&st);
	return long(st.warnings);
}

extern "C" int adv_log_warned(long mark)
{
	struct kshim_stats st;
	kshim_stats(&st);
	return long(st.warnings) > mark;
}

extern "C" int adv_main(void);

int main()
{
	char dir[] = "/tmp/adversarial-vmm.XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	g_ta_dir = dir;
	// os_test (5b9e0e40-2636-11e1-ad9e-0002a5d5c51b)
	write_ta("5b9e0e40-2636-11e1-ad9e-0002a5d5c51b.ta", model::kOsTestHi, model::kOsTestLo);

	model::ModelConfig cfg;
	cfg.threads = 4;
	cfg.max_guests = 2; // Debian's CFG_VIRT_GUEST_COUNT, the host's slot taken below
	// OP-TEE as the board runs it: with optee/patches/0003 unless told
	// otherwise (ADV_OPTEE_FIXED=0 shows the panic the fix prevents).
	setenv("ADV_OPTEE_FIXED", "1", 0);
	cfg.pta_null_memref_panics = strcmp(getenv("ADV_OPTEE_FIXED"), "1") != 0;
	model::OpteeModel optee(cfg);
	model::HarnessDevice dev(optee);
	SmcRegs host{};
	host[0] = OPTEE_SMC_VM_CREATED;
	host[1] = 1; // the host, client 1
	optee.smc(host);
	g_optee = &optee;
	g_dev = &dev;
	Recorder rec;
	if (const char *d = getenv("ADV_RECORD")) {
		rec.dir = d;
		g_rec = &rec;
	}

	const int rc = adv_main();

	const auto reports = optee.reports();
	for (const auto &r : reports)
		printf("adversarial-vmm: FAIL: OP-TEE's model: %s\n", r.c_str());
	std::string cmd = "rm -rf " + g_ta_dir;
	if (system(cmd.c_str())) {
	}
	return rc || !reports.empty();
}
