# teemed — eBPF tools (bpf/), included by the top-level Makefile.
#
#   make bpf           x86_64 tools into build/bpf/ (vmlinux.h from this kernel's BTF)
#   make bpf-arm64     arm64 tools, static, into build/bpf-arm64/ (bpf/arm64/vmlinux.h)
#   make bpf-deps      the Debian packages both need
#   make check-bpf     pytest tests/bpf (root, BPF, tracefs; see tests/bpf/README)
#   make bpf-overhead  library calls/s with and without the tools attached
#
# Works standalone too: make -f Makefile -f bpf/bpf.mk <target>.

BUILD ?= build
JOBS ?= 2
PYTHON ?= /usr/bin/python3

BPF_SRC := bpf
BPF_OUT := $(BUILD)/bpf
BPF_OUT_ARM64 := $(BUILD)/bpf-arm64
BPF_TOOLS := teemedlat teemedpins
BPF_CLANG ?= clang
BPF_BPFTOOL ?= bpftool
BPF_STRIP ?= llvm-strip
BPF_VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_CC ?= gcc
BPF_CC_ARM64 ?= aarch64-linux-gnu-gcc
BPF_CXX ?= g++
BPF_CFLAGS ?= -g -O2 -Wall -Wextra -Werror
# The BPF side: CO-RE, BPF ISA v3 (atomic fetch-and-add, 5.12+ kernels).
# <linux/errno.h> (usdt.bpf.h) is the same on every arch: the host's does.
BPF_BPF_CFLAGS ?= -g -O2 -target bpf -mcpu=v3 -Wall -Werror
BPF_HOST_INC := -I/usr/include/$(shell gcc -dumpmachine)
BPF_HDRS := $(BPF_SRC)/optee_fids.h $(BPF_SRC)/bits.bpf.h $(BPF_SRC)/trace_helpers.h
BPF_DEPS_PKGS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev systemtap-sdt-dev \
	gcc-aarch64-linux-gnu libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64
# The arm64 libraries, from libbpf-dev:arm64 & co. (multiarch) by default.
BPF_ARM64_SYSROOT_LIB ?= /usr/lib/aarch64-linux-gnu
BPF_ARM64_LDLIBS ?= -static -L$(BPF_ARM64_SYSROOT_LIB) -lbpf -lelf -lz

# Keep the objects and skeletons: bpftool and tests read them too.
.SECONDARY: $(foreach d,$(BPF_OUT) $(BPF_OUT_ARM64),$(foreach t,$(BPF_TOOLS),$(d)/$(t).bpf.o $(d)/$(t).skel.h $(d)/$(t).o))

.PHONY: bpf bpf-arm64 bpf-deps check-bpf bpf-overhead bpf-clean

bpf: $(addprefix $(BPF_OUT)/,$(BPF_TOOLS)) $(BPF_OUT)/teemed_fake_vmm $(BPF_OUT)/teemed_drive
bpf-arm64: $(addprefix $(BPF_OUT_ARM64)/,$(BPF_TOOLS)) $(BPF_OUT_ARM64)/teemed_fake_vmm

bpf-deps:
	dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(BPF_DEPS_PKGS)

# ---- x86_64 (this machine) ------------------------------------------------

# Generated from the running kernel's BTF: never committed.
$(BPF_OUT)/vmlinux.h:
	@mkdir -p $(@D)
	@test -r $(BPF_VMLINUX_BTF) || { echo "$(BPF_VMLINUX_BTF) missing: kernel without BTF" >&2; exit 1; }
	$(BPF_BPFTOOL) btf dump file $(BPF_VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BPF_OUT)/%.bpf.o: $(BPF_SRC)/%.bpf.c $(BPF_SRC)/%.h $(BPF_HDRS) $(BPF_OUT)/vmlinux.h
	$(BPF_CLANG) $(BPF_BPF_CFLAGS) -D__TARGET_ARCH_x86 -I$(BPF_OUT) -I$(BPF_SRC) \
		$(BPF_HOST_INC) -c $< -o $@
	$(BPF_STRIP) -g $@

$(BPF_OUT)/%.skel.h: $(BPF_OUT)/%.bpf.o
	$(BPF_BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BPF_OUT)/%.o: $(BPF_SRC)/%.c $(BPF_OUT)/%.skel.h $(BPF_SRC)/%.h $(BPF_HDRS)
	$(BPF_CC) $(BPF_CFLAGS) -I$(BPF_OUT) -I$(BPF_SRC) -c $< -o $@

$(BPF_OUT)/trace_helpers.o: $(BPF_SRC)/trace_helpers.c $(BPF_HDRS)
	@mkdir -p $(@D)
	$(BPF_CC) $(BPF_CFLAGS) -I$(BPF_SRC) -c $< -o $@

$(addprefix $(BPF_OUT)/,$(BPF_TOOLS)): %: %.o $(BPF_OUT)/trace_helpers.o
	$(BPF_CC) $^ -lbpf -lelf -lz -o $@

