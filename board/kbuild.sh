#!/usr/bin/env bash
# board/kbuild.sh — print a kernel build directory (KDIR) for building
# out-of-tree modules for the board's host kernel on this x86_64 machine:
#
#   make -C "$(board/kbuild.sh)" M=$PWD ARCH=arm64 \
#        CROSS_COMPILE=aarch64-linux-gnu- modules
#
# Assembled from the same Debian upload as the image the board boots
# (board/versions.sh): linux-headers-<rel> (arm64), its -common part and
# linux-kbuild (amd64, so fixdep/modpost run here).  Put the resulting
# .ko files in a directory and pass it as BOARD_HOST_MODULES.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

board_versions_check
root=$BOARD_CACHE/kbuild/$BOARD_KERNEL_RELEASE-${BOARD_LINUX_HEADERS_VERSION//:/%3a}
kdir=$root/usr/src/linux-headers-$BOARD_KERNEL_RELEASE
if [ ! -e "$root/.assembled" ]; then
	rm -rf "$root"
	mkdir -p "$root"
	mapfile -t specs < <(board_kbuild_packages)
	board_fetch_pkgs "${specs[@]}" >&2
	for spec in "${specs[@]}"; do
		cp -a "$(board_pkg_root "${spec%%:*}")"/. "$root/"
	done
	rm -f "$root/.unpacked"
	[ -f "$kdir/Makefile" ] || board_die "no $kdir/Makefile after unpacking the headers"
	# Debian's Makefile includes the -common part by absolute path
	# (/usr/src/...); point it at the copy beside it instead.
	sed -i 's|^include /usr/src/\(linux-headers-[^/]*\)/Makefile$|include $(dir $(lastword $(MAKEFILE_LIST)))../\1/Makefile|' "$kdir/Makefile"
	! grep -q '^include /usr/src/' "$kdir/Makefile" || board_die "unexpected $kdir/Makefile: $(cat "$kdir/Makefile")"
	touch "$root/.assembled"
fi
echo "$kdir"
