# shellcheck shell=bash
# board/lib.sh — shared helpers for the board scripts.  Sourced, not run.
# Sources versions.sh, so every script sees the same pins.

BOARD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=board/versions.sh
. "$BOARD_DIR/versions.sh"

: "${TEEMED_CACHE:=/var/cache/teemed}"
: "${BOARD_CACHE:=$TEEMED_CACHE/board}"
# Which OP-TEE build from optee-os to run: vexpress-qemu_armv8a (plain,
# which Debian's stock optee driver can talk to: the default, so that the
# board itself can be checked) or vexpress-qemu_armv8a-virtualized
# (NS-virtualization, the project's target; the stock driver panics it,
# it needs the kernel/ series' modules via BOARD_HOST_MODULES).
: "${BOARD_OPTEE_FLAVOUR:=vexpress-qemu_armv8a}"

board_log() { printf 'board: %s\n' "$*" >&2; }
board_die() { printf 'board: error: %s\n' "$*" >&2; exit 1; }

# Short content hash of files (for cache keys that must change when a
# script that produced the cached thing changes).
board_hash_files() { cat "$@" | sha256sum | cut -c1-12; }
board_hash_str() { printf '%s' "$*" | sha256sum | cut -c1-12; }

# What libteemed's installed files are made from, for the keys of the
# builds that link it (board/qemu.sh, qemu/matrix.sh): its sources, the
# tables it is generated from, and the compilers. Not the files' bytes:
# their debug information names the directory the tree was built in, so
# every fresh clone (each CI run) would miss the cache.
board_teemed_lib_inputs() {
	{
		(cd "$BOARD_DIR/.." && find tools tables CMakeLists.txt -type f \
			! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
		aarch64-linux-gnu-g++ --version 2>/dev/null | head -n1
		g++ --version 2>/dev/null | head -n1
	} | sha256sum | cut -c1-12
}

# Directory into which fetch.sh unpacked package NAME (at its pinned
# version).  usage: board_pkg_root NAME
board_pkg_root() {
	local spec name arch version
	while IFS= read -r spec; do
		name=${spec%%:*}
		[ "$name" = "$1" ] || continue
		arch=${spec#*:}; arch=${arch%%=*}
		version=${spec#*=}
		printf '%s/pkgs/%s_%s_%s\n' "$BOARD_CACHE" "$name" "${version//:/%3a}" "$arch"
		return 0
	done < <(board_packages; board_kbuild_packages)
	board_die "board_pkg_root: $1 is not one of board_packages (board/versions.sh)"
}

# The booted kernel's packages merged into one tree (hard links), with its
# modules under lib/modules/<release> whatever the packages' layout, and
# modules.dep: made by fetch.sh. Its image is $BOARD_KERNEL_VMLINUZ and its
# config $BOARD_KERNEL_CONFIG below it.
board_kernel_root() {
	printf '%s/kernel/root-%s-%s\n' "$BOARD_CACHE" "$BOARD_KERNEL_RELEASE" \
		"${BOARD_LINUX_IMAGE_VERSION//:/%3a}"
}

# Download (one `apt-get download` for all that are missing) and unpack
# (dpkg-deb -x) packages into board_pkg_root; already unpacked ones are
# left alone.  usage: board_fetch_pkgs NAME:ARCH=VERSION...
board_fetch_pkgs() {
	local spec name arch version root deb tmp got debs=$BOARD_CACHE/debs
	local need=() args=()
	mkdir -p "$debs" "$BOARD_CACHE/pkgs"
	# Let apt's sandbox user write there (else apt warns and downloads as root).
	chown _apt "$debs" 2>/dev/null || true
	for spec; do
		name=${spec%%:*}; arch=${spec#*:}; arch=${arch%%=*}; version=${spec#*=}
		[ ! -e "$(board_pkg_root "$name")/.unpacked" ] || continue
		[ ! -s "$debs/${name}_${version//:/%3a}_${arch}.deb" ] || continue
		need+=("$spec")
		if [ "$arch" = all ]; then args+=("$name=$version"); else args+=("$name:$arch=$version"); fi
	done
	if [ "${#need[@]}" -gt 0 ]; then
		board_log "downloading ${args[*]}"
		if ! (cd "$debs" && apt-get download -q "${args[@]}" >/dev/null); then
			board_versions_available "${need[@]}" || return 1
			board_die "apt-get download failed (all pins exist: network or mirror trouble?)"
		fi
	fi
	for spec; do
		name=${spec%%:*}; arch=${spec#*:}; arch=${arch%%=*}; version=${spec#*=}
		root=$(board_pkg_root "$name")
		[ ! -e "$root/.unpacked" ] || continue
		deb=$debs/${name}_${version//:/%3a}_${arch}.deb
		[ -s "$deb" ] || board_die "apt-get download did not produce $deb"
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
	done
}

# Seconds since the epoch with a fraction, for timings.
board_now() { date +%s.%N; }
board_elapsed() { awk -v a="$1" -v b="$(board_now)" 'BEGIN { printf "%.1f", b - a }'; }
