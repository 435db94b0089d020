# teemed — the make interface. Others rely on these targets: keep their
# names and meaning.
#
#   make deps          install everything, as root (scripts/deps.sh: the apt
#                      sources, then every area's `packages` file)
#   make run           the emulated board end to end (README.md)
#   make check         the test suite: C++ + pytest under ASan+UBSan and
#                      TSan, the eBPF tools' tests
#   make kernel-check  the kernel series (kernel/kernel.mk)
#   make e2e-smoke / e2e-full / e2e-drills / e2e-smp   the board, end to end
#   make fuzz / bench
#
# Every userspace C/C++ target is one CMake build (CMakeLists.txt), in a
# configuration per directory of build/ (git-ignored); big third-party
# builds are cached outside the repository, under $(TEEMED_CACHE).

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

TEEMED_CACHE ?= /var/cache/teemed
export TEEMED_CACHE
# The board's stack (board/versions.sh): lts (Linux 6.12, OP-TEE 4.5, the
# series' 6.12 backport) or current (Linux 7.2, OP-TEE 4.10, the mainline
# series). make run STACK=current, make e2e-smoke STACK=current, ...
STACK ?= lts
export STACK
# The guest's VMM on the board: teemed (the reference VMM) or qemu (QEMU
# with qemu/patches, -machine virt,optee=on). make run VMM=qemu, ...
VMM ?= teemed
export VMM

PYTHON := /usr/bin/python3
BUILD := build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build install arm64 qemu-arm64 bpf bpf-arm64 run demo check check-asan check-tsan \
	check-bpf check-install bpf-overhead e2e-smoke e2e-full e2e-drills e2e-smp e2e-tenants e2e-reboots qemu-matrix fuzz fuzz-seeds fuzz-before bench clean

all: build

deps:
	bash scripts/deps.sh

# ---- the CMake configurations ---------------------------------------------

# $(BUILD)/NAME/Makefile: the one build, configured with these options.
define configuration
$(BUILD)/$(1)/Makefile:
	cmake -S . -B $(BUILD)/$(1) $(2) $(CMAKE_FLAGS)
endef
$(eval $(call configuration,release,-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEEMED_BPF=ON))
$(eval $(call configuration,asan,-DCMAKE_BUILD_TYPE=Debug -DTEEMED_SANITIZE=ON -DTEEMED_BPF=ON))
$(eval $(call configuration,tsan,-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEEMED_TSAN=ON \
	-DTEEMED_PYTHON=OFF))
$(eval $(call configuration,fuzz,-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEEMED_FUZZ=ON -DTEEMED_PYTHON=OFF -DTEEMED_TESTS=OFF))
$(eval $(call configuration,bench,-DCMAKE_BUILD_TYPE=Release -DTEEMED_BENCH=ON \
	-DTEEMED_PYTHON=OFF -DTEEMED_TESTS=OFF))
# The board's binaries, static (tools/cmake/aarch64.cmake).
$(eval $(call configuration,arm64,-DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DCMAKE_TOOLCHAIN_FILE=$(abspath tools/cmake/aarch64.cmake) -DCMAKE_INSTALL_PREFIX=/usr \
	-DTEEMED_BPF=ON -DTEEMED_PYTHON=OFF -DTEEMED_TESTS=OFF))

# $(call cmake-build,NAME,TARGETS): build those targets of a configuration.
cmake-build = nice cmake --build $(BUILD)/$(1) -j $(JOBS) $(if $(2),--target $(2))

build: $(BUILD)/release/Makefile
	$(call cmake-build,release)

# libteemed for VMMs to depend on: libteemed.so.1 and libteemed.a, the API
# headers, teemed.pc, the CMake package; PREFIX and DESTDIR as usual.
PREFIX ?= /usr/local
install:
	cmake -S . -B $(BUILD)/lib -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) \
		-DTEEMED_PYTHON=OFF -DTEEMED_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	$(call cmake-build,lib,teemed teemed_shared)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)/lib --component lib

