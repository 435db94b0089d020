# kernel/kernel.mk — the kernel series, included by the top-level Makefile:
# the mainline series (kernel/patches/ on Linux 7.2, the KVM selftest in
# kernel/patches-kvm/) and its 6.12 backport (kernel/patches-6.12/). Every
# step is kernel/scripts/kernel.sh, for the board's STACK (lts: 6.12,
# current: 7.2); see its header and Documentation/kernel-series.md.
#
#   make kernel-deps      install the Debian packages the steps need
#   make kernel-prepare   fetch + unpack Debian's linux-source-<series>, the
#                         config of its arm64 image and the headers'
#                         Module.symvers, modules_prepare; cached by versions
#   make kernel-check     for both stacks (KERNEL_STACKS): the series applies
#                         with git am, drivers/tee builds with W=1 and sparse,
#                         checkpatch --strict, kernel-doc, the KVM selftest
#                         builds, the uapi copy, tables/ and Kconfig.snippets
#                         match, the backport makes mainline's changes
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

# Both series by default: the mainline one on 7.2 and its 6.12 backport
# (KERNEL_STACKS=lts for one).
KERNEL_STACKS ?= current lts
kernel-check: kernel-deps
	for s in $(KERNEL_STACKS); do STACK=$$s $(KERNEL_SH) check || exit 1; done

kernel-modules: kernel-deps
	@$(KERNEL_SH) modules

kernel-versions:
	@$(KERNEL_SH) versions

kernel-board-test: kernel-deps
	$(KERNEL_SH) board-test
