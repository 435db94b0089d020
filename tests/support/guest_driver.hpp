// SPDX-License-Identifier: BSD-2-Clause
// A guest for C++ tests, fuzzing seeds and benchmarks: RAM with guard
// pages, and the guest side of the SMC ABI (what Linux's OP-TEE driver and
// tee-supplicant do) driving a teemed::Vm. The Python twin is
// tests/python/guest.py.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "guest_ram.hpp"
#include "model_backend.hpp"
#include "optee_abi.hpp"
#include "teemed/vm.hpp"

namespace teemed::test {

using namespace abi;

using model::GuestRam;

inline std::vector<std::byte> ta_image()
{
	std::vector<std::byte> img(64 + 1000);
	std::memcpy(img.data(), model::kTaMagic.data(), 8);
	std::memcpy(img.data() + 8, &model::kTaUuidHi, 8);
	std::memcpy(img.data() + 16, &model::kTaUuidLo, 8);
	return img;
}

class Guest {
public:
	static constexpr uint64_t kIpa = 0x40000000;

	Guest(Backend &be, size_t pages = 512, const Limits &lim = {}, uint64_t label = 0)
	{
		auto vm = Vm::create(be, lim, label);
		if (!vm)
			throw std::runtime_error("Vm::create");
		vm_ = std::move(*vm);
		add_ram(pages);
	}

	// Another region of RAM, right after the last (a page between):
	// its base IPA. The first is at kIpa.
	uint64_t add_ram(size_t pages)
	{
		const uint64_t ipa = rams_.empty() ? kIpa : rams_.back().ipa + rams_.back().ram->size() + kPageSize;
		Ram r{ipa, std::make_unique<GuestRam>(pages * kPageSize), {}};
		for (size_t i = 0; i < pages; i++)
			r.free.push_back(ipa + (pages - 1 - i) * kPageSize);
		vm_->add_region({ipa, r.ram->size(), reinterpret_cast<uint64_t>(r.ram->data())});
		std::lock_guard g(lock_);
		rams_.push_back(std::move(r));
		return ipa;
	}

	Vm &vm() { return *vm_; }
	std::byte *at(uint64_t ipa)
	{
		Ram &r = ram_of(ipa);
		return r.ram->data() + (ipa - r.ipa);
	}
	// The region of RAM that holds @ipa: its base, size and VMM address.
	MemRegion region_of(uint64_t ipa)
	{
		Ram &r = ram_of(ipa);
		return {r.ipa, r.ram->size(), reinterpret_cast<uint64_t>(r.ram->data())};
	}

	// A free page of the region at @region (the first by default).
	uint64_t page(uint64_t region = kIpa)
	{
		uint64_t p;
		{
			std::lock_guard g(lock_);
			auto &free = ram_of(region).free;
			if (free.empty())
				throw std::runtime_error("guest out of pages");
			p = free.back();
			free.pop_back();
		}
		std::memset(at(p), 0, kPageSize);
		return p;
	}
	void put_page(uint64_t p)
	{
		std::lock_guard g(lock_);
		ram_of(p).free.push_back(p);
	}

	SmcRegs smc(SmcRegs r)
	{
		inside_++;
		auto out = vm_->handle_smc(r);
		inside_--;
		if (!out)
			throw std::runtime_error("handle_smc");
		return *out;
	}
	// vCPUs inside handle_smc() now.
	int inside() const { return inside_; }
	// Called where the guest's driver would sleep for OP-TEE (a
	// NOTIFICATION wait): a test's scheduler runs the others.
	std::function<void()> on_wait;

	// A NONCONTIG buffer in the region at @region: returns buf_ptr; pages
	// appended to `owned`.
	uint64_t buffer(const std::vector<std::byte> &data, uint32_t offset,
			std::vector<uint64_t> &owned, uint64_t region = kIpa)
	{
		const size_t n = (offset + data.size() + kPageSize - 1) / kPageSize;
		std::vector<uint64_t> pages;
		for (size_t i = 0; i < n; i++)
			pages.push_back(page(region));
		for (size_t i = 0; i < data.size(); i++) {
			const size_t pos = offset + i;
			*(at(pages[pos / kPageSize]) + pos % kPageSize) = data[i];
		}
		uint64_t first = 0, prev = 0;
		for (size_t i = 0; i < n; i += kPagesPerListPage) {
			const uint64_t lp = page(region);
			auto *l = reinterpret_cast<uint64_t *>(at(lp));
			for (size_t j = 0; j < kPagesPerListPage && i + j < n; j++)
				l[j] = pages[i + j];
			if (prev)
				reinterpret_cast<uint64_t *>(at(prev))[kPagesPerListPage] = lp;
			else
				first = lp;
			prev = lp;
			owned.push_back(lp);
		}
		owned.insert(owned.end(), pages.begin(), pages.end());
		return first | offset;
	}

