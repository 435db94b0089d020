#!/usr/bin/env bash
# board/optee.sh — the OP-TEE the board boots as BL32. Prints the directory
# holding tee-header_v2.bin, tee-pager_v2.bin and tee-pageable_v2.bin of
# BOARD_OPTEE_FLAVOUR.
#
# BOARD_OPTEE=debian   Debian's prebuilt optee-os package, as it is.
# BOARD_OPTEE=source   the virtualized flavour built from Debian's source
#                      package (apt-get source optee-os=BOARD_OPTEE_SRC_VERSION)
#                      the way debian/rules builds it, with optee/patches/
#                      (BOARD_OPTEE_PATCHES) applied and
#                      CFG_VIRT_GUEST_COUNT=BOARD_OPTEE_GUESTS.
#                      The plain flavour (the board's self-check and the
#                      guest board, which runs no OP-TEE) stays Debian's.
#
# Cached in $BOARD_CACHE/optee/<key>, keyed by the source version, the
# patches, the configuration and this script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$BOARD_DIR/.." && pwd)

prebuilt=$(board_pkg_root optee-os)/usr/lib/optee/$BOARD_OPTEE_FLAVOUR
if [ "$BOARD_OPTEE" = debian ] || [ "$BOARD_OPTEE_FLAVOUR" != vexpress-qemu_armv8a-virtualized ]; then
	[ -e "$prebuilt/tee-pager_v2.bin" ] ||
		board_die "no OP-TEE flavour '$BOARD_OPTEE_FLAVOUR' in optee-os $BOARD_OPTEE_OS_VERSION (run board/fetch.sh; flavours: $(ls "$(dirname "$prebuilt")" 2>/dev/null | tr '\n' ' '))"
	echo "$prebuilt"
	exit 0
fi
[ "$BOARD_OPTEE" = source ] || board_die "BOARD_OPTEE=$BOARD_OPTEE: debian or source"
ver=${BOARD_OPTEE_SRC_VERSION:?no optee-os source for STACK=$STACK (board/versions.sh): BOARD_OPTEE=debian}
upstream=${ver%-*}

# BOARD_OPTEE_PATCHES: the series applied (an empty directory: none, to
# compare with Debian's source as it is).
: "${BOARD_OPTEE_PATCHES:=$top/optee/patches}"
patches=()
for p in "$BOARD_OPTEE_PATCHES"/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -e "$p" ] && patches+=("$p")
done
# What debian/rules passes for vexpress-qemu_armv8a's virtualized
# subplatform, and ours: the guest slots (the host takes one).
config="CFG_TEE_CORE_LOG_LEVEL=3 CFG_TEE_BENCHMARK=n CFG_ARM_GICV3=y CFG_ARM64_core=y \
CFG_VIRTUALIZATION=y CFG_USER_TA_TARGETS=ta_arm64 CFG_VIRT_GUEST_COUNT=$BOARD_OPTEE_GUESTS"
key=$(board_hash_str "$ver $config $(cat "${patches[@]}" /dev/null | sha256sum) $(board_hash_files "$0")")
out=$BOARD_CACHE/optee/$BOARD_OPTEE_FLAVOUR-$upstream-$key
if [ -s "$out/tee-pager_v2.bin" ]; then
	echo "$out"
	exit 0
fi

# The source, Debian's patches applied (dpkg-source), committed so that
# ours apply with git am and the result exports with format-patch.
src=$BOARD_CACHE/optee/src-$ver
if [ ! -e "$src/.done" ]; then
	srcs=$(apt-cache showsrc optee-os 2>/dev/null | sed -n 's/^Version: //p' | sort -u)
	grep -qxF "$ver" <<<"$srcs" ||
		board_die "source optee-os=$ver is not listed (deb-src from scripts/apt-setup.sh missing: make deps; listed: $(echo $srcs))"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	chown _apt "$src.tmp" 2>/dev/null || true
	board_log "apt-get source optee-os=$ver"
	# apt downloads as _apt, sandboxed; where that user cannot reach the
	# network (a fresh chroot's DNS, seen in scripts/fresh-deps.sh), as
	# root, which is what apt itself falls back to for its lists.
	(cd "$src.tmp" && { apt-get source -q "optee-os=$ver" >apt-source.log 2>&1 ||
		apt-get source -q -o APT::Sandbox::User=root "optee-os=$ver" >>apt-source.log 2>&1; }) || {
		tail -n 15 "$src.tmp/apt-source.log" >&2
		board_die "apt-get source optee-os=$ver failed (is it on the mirror? $src.tmp/apt-source.log)"
	}
	mv "$src.tmp"/optee-os-*/ "$src.tmp/optee_os"
	(cd "$src.tmp/optee_os" && git init -q && git config gc.auto 0 &&
		git add -f -A . && git -c user.name=teemed -c user.email=teemed@localhost \
			commit -q -m "Debian optee-os $ver" && git tag debian-pristine)
	touch "$src.tmp/.done"
	mv "$src.tmp" "$src"
fi

work=$out.work.$$
rm -rf "$work"
mkdir -p "$work"
git -C "$src/optee_os" worktree prune
git -C "$src/optee_os" worktree add -q --detach "$work/optee_os" debian-pristine
if [ "${#patches[@]}" -gt 0 ]; then
	git -C "$work/optee_os" -c user.name=teemed -c user.email=teemed@localhost \
		am -q "${patches[@]}" || board_die "optee/patches do not apply to optee-os $ver"
fi
board_log "building OP-TEE $ver ($BOARD_OPTEE_FLAVOUR, ${#patches[@]} patches, $BOARD_OPTEE_GUESTS guests; log: $work/make.log)"
t0=$(board_now)
# debian/rules' flags for the qemu platform, for an arm64 host; optee_os
# links with ld itself, so LDFLAGS lose -Wl, and the -f options. Debian's
# python3 (board/packages: cryptography, pyelftools), not the first in PATH.
flags() {
	DEB_HOST_ARCH=arm64 DEB_BUILD_MAINT_OPTIONS=hardening=+all,-relro,-stackprotector,-format \
		dpkg-buildflags --get "$1"
}
ldflags=$(flags LDFLAGS | tr ' ' '\n' | sed 's/^-Wl,//' | grep -v '^-f\|^-mbranch-protection=' | tr '\n' ' ')
# shellcheck disable=SC2086
if ! CROSS_COMPILE=aarch64-linux-gnu- CFLAGS="$(flags CFLAGS)" CPPFLAGS="$(flags CPPFLAGS)" \
	CXXFLAGS="$(flags CXXFLAGS)" LDFLAGS="$ldflags" \
	nice -n 10 make -C "$work/optee_os" -j"${BOARD_JOBS:-2}" PLATFORM=vexpress-qemu_armv8a \
	O="$work/out" $config DEBUG=0 PYTHON3=/usr/bin/python3 >"$work/make.log" 2>&1; then
	tail -n 30 "$work/make.log" >&2
	board_die "OP-TEE build failed, see $work/make.log"
fi
mkdir -p "$out.tmp.$$"
cp "$work"/out/core/tee-{header,pager,pageable}_v2.bin "$work/make.log" "$out.tmp.$$/"
git -C "$work/optee_os" log --format='%h %s' debian-pristine.. >"$out.tmp.$$/patches.txt"
rm -rf "$out"
mv "$out.tmp.$$" "$out"
git -C "$src/optee_os" worktree remove --force "$work/optee_os"
rm -rf "$work"
board_log "OP-TEE built in $(board_elapsed "$t0") s"
echo "$out"
