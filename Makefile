# teemed — top-level make interface. Targets here are relied on by other
# tooling: keep their names and meaning.
#
#   make deps        install everything (Debian packages, apt sources)
#   make run         the main job (see README.md)
#   make check       the test suite: C++ + pytest under ASan+UBSan, TSan
#   make kernel-check / make e2e-smoke / make e2e-full / make fuzz / make bench
#
# Build trees live in build/ (git-ignored); big third-party builds are cached
# outside the repository, under $(TEEMED_CACHE).

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

TEEMED_CACHE ?= /var/cache/teemed
export TEEMED_CACHE

PYTHON := /usr/bin/python3
BUILD := build
JOBS ?= 2
CMAKE_FLAGS ?=

ASAN_RT := $(shell gcc -print-file-name=libasan.so)
STDCXX_RT := $(shell gcc -print-file-name=libstdc++.so)

.PHONY: all deps build arm64 fuzz bench run demo e2e-smoke e2e-full e2e-drills check check-asan check-tsan check-py check-cpp clean \
	kernel-check e2e-smoke e2e-full fuzz bench

all: build

deps:
	bash scripts/deps-host.sh
	$(MAKE) board-deps kernel-deps bpf-deps

$(BUILD)/release/Makefile:
	cmake -S tools -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

$(BUILD)/asan/Makefile:
	cmake -S tools -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DTEEMED_SANITIZE=ON $(CMAKE_FLAGS)

$(BUILD)/tsan/Makefile:
	cmake -S tools -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEEMED_TSAN=ON \
		-DTEEMED_PYTHON=OFF $(CMAKE_FLAGS)

$(BUILD)/fuzz/Makefile:
	CC=clang CXX=clang++ cmake -S tools -B $(BUILD)/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTEEMED_FUZZ=ON -DTEEMED_PYTHON=OFF -DTEEMED_TESTS=OFF $(CMAKE_FLAGS)

$(BUILD)/arm64/Makefile:
	cmake -S tools -B $(BUILD)/arm64 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_TOOLCHAIN_FILE=$(abspath tools/cmake/aarch64.cmake) \
		-DTEEMED_VMM=ON -DTEEMED_PYTHON=OFF -DTEEMED_TESTS=OFF $(CMAKE_FLAGS)

# arm64 binaries for the board: the reference VMM (static).
arm64: $(BUILD)/arm64/Makefile
	nice $(MAKE) -C $(BUILD)/arm64 -j$(JOBS) teemed-vmm

build: $(BUILD)/release/Makefile
	nice $(MAKE) -C $(BUILD)/release -j$(JOBS)

# The main job: the emulated arm64 board (TF-A + NS-virtualized OP-TEE +
# patched host) runs xtest on the host, then boots a KVM guest with the
# reference VMM and runs xtest in it through libteemed. RUN_MODE=full for
# the whole regression suite on both sides.
RUN_MODE ?= smoke
run:
	bash scripts/e2e.sh $(RUN_MODE)

# The library alone, against the in-process OP-TEE model.
demo: build
	$(BUILD)/release/teemed_demo

check: check-tsan check-bpf check-asan

check-asan: $(BUILD)/asan/Makefile
	nice $(MAKE) -C $(BUILD)/asan -j$(JOBS)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1 ./teemed_tests --gtest_brief=1
	LD_PRELOAD="$(ASAN_RT) $(STDCXX_RT)" ASAN_OPTIONS=detect_leaks=0 \
		TEEMED_PYMOD_DIR=$(abspath $(BUILD)/asan) \
		$(PYTHON) -m pytest -p no:cacheprovider tests/python

check-tsan: $(BUILD)/tsan/Makefile
	nice $(MAKE) -C $(BUILD)/tsan -j$(JOBS) teemed_tests
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1 ./teemed_tests --gtest_filter='Concurrency.*'

clean:
	rm -rf $(BUILD)

include board/board.mk
include kernel/kernel.mk
include bpf/bpf.mk

# Targets whose work is still in progress say so and fail, rather than
# pretending to pass.
# The emulated board end to end: host xtest, then a KVM guest's xtest
# through the reference VMM, libteemed and the patched host driver.
e2e-smoke:
	bash scripts/e2e.sh smoke
e2e-full:
	bash scripts/e2e.sh full
e2e-drills:
	bash scripts/e2e.sh drills
# Fuzz each harness for FUZZ_SECONDS, starting from the committed seeds;
# the growing corpus is kept outside the repository.
FUZZ_SECONDS ?= 60
FUZZ_CORPUS ?= $(TEEMED_CACHE)/fuzz/corpus
FUZZ_HARNESSES := fuzz_smc fuzz_rpc
fuzz: $(BUILD)/fuzz/Makefile
	nice cmake --build $(BUILD)/fuzz -j $(JOBS) --target $(FUZZ_HARNESSES)
	for h in $(FUZZ_HARNESSES); do \
		mkdir -p $(FUZZ_CORPUS)/$$h tests/fuzz/seeds/$$h && \
		echo "== $$h" && \
		(cd $(BUILD)/fuzz && ./$$h -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-print_final_stats=1 $(FUZZ_CORPUS)/$$h $(abspath tests/fuzz/seeds)/$$h 2>&1 | \
			grep -E "DONE|^Done|^stat::|^==|SUMMARY|invariant") || exit 1; \
	done

# Benchmarks (Google Benchmark + callgrind), regenerating
# Documentation/benchmarks.md. Numbers for notes, never assertions.
$(BUILD)/bench/Makefile:
	cmake -S tools -B $(BUILD)/bench -DCMAKE_BUILD_TYPE=Release -DTEEMED_BENCH=ON \
		-DTEEMED_PYTHON=OFF -DTEEMED_TESTS=OFF $(CMAKE_FLAGS)

bench: $(BUILD)/bench/Makefile
	nice $(MAKE) -C $(BUILD)/bench -j$(JOBS) teemed_bench teemed_cost
	$(PYTHON) scripts/bench-table.py $(BUILD)/bench Documentation/benchmarks.md
