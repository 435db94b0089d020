// SPDX-License-Identifier: BSD-2-Clause
// A fuzzer's inputs, replayed without libFuzzer: each file given, or each
// file of each directory given, through LLVMFuzzerTestOneInput once. The
// harness aborts on the first broken invariant; `make check` replays the
// committed seeds this way, under ASan and UBSan, with gcc.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
// A harness's own set-up, as libFuzzer calls it (fuzz_kernel's sweep mode).
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	namespace fs = std::filesystem;
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		std::vector<fs::path> files;
		if (fs::is_directory(argv[i])) {
			for (const auto &e : fs::directory_iterator(argv[i]))
				if (e.is_regular_file())
					files.push_back(e.path());
		} else {
			files.emplace_back(argv[i]);
		}
		std::sort(files.begin(), files.end());
		for (const auto &f : files) {
			std::ifstream in(f, std::ios::binary);
			std::vector<uint8_t> d((std::istreambuf_iterator<char>(in)),
					       std::istreambuf_iterator<char>());
			if (!in.good() && !in.eof()) {
				std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
				return 2;
			}
			LLVMFuzzerTestOneInput(d.data(), d.size());
			n++;
		}
	}
	std::printf("replay: %zu inputs, no invariant broken\n", n);
	return n ? 0 : 1;
}