	// One yielding call with CALL_WITH_ARG, RPCs served. Returns a0; the
	// argument (as the guest sees it afterwards) in `arg`.
	uint64_t call(std::vector<std::byte> &arg)
	{
		const uint64_t p = page();
		std::memcpy(at(p), arg.data(), arg.size());
		SmcRegs out = smc({OPTEE_SMC_CALL_WITH_ARG, 0, p});
		while (is_rpc(out[0]))
			out = serve(out);
		std::memcpy(arg.data(), at(p), arg.size());
		put_page(p);
		return out[0];
	}

	static std::vector<std::byte> msg(uint32_t cmd, std::vector<MsgParam> params,
					  uint32_t func = 0, uint32_t session = 0)
	{
		std::vector<std::byte> b(arg_size(params.size()));
		MsgArgHeader h{cmd, func, session, 0, 0, 0, 0, uint32_t(params.size())};
		std::memcpy(b.data(), &h, sizeof(h));
		if (!params.empty())
			std::memcpy(b.data() + sizeof(h), params.data(), params.size() * sizeof(MsgParam));
		return b;
	}
	static MsgArgHeader header(const std::vector<std::byte> &b)
	{
		MsgArgHeader h;
		std::memcpy(&h, b.data(), sizeof(h));
		return h;
	}
	static MsgParam param(const std::vector<std::byte> &b, size_t i)
	{
		MsgParam p;
		std::memcpy(&p, b.data() + param_off(i), sizeof(p));
		return p;
	}

	uint32_t open_session()
	{
		auto a = msg(OPTEE_MSG_CMD_OPEN_SESSION, {{kAttrValueInput | kAttrMeta, model::kTaUuidHi, model::kTaUuidLo, 0},
					       {kAttrValueInput | kAttrMeta, 0, 0, 0}});
		if (call(a) != OPTEE_SMC_RETURN_OK || header(a).ret != kTeecSuccess)
			throw std::runtime_error("open_session");
		return header(a).session;
	}

	uint64_t add(uint32_t session, uint64_t x, uint64_t y)
	{
		auto a = msg(OPTEE_MSG_CMD_INVOKE_COMMAND, {{kAttrValueInput, x, y, 0}, {kAttrValueOutput, 0, 0, 0}},
			     model::kTaAdd, session);
		if (call(a) != OPTEE_SMC_RETURN_OK || header(a).ret != kTeecSuccess)
			throw std::runtime_error("add");
		return param(a, 1).a;
	}

	// ENABLE_SHM_CACHE, as Linux's driver does at probe: OP-TEE then keeps
	// each thread's RPC argument across calls. a0 back.
	uint64_t enable_shm_cache() { return smc({OPTEE_SMC_ENABLE_SHM_CACHE})[0]; }
	// DISABLE_SHM_CACHE until OP-TEE has no cached buffer left (ENOTAVAIL),
	// freeing each it hands back, as Linux does at remove; EBUSY while a
	// thread is busy. The last a0.
	uint64_t disable_shm_cache()
	{
		for (;;) {
			const SmcRegs out = smc({OPTEE_SMC_DISABLE_SHM_CACHE});
			if (out[0] != OPTEE_SMC_RETURN_OK)
				return out[0];
			free_rpc(reg_pair_to_64(out[1], out[2]));
		}
	}

	// The RPC buffer OP-TEE hands back under @cookie (RPC_FREE, or
	// DISABLE_SHM_CACHE's answer) goes back to the guest's free pages.
	void free_rpc(uint64_t cookie)
	{
		uint64_t p = 0;
		{
			std::lock_guard g(lock_);
			auto it = rpc_.find(cookie);
			if (it != rpc_.end()) {
				p = it->second;
				rpc_.erase(it);
			}
		}
		if (p)
			put_page(p);
	}