# ---- arm64 (the board) ------------------------------------------------------

# No BTF of the board's kernel here: bpf/arm64/vmlinux.h declares the few
# types the programs use, with CO-RE relocations.
$(BPF_OUT_ARM64)/%.bpf.o: $(BPF_SRC)/%.bpf.c $(BPF_SRC)/%.h $(BPF_HDRS) $(BPF_SRC)/arm64/vmlinux.h
	@mkdir -p $(@D)
	$(BPF_CLANG) $(BPF_BPF_CFLAGS) -D__TARGET_ARCH_arm64 -I$(BPF_SRC)/arm64 -I$(BPF_SRC) \
		$(BPF_HOST_INC) -c $< -o $@
	$(BPF_STRIP) -g $@

$(BPF_OUT_ARM64)/%.skel.h: $(BPF_OUT_ARM64)/%.bpf.o
	$(BPF_BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BPF_OUT_ARM64)/%.o: $(BPF_SRC)/%.c $(BPF_OUT_ARM64)/%.skel.h $(BPF_SRC)/%.h $(BPF_HDRS)
	$(BPF_CC_ARM64) $(BPF_CFLAGS) -I$(BPF_OUT_ARM64) -I$(BPF_SRC) -c $< -o $@

$(BPF_OUT_ARM64)/trace_helpers.o: $(BPF_SRC)/trace_helpers.c $(BPF_HDRS)
	@mkdir -p $(@D)
	$(BPF_CC_ARM64) $(BPF_CFLAGS) -I$(BPF_SRC) -c $< -o $@

$(addprefix $(BPF_OUT_ARM64)/,$(BPF_TOOLS)): %: %.o $(BPF_OUT_ARM64)/trace_helpers.o
	$(BPF_CC_ARM64) $^ $(BPF_ARM64_LDLIBS) -o $@

# The fake VMM for the board too: the leak alarm can be checked there
# without a guest. <sys/sdt.h> is arch-neutral: the host's is borrowed.
$(BPF_OUT_ARM64)/teemed_fake_vmm: tests/bpf/fake_vmm.c tools/lib/probes.hpp
	@mkdir -p $(@D)/sdt/sys
	cp $(wildcard /usr/include/*/sys/sdt.h /usr/include/*/sys/sdt-config.h) $(@D)/sdt/sys/
	$(BPF_CC_ARM64) $(BPF_CFLAGS) -I$(@D)/sdt -Itools/lib -static $< -o $@

# ---- test programs ------------------------------------------------------------

# A FAKE VMM: fires the teemed USDT probes directly, no library, to produce
# what the library never does (pins outstanding at vm_destroy).
$(BPF_OUT)/teemed_fake_vmm: tests/bpf/fake_vmm.c tools/lib/probes.hpp
	@mkdir -p $(@D)
	$(BPF_CC) $(BPF_CFLAGS) -Itools/lib $< -o $@

# The real library (release build) driven by the guest model: known
# sequences and the overhead benchmark.
BPF_RELEASE_LIBS := $(BUILD)/release/libteemed_model.a $(BUILD)/release/libteemed.a
$(BPF_RELEASE_LIBS) &: $(BUILD)/release/Makefile
	nice $(MAKE) -C $(BUILD)/release -j$(JOBS) teemed_model teemed

$(BPF_OUT)/teemed_drive: tests/bpf/teemed_drive.cpp tools/model/guest_driver.hpp $(BPF_RELEASE_LIBS)
	@mkdir -p $(@D)
	$(BPF_CXX) -std=c++20 -O2 -g -Wall -Wextra -Werror -Itools/include -Itools/model \
		$< $(BPF_RELEASE_LIBS) -lpthread -o $@

# The pybind11 module of the ASan build (what make check-asan tests).
BPF_PYMOD_DIR := $(abspath $(BUILD)/asan)
BPF_ASAN_RT := $(shell gcc -print-file-name=libasan.so)
BPF_STDCXX_RT := $(shell gcc -print-file-name=libstdc++.so)

check-bpf: bpf $(BUILD)/asan/Makefile
	nice $(MAKE) -C $(BUILD)/asan -j$(JOBS) teemed_py
	LD_PRELOAD="$(BPF_ASAN_RT) $(BPF_STDCXX_RT)" ASAN_OPTIONS=detect_leaks=0 \
		TEEMED_PYMOD_DIR=$(BPF_PYMOD_DIR) TEEMED_BPF_DIR=$(abspath $(BPF_OUT)) \
		$(PYTHON) -m pytest -p no:cacheprovider -v tests/bpf

bpf-overhead: bpf
	$(PYTHON) tests/bpf/overhead.py --tools $(abspath $(BPF_OUT)) --seconds 3

bpf-clean:
	rm -rf $(BPF_OUT) $(BPF_OUT_ARM64)
