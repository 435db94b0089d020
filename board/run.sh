#!/usr/bin/env bash
# board/run.sh — boot the emulated arm64 board (TF-A + OP-TEE + u-boot +
# Debian's 6.12 host kernel with KVM at EL2) and run a command list on the
# host, then report.
#
#   board/run.sh [COMMAND...]      one step per argument; default:
#                                  teemed-kvm-smoke, then xtest $BOARD_XTEST
# Knobs (environment):
#   BOARD_OPTEE_FLAVOUR  vexpress-qemu_armv8a (default) or
#                        vexpress-qemu_armv8a-virtualized (needs the patched
#                        driver in BOARD_HOST_MODULES)
#   BOARD_XTEST          xtest arguments (default: -t regression 1001 1002 1004)
#   BOARD_CMDS           newline-separated command list (replaces the default)
#   BOARD_TIMEOUT        hard limit for the whole QEMU run, s (default 300)
#   BOARD_OUT            output dir (default $TEEMED_CACHE/out/<timestamp>)
#   BOARD_SMP, BOARD_MEM QEMU -smp / -m (default 2, 2048)
#   BOARD_APPEND         extra kernel command line
#   BOARD_QEMU_EXTRA     extra QEMU arguments (word-split)
#   BOARD_VERBOSE=1      echo the whole normal-world console live
#   BOARD_STOP_ON_PANIC  1 (default): stop QEMU as soon as the secure world
#                        logs a panic (it never returns from one)
#   BOARD_HOST_KMODS, BOARD_HOST_MODULES, BOARD_HOST_EXTRA: see initramfs.sh
# Output dir: console.log (normal world, UART0), secure.log (secure world,
# UART1), timeline.log (host-clock time of milestones), summary.txt.
# Exit status: 0 only if every step passed and no xtest reported a
# failure; 124 on timeout; 1 otherwise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

: "${BOARD_XTEST:=-t regression 1001 1002 1004}"
: "${BOARD_TIMEOUT:=300}"
: "${BOARD_SMP:=2}"
: "${BOARD_MEM:=2048}"
: "${BOARD_APPEND:=}"
: "${BOARD_QEMU_EXTRA:=}"
: "${BOARD_VERBOSE:=0}"
: "${BOARD_OUT:=$TEEMED_CACHE/out/$(date +%Y%m%d-%H%M%S)-$$}"

if [ $# -gt 0 ]; then
	BOARD_CMDS=$(printf '%s\n' "$@")
fi
# Default: the two things the host must do for teemed, run a KVM guest
# and talk to OP-TEE.
: "${BOARD_CMDS:=teemed-kvm-smoke
xtest $BOARD_XTEST}"