# The reference VMM for the board, built as a VMM project would be: the
# arm64 libteemed installed into a staging prefix, then tools/vmm against
# it with find_package(teemed). The binary lands in build/arm64/.
ARM64_STAGE := $(abspath $(BUILD)/arm64-stage)
arm64: $(BUILD)/arm64/Makefile
	$(call cmake-build,arm64,teemed teemed_shared)
	cmake --install $(BUILD)/arm64 --component lib --prefix $(ARM64_STAGE) >/dev/null
	cmake -S tools/vmm -B $(BUILD)/vmm-arm64 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_TOOLCHAIN_FILE=$(abspath tools/cmake/aarch64.cmake) \
		-DCMAKE_PREFIX_PATH=$(ARM64_STAGE) >/dev/null
	$(call cmake-build,vmm-arm64)
	cp $(BUILD)/vmm-arm64/teemed-vmm $(BUILD)/arm64/teemed-vmm

# The patched QEMU for the board (VMM=qemu): qemu/patches on Debian's QEMU
# source, cross-built static against the arm64 libteemed installed as a
# package would be (PREFIX=/usr) into its sysroot; cached by its inputs
# (board/qemu.sh). Prints the binary.
QEMU_TEEMED_STAGE := $(abspath $(BUILD)/qemu-teemed)
qemu-arm64: $(BUILD)/arm64/Makefile
	@$(call cmake-build,arm64,teemed teemed_shared) >/dev/null
	@rm -rf $(QEMU_TEEMED_STAGE)
	@DESTDIR=$(QEMU_TEEMED_STAGE) cmake --install $(BUILD)/arm64 --component lib >/dev/null
	@QEMU_TEEMED_STAGE=$(QEMU_TEEMED_STAGE) bash board/qemu.sh

# qemu/patches in the configurations others build (qemu/matrix.sh): x86_64
# and arm64, with and without KVM and TCG, libteemed installed on each
# side as a distribution would have it (PREFIX=/usr). Cached by its inputs.
QEMU_TEEMED_STAGE_HOST := $(abspath $(BUILD)/qemu-teemed-host)
qemu-matrix: $(BUILD)/arm64/Makefile
	@$(call cmake-build,arm64,teemed teemed_shared) >/dev/null
	@rm -rf $(QEMU_TEEMED_STAGE) $(QEMU_TEEMED_STAGE_HOST)
	@DESTDIR=$(QEMU_TEEMED_STAGE) cmake --install $(BUILD)/arm64 --component lib >/dev/null
	@$(MAKE) --no-print-directory -s install PREFIX=/usr DESTDIR=$(QEMU_TEEMED_STAGE_HOST) >/dev/null
	@QEMU_TEEMED_STAGE=$(QEMU_TEEMED_STAGE) QEMU_TEEMED_STAGE_HOST=$(QEMU_TEEMED_STAGE_HOST) \
		bash qemu/matrix.sh

# The eBPF tools (bpf/): here, and for the board (static).
bpf: $(BUILD)/release/Makefile
	$(call cmake-build,release,teemedlat teemedpins teemed_fake_vmm teemed_drive)
bpf-arm64: $(BUILD)/arm64/Makefile
	$(call cmake-build,arm64,teemedlat teemedpins teemed_fake_vmm)

# ---- running ----------------------------------------------------------------

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

e2e-smoke:
	bash scripts/e2e.sh smoke
e2e-full:
	bash scripts/e2e.sh full
e2e-drills:
	bash scripts/e2e.sh drills
# A 2-vCPU guest running xtest processes at once (STACK=, VMM=).
e2e-smp:
	bash scripts/e2e.sh smp
# OP-TEE's partitions: 200 VM lifecycles, every slot, 4 guests at once
# next to the host's xtest (STACK=, VMM=; 4 guests need STACK=current's
# OP-TEE built from source).
e2e-tenants:
	bash scripts/e2e.sh tenants
# A guest under QEMU rebooting itself 3 times, xtest at each boot: each
# machine reset gives it a new partition in OP-TEE (STACK=).
e2e-reboots: VMM = qemu
e2e-reboots:
	bash scripts/e2e.sh reboots

# ---- tests --------------------------------------------------------------------