	SmcRegs serve(const SmcRegs &out)
	{
		const uint64_t a3 = out[3];
		switch (uint32_t(out[0])) {
		case rpc_val(OPTEE_SMC_RPC_FUNC_ALLOC): {
			const uint64_t p = page();
			uint64_t c;
			{
				// Not held across the SMC: the other vCPUs go on.
				std::lock_guard g(lock_);
				c = ++cookie_;
				rpc_[c] = p;
			}
			return smc({OPTEE_SMC_CALL_RETURN_FROM_RPC, reg_hi(p), reg_lo(p), a3, reg_hi(c), reg_lo(c)});
		}
		case rpc_val(OPTEE_SMC_RPC_FUNC_FREE): {
			free_rpc(reg_pair_to_64(out[1], out[2]));
			return smc({OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, a3});
		}
		case rpc_val(OPTEE_SMC_RPC_FUNC_CMD): {
			uint64_t p;
			{
				std::lock_guard g(lock_);
				auto it = rpc_.find(reg_pair_to_64(out[1], out[2]));
				if (it == rpc_.end())
					throw std::runtime_error("RPC CMD for an unknown argument");
				p = it->second;
			}
			serve_cmd(at(p));
			return smc({OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, a3});
		}
		default:
			return smc({OPTEE_SMC_CALL_RETURN_FROM_RPC, 0, 0, a3});
		}
	}

private:
	void serve_cmd(std::byte *arg)
	{
		MsgArgHeader h;
		std::memcpy(&h, arg, sizeof(h));
		auto prm = [&](size_t i) { return reinterpret_cast<MsgParam *>(arg + param_off(i)); };
		uint32_t ret = kTeecSuccess;
		static const auto img = ta_image();
		if (h.cmd == OPTEE_RPC_CMD_LOAD_TA) {
			MsgParam *m = prm(1);
			if (attr_type(m->attr) == kAttrRmemOutput) {
				std::lock_guard g(lock_);
				auto it = shm_.find(m->c);
				if (it == shm_.end() || m->a > it->second.size)
					throw std::runtime_error("LOAD_TA into an unknown buffer");
				auto &s = it->second;
				// The request's fields live in guest memory a fuzzer may
				// scribble on: stay inside the buffer whatever they say.
				for (size_t i = 0; i < img.size() && m->a + i < s.size; i++) {
					const size_t pos = s.offset + m->a + i;
					*(at(s.pages[pos / kPageSize]) + pos % kPageSize) = img[i];
				}
			}
			m->b = img.size();
		} else if (h.cmd == OPTEE_RPC_CMD_SHM_ALLOC) {
			const uint64_t size = prm(0)->b;
			if (size == 0 || size > (uint64_t(1) << 22))
				throw std::runtime_error("SHM_ALLOC of an unreasonable size");
			std::vector<uint64_t> owned;
			const uint64_t bp = buffer(std::vector<std::byte>(size), 0, owned);
			std::lock_guard g(lock_);
			const uint64_t c = ++cookie_;
			std::vector<uint64_t> data(owned.begin() + (owned.size() - (size + kPageSize - 1) / kPageSize), owned.end());
			shm_[c] = Shm{data, owned, 0, size};
			*prm(0) = MsgParam{kAttrTmemOutput | kAttrNoncontig, bp, size, c};
		} else if (h.cmd == OPTEE_RPC_CMD_SHM_FREE) {
			std::vector<uint64_t> pages;
			{
				std::lock_guard g(lock_);
				auto it = shm_.find(prm(0)->b);
				if (it != shm_.end()) {
					pages = it->second.all;
					shm_.erase(it);
				}
			}
			for (uint64_t p : pages)
				put_page(p);
		} else if (h.cmd == OPTEE_RPC_CMD_NOTIFICATION && prm(0)->a == 0) {
			// Wait: the driver sleeps until another thread of OP-TEE
			// sends the value; here the guest just answers.
			if (on_wait)
				on_wait();
		} else {
			ret = kTeecErrorNotSupported;
		}
		std::memcpy(arg + kOffRet, &ret, sizeof(ret));
	}

	struct Shm {
		std::vector<uint64_t> pages; // data pages
		std::vector<uint64_t> all;   // data + list pages
		uint32_t offset;
		uint64_t size;
	};

	struct Ram {
		uint64_t ipa;
		std::unique_ptr<GuestRam> ram;
		std::vector<uint64_t> free; // its free pages
	};
	Ram &ram_of(uint64_t ipa)
	{
		for (Ram &r : rams_)
			if (ipa >= r.ipa && ipa - r.ipa < r.ram->size())
				return r;
		throw std::runtime_error("not guest RAM");
	}

	std::unique_ptr<Vm> vm_;
	std::mutex lock_;
	std::vector<Ram> rams_;
	std::atomic<int> inside_{0};
	std::map<uint64_t, uint64_t> rpc_;
	std::map<uint64_t, Shm> shm_;
	uint64_t cookie_ = 0x1000;
};

} // namespace teemed::test