board_versions_print
board_versions_check
export BOARD_VERSIONS_PRINTED=1
qemu_major=$(qemu-system-aarch64 --version 2>/dev/null |
	sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p')
[ "${qemu_major:-0}" -ge "$BOARD_QEMU_MIN_MAJOR" ] ||
	board_die "QEMU ${qemu_major:-missing}, the board needs $BOARD_QEMU_MIN_MAJOR or later: make deps"
eval "$("$here/build.sh")"

mkdir -p "$BOARD_OUT"
out=$BOARD_OUT
cmds_b64=$(printf '%s\n' "$BOARD_CMDS" | base64 -w0)
append="console=ttyAMA0 panic=-1 $BOARD_APPEND teemed_cmds=$cmds_b64"
[ "${#append}" -lt 2000 ] ||
	board_die "kernel command line too long (${#append} > 2000): bake long command lists into /etc/teemed/cmds via BOARD_HOST_EXTRA"

qemu=(qemu-system-aarch64
	-M virt,secure=on,virtualization=on,gic-version=3
	-cpu max,sve=off,sme=off -smp "$BOARD_SMP" -m "$BOARD_MEM"
	-display none -monitor none -no-reboot
	# No network: the board uses none, and QEMU's default NIC needs a
	# romfile (efi-virtio.rom, ipxe-qemu) a fresh machine does not have
	-nic none
	-drive "if=pflash,unit=0,format=raw,readonly=on,file=$BOARD_FLASH/flash0.bin"
	-drive "if=pflash,unit=1,format=raw,readonly=on,file=$BOARD_FLASH/flash1.bin"
	-kernel "$BOARD_KERNEL" -initrd "$BOARD_INITRD" -append "$append"
	-serial stdio -serial "file:$out/secure.log")
# shellcheck disable=SC2206
qemu+=($BOARD_QEMU_EXTRA)
{
	echo "flavour: $BOARD_OPTEE_FLAVOUR"
	echo "commands:"; printf '%s\n' "$BOARD_CMDS" | sed 's/^/  /'
	printf '%q ' "${qemu[@]}"; echo
} >"$out/run.txt"
board_versions_print >"$out/versions.txt"

board_log "booting ($BOARD_OPTEE_FLAVOUR, timeout ${BOARD_TIMEOUT}s), output in $out"
start=$(board_now)
# Stamp milestones with the host clock as the console streams in.
stamp_console() {
	local line t
	: >"$out/timeline.log"
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$out/console.log"
		case "$line" in
		*TEEMED-* | "NOTICE:  Booting Trusted Firmware"* | "U-Boot "* | \
			*"Booting Linux on"* | *"Kernel panic"* | *" subtest"*" of which "* | \
			*" test case"*" of which "*)
			t=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%7.2f", b - a }')
			printf '%s %s\n' "$t" "$line" >>"$out/timeline.log"
			[ "$BOARD_VERBOSE" = 1 ] || printf '[%s] %s\n' "$t" "$line"
			;;
		esac
		[ "$BOARD_VERBOSE" != 1 ] || printf '%s\n' "$line"
	done
}
: >"$out/console.log"
# OP-TEE: "Panic 'msg' at file:line" / "Panic at ..."; TF-A: "PANIC in EL3".
secure_panic_re="Panic '|Panic at|PANIC"
fifo=$out/.console.fifo
rm -f "$fifo"
mkfifo "$fifo"
: >"$out/secure.log"
timeout -k 5 "$BOARD_TIMEOUT" "${qemu[@]}" </dev/null >"$fifo" 2>"$out/qemu.stderr" &
qpid=$!
stamp_console <"$fifo" &
cpid=$!
# A panicked secure world never comes back: stop at once rather than wait
# for the timeout (BOARD_STOP_ON_PANIC=0 to keep waiting).
# After the run's result, TF-A's poweroff (qemu_system_off) raises the
# power-off GPIO and then panics, as a poweroff that returned would: QEMU
# usually exits first, but not always. That one is not a failure.
stopped_on_panic=0
while kill -0 "$qpid" 2>/dev/null; do
	if [ "${BOARD_STOP_ON_PANIC:-1}" = 1 ] && ! grep -qa '^TEEMED-RESULT ' "$out/console.log" &&
		grep -qaE "$secure_panic_re" "$out/secure.log"; then
		sleep 2 # let the call stack reach the log
		board_log "secure world panicked: stopping QEMU"
		stopped_on_panic=1
		kill "$qpid" 2>/dev/null || true
		break
	fi
	sleep 1
done
set +e
wait "$qpid"
rc=$?
wait "$cpid"
set -e
rm -f "$fifo"
elapsed=$(board_elapsed "$start")

# --- Summary ----------------------------------------------------------------
sum_field() { # sum_field REGEX FIELD: sum field FIELD of console lines matching REGEX
	awk -v re="$1" -v f="$2" '$0 ~ re { s += $f } END { print s + 0 }' "$out/console.log"
}
result=$(grep -a '^TEEMED-RESULT ' "$out/console.log" | tail -n1 || true)
n_sub=$(sum_field '^[0-9]+ subtests? of which [0-9]+ failed' 1)
f_sub=$(sum_field '^[0-9]+ subtests? of which [0-9]+ failed' 5)
n_case=$(sum_field '^[0-9]+ test cases? of which [0-9]+ failed' 1)
f_case=$(sum_field '^[0-9]+ test cases? of which [0-9]+ failed' 6)
n_xtest=$(grep -acE '^[0-9]+ test cases? of which [0-9]+ failed' "$out/console.log" || true)
secure_panic=$(grep -aE "$secure_panic_re" "$out/secure.log" | head -n3 || true)
if [ -n "$result" ] && [ -n "$secure_panic" ] && [ "$secure_panic" = "$(tail -n1 "$out/secure.log" | grep -a '^PANIC at PC')" ]; then
	secure_panic="(TF-A's poweroff, after the result: $secure_panic)"
