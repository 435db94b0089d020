// SPDX-License-Identifier: BSD-2-Clause
// A fuzzer's inputs, replayed without libFuzzer: each file given, or each
// file of each directory given, through LLVMFuzzerTestOneInput once. The
// harness aborts on the first broken invariant; `make check` replays the
// committed seeds this way, under ASan and UBSan, with gcc.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "inputs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
// A harness's own set-up, as libFuzzer calls it (fuzz_kernel's sweep mode).
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		for (const auto &f : teemed::fuzz::input_files(argv[i])) {
			const auto d = teemed::fuzz::read_input(f);
			if (!d) {
				std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
				return 2;
			}
			LLVMFuzzerTestOneInput(d->data(), d->size());
			n++;
		}
	}
	std::printf("replay: %zu inputs, no invariant broken\n", n);
	return n ? 0 : 1;
}
