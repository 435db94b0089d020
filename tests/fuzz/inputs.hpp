// SPDX-License-Identifier: BSD-2-Clause
// A fuzzer's inputs on disk, as the replay runner and fuzz_kernel's sweep
// read them: a file, or each file of a directory, in name order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <vector>

namespace teemed::fuzz {

inline std::vector<std::filesystem::path> input_files(const std::filesystem::path &p)
{
	std::vector<std::filesystem::path> files;
	if (std::filesystem::is_directory(p)) {
		for (const auto &e : std::filesystem::directory_iterator(p))
			if (e.is_regular_file())
				files.push_back(e.path());
	} else {
		files.push_back(p);
	}
	std::sort(files.begin(), files.end());
	return files;
}

// Its bytes, or nothing if it cannot be read.
inline std::optional<std::vector<uint8_t>> read_input(const std::filesystem::path &f)
{
	std::ifstream in(f, std::ios::binary);
	std::vector<uint8_t> d((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	if (!in.good() && !in.eof())
		return std::nullopt;
	return d;
}

} // namespace teemed::fuzz
