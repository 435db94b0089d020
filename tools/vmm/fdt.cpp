// SPDX-License-Identifier: BSD-2-Clause
#include "fdt.hpp"

namespace vmm {

namespace {

constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kEnd = 9;

void put32(std::vector<uint8_t> &b, uint32_t v)
{
	for (int s = 24; s >= 0; s -= 8)
		b.push_back(uint8_t(v >> s));
}

void pad4(std::vector<uint8_t> &b)
{
	while (b.size() % 4)
		b.push_back(0);
}

} // namespace

void Fdt::u32(uint32_t v) { put32(st_, v); }

uint32_t Fdt::string_off(const std::string &s)
{
	auto it = string_offs_.find(s);
	if (it != string_offs_.end())
		return it->second;
	const uint32_t off = uint32_t(strings_.size());
	strings_.insert(strings_.end(), s.begin(), s.end());
	strings_.push_back('\0');
	string_offs_[s] = off;
	return off;
}

void Fdt::begin(const std::string &name)
{
	u32(kBeginNode);
	st_.insert(st_.end(), name.begin(), name.end());
	st_.push_back(0);
	pad4(st_);
}

void Fdt::end() { u32(kEndNode); }

void Fdt::raw_prop(const std::string &name, const std::vector<uint8_t> &data)
{
	u32(kProp);
	u32(uint32_t(data.size()));
	u32(string_off(name));
	st_.insert(st_.end(), data.begin(), data.end());
	pad4(st_);
}

void Fdt::prop(const std::string &name, const std::vector<uint32_t> &cells)
{
	std::vector<uint8_t> d;
	for (uint32_t c : cells)
		put32(d, c);
	raw_prop(name, d);
}

void Fdt::prop_u64s(const std::string &name, const std::vector<uint64_t> &vals)
{
	std::vector<uint8_t> d;
	for (uint64_t v : vals) {
		put32(d, uint32_t(v >> 32));
		put32(d, uint32_t(v));
	}
	raw_prop(name, d);
}

void Fdt::prop(const std::string &name, const std::string &str)
{
	std::vector<uint8_t> d(str.begin(), str.end());
	d.push_back(0);
	raw_prop(name, d);
}

void Fdt::prop_strings(const std::string &name, const std::vector<std::string> &strs)
{
	std::vector<uint8_t> d;
	for (const auto &s : strs) {
		d.insert(d.end(), s.begin(), s.end());
		d.push_back(0);
	}
	raw_prop(name, d);
}

void Fdt::prop_empty(const std::string &name) { raw_prop(name, {}); }

std::vector<uint8_t> Fdt::finish()
{
	u32(kEnd);
	const uint32_t hdr = 40, rsv = 16;
	const uint32_t off_struct = hdr + rsv;
	const uint32_t off_strings = off_struct + uint32_t(st_.size());
	const uint32_t total = off_strings + uint32_t(strings_.size());
	std::vector<uint8_t> b;
	for (uint32_t v : {0xd00dfeedu, total, off_struct, off_strings, hdr, 17u, 16u, 0u,
			   uint32_t(strings_.size()), uint32_t(st_.size())})
		put32(b, v);
	b.resize(hdr + rsv, 0); // empty memory reservation map
	b.insert(b.end(), st_.begin(), st_.end());
	b.insert(b.end(), strings_.begin(), strings_.end());
	return b;
}

} // namespace vmm
