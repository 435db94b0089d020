#!/usr/bin/env bash
# board/image.sh — print the path of the host kernel as a raw arm64
# Image (what QEMU's -kernel hands u-boot's booti).  Debian's arm64
# vmlinuz is a raw Image today; older/other builds ship it gzip'd or as an
# EFI zboot image, which are unpacked into the cache.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

vmlinuz=$(board_kernel_root)/$BOARD_KERNEL_VMLINUZ
[ -s "$vmlinuz" ] || board_die "no $vmlinuz (run board/fetch.sh)"
# arm64 Image header: "ARM\x64" magic at offset 56.
is_image() { [ "$(dd if="$1" bs=1 skip=56 count=4 status=none)" = $'ARM\x64' ]; }
if is_image "$vmlinuz"; then
	echo "$vmlinuz"
	exit 0
fi
out=$BOARD_CACHE/kernel/Image-$BOARD_KERNEL_RELEASE-${BOARD_LINUX_IMAGE_VERSION//:/%3a}
if [ ! -s "$out" ]; then
	mkdir -p "${out%/*}"
	if [ "$(dd if="$vmlinuz" bs=1 skip=4 count=4 status=none)" = zimg ]; then
		# EFI zboot: payload offset/size (le32) at 8/12, compressor name at 24.
		off=$(od -An -tu4 -j8 -N4 "$vmlinuz" | tr -d ' ')
		size=$(od -An -tu4 -j12 -N4 "$vmlinuz" | tr -d ' ')
		comp=$(dd if="$vmlinuz" bs=1 skip=24 count=8 status=none | tr -d '\0')
		case "$comp" in
		gzip) dec="gzip -dc" ;; zstd) dec="zstd -dc" ;; xz) dec="xz -dc" ;;
		lzma) dec="xz --format=lzma -dc" ;; *) board_die "zboot compressor '$comp' unsupported" ;;
		esac
		tail -c +$((off + 1)) "$vmlinuz" | head -c "$size" | $dec >"$out.tmp.$$"
	else
		gzip -dc "$vmlinuz" >"$out.tmp.$$" || board_die "$vmlinuz: neither an Image, zboot nor gzip"
	fi
	is_image "$out.tmp.$$" || board_die "unpacked $vmlinuz is not an arm64 Image"
	mv "$out.tmp.$$" "$out"
fi
echo "$out"