fi
# An oops, a WARN, and what the memory debugging Debian's kernels offer
# reports (page_poison=1: pagealloc; slub_debug; CONFIG_DEBUG_LIST): a use
# after free is silent otherwise.
kernel_bug_re='Kernel panic|Internal error:|Unable to handle|WARNING: CPU|BUG: |pagealloc: memory corruption|Bad page (state|map)|list_(add|del) corruption|Poison overwritten|Redzone overwritten|Object already free'
kernel_panic=$(grep -aE "$kernel_bug_re" "$out/console.log" | head -n3 || true)

status=fail
if [ "$stopped_on_panic" = 1 ]; then
	status=secure-panic
elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	status=timeout
elif [[ "$result" == "TEEMED-RESULT pass "* ]] && [ "$f_sub" = 0 ] && [ "$f_case" = 0 ] &&
	[ -z "$kernel_panic" ]; then
	status=pass
fi
{
	echo "== teemed board run: $status"
	echo "flavour:   $BOARD_OPTEE_FLAVOUR"
	echo "kernel:    $BOARD_KERNEL_RELEASE (Debian $BOARD_LINUX_IMAGE_VERSION)"
	echo "op-tee:    $(sed -n 's/.*OP-TEE version: \([^ ]*\).*/\1/p' "$out/secure.log" | head -n1)$(
		grep -aqE 'NS-virtualization enabled' "$out/secure.log" &&
			sed -n 's/.*NS-virtualization enabled, \(.*\)/, NS-virtualization (\1)/p' "$out/secure.log" | head -n1)"
	echo "qemu rc:   $rc   wall: ${elapsed}s (timeout ${BOARD_TIMEOUT}s)"
	echo "result:    ${result:-<no TEEMED-RESULT line>}"
	grep -a '^TEEMED-STEP .* END ' "$out/console.log" | sed 's/^/step:      /' || true
	if [ "$n_xtest" -gt 0 ]; then
		echo "xtest:     $n_sub subtests, $f_sub failed; $n_case test cases, $f_case failed ($n_xtest run(s))"
		grep -aE '^[^ ]+ (FAILED|failed)' "$out/console.log" | head -n 20 | sed 's/^/           /' || true
	fi
	[ -z "$kernel_panic" ] || printf 'kernel:    %s\n' "$kernel_panic"
	[ -z "$secure_panic" ] || printf 'secure:    %s\n' "$secure_panic"
	echo "timeline (s since QEMU start):"
	sed 's/^/  /' "$out/timeline.log"
	echo "logs:      $out/{console,secure,timeline}.log"
} | tee "$out/summary.txt"
if [ "$status" != pass ]; then
	echo "--- last console lines:"; tail -n 15 "$out/console.log"
	echo "--- last secure-world lines:"; tail -n 15 "$out/secure.log"
	[ ! -s "$out/qemu.stderr" ] || { echo "--- qemu stderr:"; cat "$out/qemu.stderr"; }
	if [ "$status" = secure-panic ] && [ -z "${BOARD_HOST_MODULES:-}" ] &&
		[ "$BOARD_OPTEE_FLAVOUR" = vexpress-qemu_armv8a-virtualized ]; then
		echo "note: expected with Debian's stock optee driver, which calls the NS-virtualized"
		echo "      OP-TEE as the hypervisor (a7 = 0); see Documentation/board.md."
	fi
fi >&2
case "$status" in
pass) exit 0 ;;
timeout) exit 124 ;;
*) exit 1 ;;
esac
