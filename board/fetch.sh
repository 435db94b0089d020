#!/usr/bin/env bash
# board/fetch.sh — download the board's Debian packages (versions from
# board/versions.sh) and unpack each into
#   $BOARD_CACHE/pkgs/<name>_<version>_<arch>/
# with `apt-get download` + `dpkg-deb -x`.  Nothing is installed on the
# host.  Idempotent: an unpacked package (marked by .unpacked) is kept, so
# a second run touches neither the network nor the disk.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "${BOARD_VERSIONS_PRINTED:-0}" = 1 ] || board_versions_print
board_versions_check

# Before the first download of a kernel upload, make sure the whole
# triple exists (the source and headers are used by kernel/, not here).
if [ ! -e "$(board_pkg_root "$BOARD_PKG_LINUX_IMAGE")/.unpacked" ]; then
	board_versions_available "$BOARD_PKG_LINUX_SOURCE:all=$BOARD_LINUX_SOURCE_VERSION" \
		"$BOARD_PKG_LINUX_HEADERS:arm64=$BOARD_LINUX_HEADERS_VERSION" \
		"$BOARD_PKG_LINUX_IMAGE:arm64=$BOARD_LINUX_IMAGE_VERSION"
fi
mapfile -t specs < <(board_packages)
board_fetch_pkgs "${specs[@]}"

# The kernel's packages as one tree. Debian's packages ship no
# modules.dep (postinst runs depmod): generate it there, for initramfs.sh.
kroot=$(board_kernel_root)
if [ ! -e "$kroot/.done" ]; then
	command -v depmod >/dev/null || board_die "depmod missing (make deps)"
	rm -rf "$kroot" "$kroot.tmp"
	mkdir -p "$kroot.tmp"
	for k in $BOARD_KERNEL_PKGS; do
		cp -al "$(board_pkg_root "$k")/." "$kroot.tmp/"
	done
	rm -f "$kroot.tmp/.unpacked"
	if [ ! -d "$kroot.tmp/lib/modules" ] && [ -d "$kroot.tmp/usr/lib/modules" ]; then
		mkdir -p "$kroot.tmp/lib"
		ln -s ../usr/lib/modules "$kroot.tmp/lib/modules"
	fi
	depmod -b "$kroot.tmp" "$BOARD_KERNEL_RELEASE"
	touch "$kroot.tmp/.done"
	mv "$kroot.tmp" "$kroot"
	board_log "kernel tree $kroot (depmod done)"
fi
board_log "packages ready under $BOARD_CACHE/pkgs"
