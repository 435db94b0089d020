#!/usr/bin/env bash
# board/qemu.sh — the patched QEMU the board runs with VMM=qemu: Debian's
# QEMU source (apt-get source, BOARD_QEMU_SRC_VERSION) with qemu/patches/
# applied, cross-built for arm64 as one static qemu-system-aarch64 (KVM
# only, what the virt machine needs, FDT), against bookworm's arm64
# development packages unpacked into a sysroot and the arm64 libteemed
# installed there. Prints the binary's path.
# Cached in $BOARD_CACHE/qemu/build-<key>, keyed by the source version, the
# patches, the sysroot's packages, what libteemed is built from
# (board_teemed_lib_inputs) and this script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$BOARD_DIR/.." && pwd)
: "${QEMU_TEEMED_STAGE:?the arm64 libteemed installed with PREFIX=/usr (make qemu-arm64 sets it)}"
jobs=${BOARD_JOBS:-2}
dir=$BOARD_CACHE/qemu
ver=$BOARD_QEMU_SRC_VERSION
upstream=${ver#*:}
upstream=${upstream%-*}
mapfile -t sysroot_pkgs < <(board_qemu_sysroot_packages)
patches=()
for p in "$top"/qemu/patches/[0-9][0-9][0-9][0-9]-*.patch; do
	[ -e "$p" ] && [ "${p##*/0000-}" = "$p" ] && patches+=("$p")
done
key=$(board_hash_str "$ver ${sysroot_pkgs[*]} $(cat "${patches[@]}" /dev/null | sha256sum) \
$(board_teemed_lib_inputs) $(board_hash_files "$0")")
out=$dir/build-$key
# qemu.sh prepare: only the source and the sysroot, their paths printed
# (qemu/matrix.sh builds other configurations from them).
mode=${1:-build}
if [ "$mode" = build ] && [ -x "$out/qemu-system-aarch64" ]; then
	echo "$out/qemu-system-aarch64"
	exit 0
fi
t0=$(board_now)
mkdir -p "$dir"

# The source: Debian's, its patches applied (dpkg-source), committed so
# that ours apply with git am and export with format-patch.
src=$dir/src-${upstream}
if [ ! -e "$src/.done" ]; then
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	chown _apt "$src.tmp" 2>/dev/null || true
	board_log "apt-get source qemu=$ver"
	(cd "$src.tmp" && apt-get source -q "qemu=$ver" >apt-source.log 2>&1) ||
		board_die "apt-get source qemu=$ver failed: $src.tmp/apt-source.log"
	mv "$src.tmp"/qemu-*/ "$src.tmp/qemu"
	(cd "$src.tmp/qemu" && git init -q && git config gc.auto 0 &&
		git add -f -A . && git -c user.name=teemed -c user.email=teemed@localhost \
			commit -q -m "Debian qemu $ver" && git tag debian-pristine)
	touch "$src.tmp/.done"
	mv "$src.tmp" "$src"
fi

# The sysroot: bookworm's arm64 -dev packages, unpacked; libteemed on top.
sysroot=$dir/sysroot-$(board_hash_str "${sysroot_pkgs[*]}")
if [ ! -e "$sysroot/.done" ]; then
	rm -rf "$sysroot" "$sysroot.tmp"
	mkdir -p "$sysroot.tmp" "$BOARD_CACHE/debs"
	chown _apt "$BOARD_CACHE/debs" 2>/dev/null || true
	args=()
	for spec in "${sysroot_pkgs[@]}"; do args+=("$spec"); done
	(cd "$BOARD_CACHE/debs" && apt-get download -q "${args[@]}" >/dev/null) ||
		board_die "apt-get download of the sysroot failed: ${args[*]}"
	for spec in "${sysroot_pkgs[@]}"; do
		name=${spec%%:*}; v=${spec#*=}
		dpkg-deb -x "$BOARD_CACHE/debs/${name}_${v//:/%3a}_arm64.deb" "$sysroot.tmp"
	done
	touch "$sysroot.tmp/.done"
	mv "$sysroot.tmp" "$sysroot"
fi
if [ "$mode" = prepare ]; then
	echo "$src/qemu $sysroot"
	exit 0
fi

work=$out.work
rm -rf "$work" "$out"
mkdir -p "$work/bin"
cp -a "$sysroot" "$work/sysroot"
cp -a "$QEMU_TEEMED_STAGE/." "$work/sysroot/"
# pkg-config for the target: the sysroot's .pc files only, paths into it.
cat >"$work/bin/aarch64-linux-gnu-pkg-config" <<PC
#!/bin/sh
PKG_CONFIG_SYSROOT_DIR=$work/sysroot \\
PKG_CONFIG_LIBDIR=$work/sysroot/usr/lib/aarch64-linux-gnu/pkgconfig:$work/sysroot/usr/lib/pkgconfig:$work/sysroot/usr/share/pkgconfig \\
exec pkg-config "\$@"
PC
chmod +x "$work/bin/aarch64-linux-gnu-pkg-config"

tree=$work/qemu
git clone -q "$src/qemu" "$tree"
if [ ${#patches[@]} -gt 0 ]; then
	(cd "$tree" && git -c user.name=teemed -c user.email=teemed@localhost am -q "${patches[@]}") ||
		board_die "qemu/patches do not apply to Debian's qemu $ver"
fi
# Only the virt machine (and what it selects) with its OP-TEE mediator: a
# devices file of our own, as --without-default-devices leaves no machine
# at all, and takes nothing a machine merely implies.
printf 'CONFIG_ARM_VIRT=y\nCONFIG_ARM_VIRT_OPTEE=y\n' \
	>"$tree/configs/devices/aarch64-softmmu/teemed-board.mak"
board_log "configuring QEMU $upstream for arm64 (static, KVM, virt)"
mkdir -p "$tree/build"
(cd "$tree/build" && PATH=$work/bin:$PATH PKG_CONFIG=aarch64-linux-gnu-pkg-config \
	../configure --python=/usr/bin/python3 --cross-prefix=aarch64-linux-gnu- \
	--target-list=aarch64-softmmu \
	--static --enable-kvm --disable-tcg --without-default-features \
	--without-default-devices --with-devices-aarch64=teemed-board \
	--enable-fdt=system --disable-docs --disable-tools --disable-user --disable-werror \
	--disable-install-blobs \
	--extra-cflags="--sysroot=$work/sysroot -isystem $work/sysroot/usr/include -isystem $work/sysroot/usr/include/aarch64-linux-gnu" \
	--extra-ldflags="-L$work/sysroot/usr/lib/aarch64-linux-gnu -L$work/sysroot/usr/lib" \
	$([ ${#patches[@]} -gt 0 ] && echo --enable-teemed) >"$work/configure.log" 2>&1) || {
	tail -n 30 "$work/configure.log" >&2
	board_die "QEMU configure failed: $work/configure.log"
}
board_log "building QEMU (log: $work/build.log)"
(cd "$tree/build" && PATH=$work/bin:$PATH nice ninja -j "$jobs" qemu-system-aarch64 >"$work/build.log" 2>&1) || {
	grep -E "error|Error" "$work/build.log" | head -n 20 >&2
	board_die "QEMU build failed: $work/build.log"
}
mkdir -p "$out"
cp "$tree/build/qemu-system-aarch64" "$out/"
aarch64-linux-gnu-strip "$out/qemu-system-aarch64"
file "$out/qemu-system-aarch64" | grep -q 'ARM aarch64.*static' ||
	board_die "qemu-system-aarch64 is not a static arm64 binary"
rm -rf "$work"
board_log "QEMU built in $(board_elapsed "$t0") s: $out/qemu-system-aarch64"
echo "$out/qemu-system-aarch64"