check: check-tsan check-bpf check-asan check-install

# Build against the installed library from outside the tree (tests/install).
check-install:
	bash tests/install/check.sh

# Python loading the ASan build's module: the sanitizer runtime first.
ASAN_PYTHON = LD_PRELOAD="$(shell gcc -print-file-name=libasan.so) \
	$(shell gcc -print-file-name=libstdc++.so)" ASAN_OPTIONS=detect_leaks=0 \
	TEEMED_PYMOD_DIR=$(abspath $(BUILD)/asan) $(PYTHON) -m pytest -p no:cacheprovider

# The C++ tests, the board's adversarial VMM in process (its attacks against
# the series' own code: tools/model/kernel), the fuzzers' committed seeds
# replayed, and pytest, all on the kernel's code over the kernel shim, under
# ASan+UBSan.
FUZZ_REPLAYS = $(addsuffix _replay,$(FUZZ_HARNESSES))
check-asan: $(BUILD)/asan/Makefile
	$(call cmake-build,asan,teemed_tests teemed_py adversarial_vmm_inprocess $(FUZZ_REPLAYS))
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1 ./teemed_tests --gtest_brief=1
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1 ./adversarial_vmm_inprocess | \
		grep -v ': ok: '
	cd $(BUILD)/asan && for h in $(FUZZ_HARNESSES); do \
		ASAN_OPTIONS=detect_leaks=1 ./$${h}_replay $(abspath tests/fuzz/seeds)/$$h || exit 1; done
	@# Each attack's neighbourhood: a step moved and preempted for the next.
	cd $(BUILD)/asan && FUZZ_KERNEL_SWEEP=$(abspath tests/fuzz/seeds)/fuzz_kernel \
		ASAN_OPTIONS=detect_leaks=1 ./fuzz_kernel_replay | tail -n1
	$(ASAN_PYTHON) tests/python

check-tsan: $(BUILD)/tsan/Makefile
	$(call cmake-build,tsan,teemed_tests)
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1 ./teemed_tests --gtest_filter='Concurrency.*'

# The eBPF tools against the library (root, BPF, tracefs: tests/bpf).
check-bpf: $(BUILD)/asan/Makefile
	$(call cmake-build,asan,teemed_py teemedlat teemedpins teemed_fake_vmm teemed_drive)
	TEEMED_BPF_DIR=$(abspath $(BUILD)/asan) $(ASAN_PYTHON) -v tests/bpf

# Library calls/s with and without the tools attached (a number for notes).
bpf-overhead: bpf
	$(PYTHON) tests/bpf/overhead.py --tools $(abspath $(BUILD)/release) --seconds 3

# Fuzz each harness for FUZZ_SECONDS, starting from the committed seeds
# (the growing corpus is kept outside the repository); then the explorer.
FUZZ_SECONDS ?= 60
FUZZ_CORPUS ?= $(TEEMED_CACHE)/fuzz/corpus
FUZZ_HARNESSES := fuzz_kernel fuzz_smc fuzz_rpc
# And the interleaving explorer, PCT (random priorities, seed printed and
# settable to replay) on every configuration, under ASan.
EXPLORE_PCT_RUNS ?= 2000
EXPLORE_SEED ?= $(shell date +%s)
fuzz: $(BUILD)/fuzz/Makefile $(BUILD)/asan/Makefile
	$(call cmake-build,fuzz,$(FUZZ_HARNESSES))
	for h in $(FUZZ_HARNESSES); do \
		mkdir -p $(FUZZ_CORPUS)/$$h tests/fuzz/seeds/$$h && \
		echo "== $$h" && \
		(cd $(BUILD)/fuzz && ./$$h -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			-print_final_stats=1 $(FUZZ_CORPUS)/$$h $(abspath tests/fuzz/seeds)/$$h 2>&1 | \
			grep -E "DONE|^Done|^stat::|^==|SUMMARY|invariant") || exit 1; \
	done
	$(call cmake-build,asan,teemed_explore_cli)
	cd $(BUILD)/asan && ./teemed_explore --pct $(EXPLORE_PCT_RUNS) --seed $(EXPLORE_SEED)

