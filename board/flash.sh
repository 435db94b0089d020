#!/usr/bin/env bash
# board/flash.sh TFA_DIR — make QEMU virt's two 64 MiB flash banks and
# print the directory holding them:
#   flash0.bin  (secure-only with secure=on) BL1 at 0, the FIP at 256 KiB,
#               where TF-A's qemu platform looks for it;
#   flash1.bin  (normal world, 0x04000000) u-boot's environment.
#
# The environment matters: u-boot-qemu's default kernel_addr_r
# (0x40400000) lets the ~44 MB Debian Image overlap OP-TEE's shared
# memory at 0x42000000, so the kernel goes to 0x42200000 and the
# initramfs to 0x46000000; bootcmd loads both from QEMU's fw_cfg
# (-kernel/-initrd) and boots with the DTB OP-TEE amended.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tfa=${1:?usage: flash.sh TFA_DIR}
[ -s "$tfa/bl1.bin" ] && [ -s "$tfa/fip.bin" ] || board_die "no bl1.bin/fip.bin in $tfa"

# From u-boot-qemu's config.qemu_arm64: CONFIG_ENV_IS_IN_FLASH,
# CONFIG_ENV_ADDR=0x4000000 (start of bank 1), CONFIG_ENV_SIZE=0x40000.
env_size=0x40000
flash_size=64M # QEMU virt requires each pflash bank to be exactly 64 MiB
fip_offset=$((256 * 1024)) # TF-A plat/qemu: PLAT_QEMU_FIP_BASE = 0x40000

env_text='bootdelay=0
kernel_addr_r=0x42200000
ramdisk_addr_r=0x46000000
bootcmd=qfw load ${kernel_addr_r} ${ramdisk_addr_r} && booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}'

key=$(board_hash_str "$tfa $env_text $(board_hash_files "$0")")
out=$BOARD_CACHE/flash/${tfa##*/}-$key
if [ -s "$out/flash0.bin" ] && [ -s "$out/flash1.bin" ]; then
	echo "$out"
	exit 0
fi
tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
fip_max=$(( $(stat -c %s "$tfa/bl1.bin") ))
[ "$fip_max" -le "$fip_offset" ] || board_die "bl1.bin ($fip_max bytes) overlaps the FIP offset"
cp "$tfa/bl1.bin" "$tmp/flash0.bin"
dd if="$tfa/fip.bin" of="$tmp/flash0.bin" bs=4096 seek=$((fip_offset / 4096)) conv=notrunc status=none
truncate -s "$flash_size" "$tmp/flash0.bin"
printf '%s\n' "$env_text" >"$tmp/u-boot-env.txt"
mkenvimage -s "$env_size" -o "$tmp/flash1.bin" "$tmp/u-boot-env.txt"
truncate -s "$flash_size" "$tmp/flash1.bin"
rm -rf "$out"
mv "$tmp" "$out"
echo "$out"
