#!/usr/bin/env bash
# board/build.sh — make everything a boot needs (fetch, TF-A, flash,
# kernel Image, host initramfs), each step cached, and print a manifest of
# shell assignments on stdout (BOARD_FLASH, BOARD_KERNEL, BOARD_INITRD)
# for run.sh to eval.  Progress and timings go to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

t0=$(board_now)
"$here/fetch.sh" >&2
t=$(board_now); tfa=$("$here/tfa.sh"); board_log "tf-a: $tfa ($(board_elapsed "$t") s)"
flash=$("$here/flash.sh" "$tfa")
kernel=$("$here/image.sh")
t=$(board_now); initrd=$("$here/initramfs.sh"); board_log "initramfs: $initrd ($(board_elapsed "$t") s)"
board_log "build done in $(board_elapsed "$t0") s"
printf 'BOARD_FLASH=%q\nBOARD_KERNEL=%q\nBOARD_INITRD=%q\n' "$flash" "$kernel" "$initrd"