# fuzz_kernel's seeds: each attack of the board suite (kernel/tests/
# adversarial-vmm.c), its ioctls as the fuzzer's input, recorded in process
# (written over the seed of the same name; v3-* are the minimised findings
# of make fuzz-before, kept as they are).
fuzz-seeds: $(BUILD)/asan/Makefile
	$(call cmake-build,asan,adversarial_vmm_inprocess)
	mkdir -p tests/fuzz/seeds/fuzz_kernel
	cd $(BUILD)/asan && ADV_RECORD=$(abspath tests/fuzz/seeds/fuzz_kernel) \
		./adversarial_vmm_inprocess | tail -1

# The proof that fuzz_kernel finds what a reviewer found: it runs on the
# series as it was before the cookie fixes (kernel/patches at FUZZ_BEFORE,
# series v3) from an empty corpus until its first report, which is the target's success; then
# FUZZ_KERNEL_KNOWN="text|..." sets found ones aside to look for the next
# (Documentation/testing.md lists what it finds and how fast).
# FUZZ_BEFORE_SEEDS=1 starts from the board suite's attacks (the seeds but
# the v3-* findings) instead; FUZZ_BEFORE_SWEEP=1 sweeps them
# (fuzz_kernel.cpp's sweep(): each step moved by one or two places and
# preempted for the next) instead of fuzzing.
FUZZ_BEFORE ?= 8e3a639
export FUZZ_KERNEL_KNOWN
fuzz-before:
	rm -rf $(BUILD)/before-series && mkdir -p $(BUILD)/before-series
	git archive $(FUZZ_BEFORE) kernel/patches | tar -x -C $(BUILD)/before-series
	cmake -S . -B $(BUILD)/fuzz-before -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTEEMED_FUZZ=ON -DTEEMED_PYTHON=OFF \
		-DTEEMED_TESTS=OFF -DTEEMED_KERNEL_SERIES_V3=ON \
		-DTEEMED_KERNEL_PATCHES=$(abspath $(BUILD)/before-series/kernel/patches) >/dev/null
	$(call cmake-build,fuzz-before,fuzz_kernel)
	rm -rf $(BUILD)/fuzz-before/corpus && mkdir -p $(BUILD)/fuzz-before/corpus
	$(if $(FUZZ_BEFORE_SEEDS)$(FUZZ_BEFORE_SWEEP),cp $(filter-out tests/fuzz/seeds/fuzz_kernel/v3-%,$(wildcard tests/fuzz/seeds/fuzz_kernel/*)) \
		$(BUILD)/fuzz-before/corpus/)
ifneq ($(FUZZ_BEFORE_SWEEP),)
	cd $(BUILD)/fuzz-before && { FUZZ_KERNEL_SWEEP=corpus ./fuzz_kernel 2>&1 | \
		grep -E "^sweep|^invariant|ERROR: AddressSanitizer|^SUMMARY" >sweep.log; cat sweep.log; } && \
		grep -qE "^invariant|^SUMMARY" sweep.log || { echo "fuzz-before: the sweep found nothing"; exit 1; }
else
	cd $(BUILD)/fuzz-before && rm -f crash-* && { ./fuzz_kernel -max_total_time=$(FUZZ_SECONDS) \
		-max_len=4096 -print_final_stats=1 corpus 2>&1 | grep -E \
		"^invariant|ERROR: AddressSanitizer|^SUMMARY|^stat::number_of_executed|^Done|^#[0-9]+ *(INITED|DONE)|Test unit written" \
		|| true; } && ls crash-* >/dev/null 2>&1 || { echo "fuzz-before: found nothing"; exit 1; }
endif

# Benchmarks (Google Benchmark + callgrind), regenerating
# Documentation/benchmarks.md. Numbers for notes, never assertions.
bench: $(BUILD)/bench/Makefile
	$(call cmake-build,bench,teemed_bench teemed_cost)
	$(PYTHON) scripts/bench-table.py $(BUILD)/bench Documentation/benchmarks.md

clean:
	rm -rf $(BUILD)

include board/board.mk
include kernel/kernel.mk
