# board/board.mk — make fragment for the emulated arm64 board, included by
# the top-level Makefile.  Every knob is an environment/make variable with
# the BOARD_ prefix (see board/run.sh and board/initramfs.sh); make passes
# them to the scripts through the environment.
#
#   make board-deps        board/packages only (make deps installs all)
#   make board-build       fetch packages, build TF-A, flash, initramfs
#   make board-boot-host   boot the host and run xtest $(BOARD_XTEST)
#   make board-versions    print the pinned Debian versions
#
# e.g.  make board-boot-host BOARD_OPTEE_FLAVOUR=vexpress-qemu_armv8a \
#            BOARD_XTEST="-t regression 1001 1004"

BOARD_SRC_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

BOARD_OPTEE_FLAVOUR ?= vexpress-qemu_armv8a
BOARD_XTEST ?= -t regression 1001 1002 1004
BOARD_TIMEOUT ?= 300
export BOARD_OPTEE_FLAVOUR BOARD_XTEST BOARD_TIMEOUT
# Optional knobs: passed on only when set, so that an unset one keeps the
# script's default.
BOARD_OPTIONAL_VARS := BOARD_OUT BOARD_CMDS BOARD_SMP BOARD_MEM BOARD_APPEND \
	BOARD_QEMU_EXTRA BOARD_VERBOSE BOARD_HOST_KMODS BOARD_HOST_MODULES \
	BOARD_HOST_EXTRA BOARD_CACHE TEEMED_CACHE
$(foreach v,$(BOARD_OPTIONAL_VARS),$(if $(filter-out undefined,$(origin $(v))),$(eval export $(v))))

.PHONY: board-deps board-build board-boot-host board-versions

board-deps:
	bash scripts/deps.sh board

board-build:
	bash $(BOARD_SRC_DIR)/build.sh >/dev/null

board-boot-host:
	bash $(BOARD_SRC_DIR)/run.sh

board-versions:
	@bash -c '. $(BOARD_SRC_DIR)/versions.sh && board_versions_print && board_versions_check'
