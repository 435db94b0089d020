#!/usr/bin/env bash
# board/tfa.sh — build TF-A (BL1 + FIP with BL2, BL31, OP-TEE as BL32 and
# u-boot as BL33) for QEMU's virt machine from Debian's source package.
# Prints the directory holding bl1.bin and fip.bin.
#
# Cached in $BOARD_CACHE/tfa/<key>, the key covering TF-A's version, the
# OP-TEE build (board/optee.sh's directory, itself keyed by its inputs),
# u-boot's version, the OP-TEE flavour and this script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

optee=$("$BOARD_DIR/optee.sh")
uboot=$(board_pkg_root u-boot-qemu)/usr/lib/u-boot/qemu_arm64/u-boot.bin
[ -e "$uboot" ] || board_die "no $uboot (run board/fetch.sh)"

key=$(board_hash_str "$BOARD_TFA_VERSION $optee $BOARD_UBOOT_VERSION $BOARD_OPTEE_FLAVOUR $(board_hash_files "$0" "$BOARD_DIR/lib.sh")")
out=$BOARD_CACHE/tfa/$BOARD_OPTEE_FLAVOUR-$key
if [ -s "$out/bl1.bin" ] && [ -s "$out/fip.bin" ]; then
	echo "$out"
	exit 0
fi

# The source tree depends on the TF-A version only; unpack it once.
srcroot=$BOARD_CACHE/src/arm-trusted-firmware_$BOARD_TFA_VERSION
src=$srcroot/arm-trusted-firmware-${BOARD_TFA_VERSION%-*}
if [ ! -e "$srcroot/.unpacked" ]; then
	# Read whole: `apt-cache ... | grep -q` fails under pipefail when
	# grep stops before apt-cache has written everything.
	srcs=$(apt-cache showsrc arm-trusted-firmware 2>/dev/null | sed -n 's/^Version: //p' | sort -u)
	grep -qxF "$BOARD_TFA_VERSION" <<<"$srcs" ||
		board_die "source arm-trusted-firmware=$BOARD_TFA_VERSION is not on the mirror (deb-src from scripts/apt-setup.sh missing: make deps, or the pin in board/versions.sh vanished; available: $(echo $srcs))"
	rm -rf "$srcroot"
	mkdir -p "$srcroot"
	chown _apt "$srcroot" 2>/dev/null || true
	board_log "apt-get source arm-trusted-firmware=$BOARD_TFA_VERSION"
	(cd "$srcroot" && apt-get source -q "arm-trusted-firmware=$BOARD_TFA_VERSION" >"$srcroot/apt-source.log" 2>&1) ||
		board_die "apt-get source failed, see $srcroot/apt-source.log"
	[ -d "$src" ] || board_die "expected $src after apt-get source"
	touch "$srcroot/.unpacked"
fi

build=$out.build.$$
rm -rf "$build"
mkdir -p "$build"
board_log "building TF-A $BOARD_TFA_VERSION for $BOARD_OPTEE_FLAVOUR (log: $build/make.log)"
t0=$(board_now)
# min-pagesize=0: GCC 12 otherwise warns (-Werror) about the MMIO
# accesses to low addresses in the qemu platform code.
if ! nice -n 10 make -C "$src" -j2 \
	CROSS_COMPILE=aarch64-linux-gnu- \
	BUILD_BASE="$build" \
	PLAT=qemu QEMU_USE_GIC_DRIVER=QEMU_GICV3 \
	SPD=opteed BL32_RAM_LOCATION=tdram \
	BL32="$optee/tee-header_v2.bin" \
	BL32_EXTRA1="$optee/tee-pager_v2.bin" \
	BL32_EXTRA2="$optee/tee-pageable_v2.bin" \
	BL33="$uboot" \
	CFLAGS=--param=min-pagesize=0 \
	all fip >"$build/make.log" 2>&1; then
	tail -n 30 "$build/make.log" >&2
	board_die "TF-A build failed, see $build/make.log"
fi
mkdir -p "$out.tmp.$$"
cp "$build/qemu/release/bl1.bin" "$build/qemu/release/fip.bin" "$build/make.log" "$out.tmp.$$/"
rm -rf "$out"
mv "$out.tmp.$$" "$out"
rm -rf "$build"
board_log "TF-A built in $(board_elapsed "$t0") s"
echo "$out"
