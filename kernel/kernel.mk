# kernel/kernel.mk — the Linux 6.12 series (kernel/patches/), included by
# the top-level Makefile. Every step is kernel/scripts/kernel.sh; see its
# header and Documentation/kernel-series.md.
#
#   make kernel-deps      install the Debian packages the steps need
#   make kernel-prepare   fetch + unpack Debian's linux-source-6.12, the
#                         arm64 image (config) and headers (Module.symvers),
#                         modules_prepare; cached by versions
#   make kernel-check     the series applies with git am, drivers/tee builds
#                         with W=1 and sparse, checkpatch --strict, kernel-doc,
#                         the KVM selftest builds, the uapi copy matches
#   make kernel-modules   patched tee.ko/optee.ko for the board; prints
#                         their directory, $(TEEMED_CACHE)/kernel/modules-<key>
#   make kernel-versions  the Debian versions in force (board/versions.sh)
#   make kernel-board-test  boot the board (make board-build first) on the
#                         NS-virtualized OP-TEE with kernel-modules' modules
#                         and run adversarial-vmm, smccc_filter and xtest there
#
# Caches live in $(KERNEL_CACHE); nothing downloaded enters the repository.

KERNEL_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
KERNEL_SH := bash $(KERNEL_DIR)/scripts/kernel.sh
KERNEL_CACHE := $(or $(TEEMED_CACHE),/var/cache/teemed)/kernel
KERNEL_JOBS ?= 2
KERNEL_BOARD_FLAVOUR ?= vexpress-qemu_armv8a-virtualized
export KERNEL_JOBS KERNEL_BOARD_FLAVOUR

.PHONY: kernel-deps kernel-prepare kernel-check kernel-modules kernel-versions \
	kernel-board-test

kernel-deps:
	$(KERNEL_SH) deps

kernel-prepare: kernel-deps
	$(KERNEL_SH) prepare

kernel-check: kernel-deps
	$(KERNEL_SH) check

kernel-modules: kernel-deps
	@$(KERNEL_SH) modules

kernel-versions:
	@$(KERNEL_SH) versions

kernel-board-test: kernel-deps
	$(KERNEL_SH) board-test
