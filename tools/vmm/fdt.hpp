// SPDX-License-Identifier: BSD-2-Clause
// A flattened device tree writer: just enough to describe a small virt
// machine (no libfdt needed in a static arm64 binary).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vmm {

class Fdt {
public:
	void begin(const std::string &name);
	void end();
	void prop(const std::string &name, const std::vector<uint32_t> &cells);
	void prop(const std::string &name, const std::string &str);
	void prop_strings(const std::string &name, const std::vector<std::string> &strs);
	void prop_u64s(const std::string &name, const std::vector<uint64_t> &vals);
	void prop_empty(const std::string &name);
	// The finished blob (big endian, version 17).
	std::vector<uint8_t> finish();

private:
	void raw_prop(const std::string &name, const std::vector<uint8_t> &data);
	void u32(uint32_t v);
	uint32_t string_off(const std::string &s);

	std::vector<uint8_t> st_;
	std::vector<char> strings_;
	std::map<std::string, uint32_t> string_offs_;
};

} // namespace vmm
