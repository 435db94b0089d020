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

debs=$BOARD_CACHE/debs
mkdir -p "$debs" "$BOARD_CACHE/pkgs"
# Let apt's sandbox user write there (else apt warns and downloads as root).
chown _apt "$debs" 2>/dev/null || true

fetch_one() {
	local spec=$1 name arch version root deb tmp got
	name=${spec%%:*}
	arch=${spec#*:}; arch=${arch%%=*}
	version=${spec#*=}
	root=$(board_pkg_root "$name")
	[ -e "$root/.unpacked" ] && return 0

	deb=$debs/${name}_${version//:/%3a}_${arch}.deb
	if [ ! -s "$deb" ]; then
		board_version_available "$name" "$version" "$arch" || return 1
		board_log "downloading $name:$arch=$version"
		if [ "$arch" = all ]; then
			(cd "$debs" && apt-get download -q "$name=$version" >/dev/null)
		else
			(cd "$debs" && apt-get download -q "$name:$arch=$version" >/dev/null)
		fi
		[ -s "$deb" ] || board_die "apt-get download did not produce $deb"
	fi
	got=$(dpkg-deb -f "$deb" Package Version Architecture | awk '{printf "%s ", $2}')
	[ "$got" = "$name $version $arch " ] ||
		board_die "$deb is '$got', expected '$name $version $arch'"

	tmp=$root.tmp.$$
	rm -rf "$tmp"
	dpkg-deb -x "$deb" "$tmp"
	touch "$tmp/.unpacked"
	rm -rf "$root"
	mv "$tmp" "$root"
	board_log "unpacked $name $version -> $root"
}

while IFS= read -r spec; do
	fetch_one "$spec"
done < <(board_packages)

# Debian's image package ships no modules.dep (postinst runs depmod);
# generate it in the unpacked tree, for initramfs.sh.
kimg=$(board_pkg_root "$BOARD_PKG_LINUX_IMAGE")
if [ ! -s "$kimg/lib/modules/$BOARD_KERNEL_RELEASE/modules.dep" ]; then
	command -v depmod >/dev/null || board_die "depmod missing (apt-get install kmod)"
	depmod -b "$kimg" "$BOARD_KERNEL_RELEASE"
	board_log "depmod done for $BOARD_KERNEL_RELEASE"
fi
board_log "packages ready under $BOARD_CACHE/pkgs"
