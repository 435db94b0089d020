#!/usr/bin/env bash
# The fresh-machine check: `make deps` where nothing is installed — a
# clean Debian 12 chroot (debootstrap, minbase, plus the make and git a
# user needs to clone the repository and type the command) — then proof
# that it installed what the builds look for: it must say everything is
# there when run again, and every CMake configuration the Makefile uses
# must configure, the board's arm64 binaries must build and link; and
# `make run` must boot the board (a build-only check once passed while
# QEMU lacked a romfile at boot). As root. Downloaded .debs are kept under
# $TEEMED_CACHE/fresh (they are not what is installed); the chroot is new
# every time. The board's big builds (kernel, TF-A, QEMU, images) are
# cached by their inputs under $TEEMED_CACHE, which the chroot shares: what
# is proven is that the fresh machine's packages build and boot them, not
# the time of a cold build (CI's later stages reuse what it builds).
#
#   scripts/fresh-deps.sh      (CI runs it: 11 minutes with the .debs and the
#                               board's builds cached, on a loaded 2-core
#                               machine: chroot 68 s, make deps 162 s, builds
#                               195 s, make run 230 s; measured 2026-12-07)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${TEEMED_CACHE:-/var/cache/teemed}/fresh
mirror=${TEEMED_FRESH_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d /var/tmp/teemed-fresh.XXXXXX)
mounts=()
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${mounts[i]}" 2>/dev/null || true
	done
	# The cache is bound in from the same file system: --one-file-system
	# would not stop rm at it. Never remove a root that still has mounts.
	if grep -q " $root/" /proc/mounts; then
		echo "fresh: $root still has mounts; left in place" >&2
		return
	fi
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT
bind() { mkdir -p "$2" && mount --bind "$1" "$2" && mounts+=("$2"); }

command -v debootstrap >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
mkdir -p "$cache/debootstrap" "$cache/archives/partial"

t0=$SECONDS
echo "fresh: debootstrap bookworm ($mirror)"
debootstrap --variant=minbase --include=make,git,ca-certificates \
	--cache-dir="$cache/debootstrap" bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
	tail -n 20 "$root.debootstrap.log" >&2
	exit 1
}
rm -f "$root.debootstrap.log"
# Debian's own sources only, as a fresh machine has them.
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
SRC
bind "$cache/archives" "$root/var/cache/apt/archives"
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
bind /dev "$root/dev"
bind /dev/pts "$root/dev/pts"
bind /sys "$root/sys"
bind "${TEEMED_CACHE:-/var/cache/teemed}" "$root/var/cache/teemed"
mkdir -p "$root/src"
# The tree as committed (CI's clean clone), not the build directories.
git -C "$top" ls-files -z | (cd "$top" && tar --null -T - -cf -) | tar -xf - -C "$root/src"
boot=$((SECONDS - t0))

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	LANG=C.UTF-8 TEEMED_CACHE=/var/cache/teemed /bin/bash -c "cd /src && $1"; }

t1=$SECONDS
echo "fresh: make deps"
in_root 'apt-get update -q >/dev/null && make deps' | tail -n 3
deps=$((SECONDS - t1))

echo "fresh: make deps again"
again=$(in_root 'make deps')
grep -q 'all installed' <<<"$again" || {
	echo "fresh: make deps installed more the second time" >&2
	exit 1
}

t2=$SECONDS
echo "fresh: the builds find what they need"
in_root 'set -e
	for c in release asan tsan fuzz bench arm64; do make -s build/$c/Makefile >/dev/null; done
	make -s arm64 bpf-arm64 >/dev/null
	file build/arm64/teemed-vmm build/arm64/teemedlat | grep -c "ARM aarch64.*statically linked" | grep -qx 2
	. board/versions.sh
	q=$(qemu-system-aarch64 --version | sed -n "s/^QEMU emulator version \([0-9]*\)\..*/\1/p")
	[ "$q" -ge "$BOARD_QEMU_MIN_MAJOR" ]
	apt-get source --print-uris "arm-trusted-firmware=$BOARD_TFA_VERSION" | grep -q "\.dsc"
	for t in sparse valgrind bpftool clang aarch64-linux-gnu-gcc mkenvimage; do
		command -v $t >/dev/null || { echo "missing $t"; exit 1; }
	done'
check=$((SECONDS - t2))

t3=$SECONDS
echo "fresh: make run (the board, end to end)"
in_root 'make run' >"$root.run.log" 2>&1 || {
	tail -n 40 "$root.run.log" >&2
	rm -f "$root.run.log"
	exit 1
}
grep -E '^e2e ' "$root.run.log"
rm -f "$root.run.log"
run=$((SECONDS - t3))

# The current stack's OP-TEE from Debian's source (make run boots lts's,
# Debian's prebuilt): built here from scratch, in a cache of its own, so
# that its build-dependencies must come from make deps, not from the
# cache the host already filled.
t4=$SECONDS
echo "fresh: OP-TEE from Debian's source (board/optee.sh, STACK=current)"
in_root 'BOARD_CACHE=/tmp/optee-fresh STACK=current BOARD_OPTEE_FLAVOUR=vexpress-qemu_armv8a-virtualized \
	bash board/optee.sh' >"$root.optee.log" 2>&1 || {
	tail -n 40 "$root.optee.log" >&2
	rm -f "$root.optee.log"
	exit 1
}
tail -n 2 "$root.optee.log"
rm -f "$root.optee.log"
optee=$((SECONDS - t4))
echo "fresh: ok (chroot ${boot} s, make deps ${deps} s, builds ${check} s, make run ${run} s, OP-TEE ${optee} s)"
