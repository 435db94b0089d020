#!/usr/bin/env bash
# End to end on the emulated board: TF-A + Debian's NS-virtualized OP-TEE +
# the host kernel with the patched tee/optee modules (kernel/) + the
# reference VMM running a KVM guest whose unmodified OP-TEE driver reaches
# OP-TEE through libteemed. Runs xtest on the host, then in the guest(s),
# and prints a per-side summary. Exit 0 only if every side passed.
#
#   scripts/e2e.sh smoke|full|drills|smp|tenants|reboots|nvhe|trace
#
# Knobs: VMM (teemed: the reference VMM, the default; qemu: QEMU with
# qemu/patches, -machine virt,optee=on), STACK (board/versions.sh),
# E2E_HOST_XTEST, E2E_GUEST_XTEST (xtest arguments), E2E_GUEST_SCRIPT
# (the guest's command lines instead), E2E_GUESTS (guests run one after
# another), E2E_GUEST_CPUS (vCPUs), E2E_TIMEOUT (s, whole QEMU run),
# E2E_GUEST_MEM (MiB), E2E_VMM_ARGS (more arguments of teemed-vmm, such as
# --tee-foreign-intr-budget 0), BOARD_* (see board/run.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
mode=${1:-smoke}
cache=${TEEMED_CACHE:-/var/cache/teemed}

case "$mode" in
smoke)
	# Sessions, shared memory registration, RPC memory allocation, the
	# supplicant (TA loading, secure storage), in both worlds.
	: "${E2E_HOST_XTEST:=-t regression 1001 1002 1004 4001}"
	: "${E2E_GUEST_XTEST:=-t regression 1001 1002 1003 1004 1005 1006 1007 1008 1009 1010 1013 1016 1019 4001 6001 6002 6003 6004 6005}"
	: "${E2E_TIMEOUT:=2400}"
	;;
full)
	: "${E2E_HOST_XTEST:=-t regression}"
	: "${E2E_GUEST_XTEST:=-t regression}"
	: "${E2E_TIMEOUT:=5400}"
	;;
drills)
	# The failure drills of Documentation/e2e.md: SIGKILL of a VMM in the
	# middle of a guest's xtest, then two guests at once with the host's
	# own registration off, and a third refused.
	: "${E2E_HOST_XTEST:=-t regression 1001}"
	: "${E2E_GUEST_XTEST:=-t regression 1001 1004}"
	: "${E2E_TIMEOUT:=1800}"
	;;
smp)
	# A guest with 2 vCPUs (the board has 2) whose driver calls OP-TEE
	# from both at once: three xtest processes together (teemed-par, a
	# log each), then 1009 alone (its 2 s TEE_Wait cancel fails under
	# concurrent xtests on the host too).
	: "${E2E_HOST_XTEST:=-t regression 1001}"
	[ -n "${E2E_GUEST_SCRIPT:-}" ] ||
		E2E_GUEST_SCRIPT='teemed-par "-t regression 1004 1006 1013" "-t regression 4001 6001 6002" "-t regression 1001 1008"
xtest -t regression 1009'
	: "${E2E_GUEST_XTEST:=-t regression 1001}"
	: "${E2E_GUEST_CPUS:=2}"
	: "${E2E_TIMEOUT:=2400}"
	;;
nvhe)
	# KVM in nVHE mode (the host at EL1, KVM's hyp at EL2): the SMCCC
	# filter selftest and a guest's xtest through the mediator.
	: "${E2E_HOST_XTEST:=-t regression 1001}"
	: "${E2E_GUEST_XTEST:=-t regression 1001 1004 6001}"
	: "${E2E_TIMEOUT:=1200}"
	export BOARD_APPEND="${BOARD_APPEND:-} kvm-arm.mode=nvhe"
	;;
tenants)
	# OP-TEE's partitions, many and often (board/onboard/teemed-tenants):
	# E2E_CHURN open/close cycles of /dev/teevm0, every guest slot taken,
	# E2E_TENANTS guests at once with xtest next to the host's xtest and
	# more churn, then OP-TEE still whole.
	: "${E2E_HOST_XTEST:=-t regression 1001}"
	: "${E2E_GUEST_XTEST:=-t regression 1001 1004 4001 6001}"
	: "${E2E_TIMEOUT:=3600}"
	: "${E2E_CHURN:=200}"
	: "${E2E_GUEST_MEM:=256}"
	# Four guests of 256 MiB, their VMMs and the host's xtest.
	export BOARD_MEM="${BOARD_MEM:-3072}"
	# An OP-TEE with 8 slots (board/versions.sh): 4 tenants, the host, a
	# slot for churn beside them, and room to show the last one refused.
	# Each partition then has 1.3 MiB of TA memory, enough for the cases
	# above but not for TA-to-TA ones.
	export BOARD_OPTEE_GUESTS="${BOARD_OPTEE_GUESTS:-8}"
	;;
reboots)
	# A guest under QEMU rebooting itself, xtest at each boot
	# (board/onboard/teemed-reboots): each machine reset must give it a
	# new partition in OP-TEE.
	[ "${VMM:-qemu}" = qemu ] || { echo "e2e: reboots is QEMU's (VMM=qemu)" >&2; exit 2; }
	VMM=qemu
	: "${E2E_HOST_XTEST:=-t regression 1001}"
	: "${E2E_GUEST_XTEST:=-t regression 1001 1004 6001}"
	: "${E2E_REBOOTS:=3}"
	: "${E2E_TIMEOUT:=1800}"
	;;
trace)
	# The eBPF tools (bpf/, arm64 build) watching a guest's xtest.
	: "${E2E_HOST_XTEST:=-t regression 1001}"
	: "${E2E_GUEST_XTEST:=-t regression 1001 1004 1006 4001 6001}"
	: "${E2E_TIMEOUT:=1500}"
	;;
*)
	echo "usage: $0 smoke|full|drills|smp|tenants|reboots|nvhe|trace" >&2
	exit 2
	;;
esac
: "${E2E_GUESTS:=1}"
: "${E2E_GUEST_CPUS:=1}"
: "${E2E_GUEST_MEM:=512}"

: "${VMM:=teemed}"
# both: the guest under the reference VMM, then under QEMU, in one boot.
case "$VMM" in teemed | qemu | both) ;; *) echo "e2e: VMM=$VMM: teemed, qemu or both" >&2; exit 2 ;; esac
[ "$VMM" = teemed ] || [ "$mode" != trace ] || { echo "e2e: trace watches teemed-vmm" >&2; exit 2; }

echo "== e2e $mode (STACK=${STACK:-lts}, VMM=$VMM): building the arm64 VMM, the patched modules, the guest image"
make -C "$top" --no-print-directory arm64 >/dev/null
modules=$(make -C "$top" --no-print-directory -s kernel-modules | tail -n1)
[ -d "$modules" ] || { echo "e2e: kernel-modules gave no directory" >&2; exit 1; }
# The guest boots the same Debian kernel and a stock initramfs: Debian's own
# tee/optee modules, tee-supplicant, xtest and its TAs.
guest_log=$(mktemp)
guest_board=$(env -u BOARD_HOST_MODULES -u BOARD_HOST_EXTRA BOARD_OPTEE_FLAVOUR=vexpress-qemu_armv8a \
	bash "$top/board/build.sh" 2>"$guest_log") || {
	cat "$guest_log" >&2
	rm -f "$guest_log"
	echo "e2e: the guest's kernel and initramfs did not build" >&2
	exit 1
}
rm -f "$guest_log"
eval "$(grep -E '^BOARD_(KERNEL|INITRD)=' <<<"$guest_board")"
guest_kernel=$BOARD_KERNEL
guest_initrd=$BOARD_INITRD

extra=$(mktemp -d "${TMPDIR:-/tmp}/teemed-e2e.XXXXXX")
trap 'rm -rf "$extra" "$extra.guestfs"' EXIT
chmod 755 "$extra" # it is copied over the initramfs root, mode included
mkdir -p "$extra/usr/bin" "$extra/guest" "$extra/etc/teemed"
cp "$top/build/arm64/teemed-vmm" "$extra/usr/bin/"
if [ "$VMM" != teemed ]; then
	qemu=$(make -C "$top" --no-print-directory -s qemu-arm64 | tail -n1)
	[ -x "$qemu" ] || { echo "e2e: qemu-arm64 gave no binary" >&2; exit 1; }
	cp "$qemu" "$extra/usr/bin/"
fi
# The on-board scripts (board/onboard): the guest under each VMM
# (guest-vmm-teemed|guest-vmm-qemu MEM_MIB CMDLINE; guest-vmm is this
# run's), the drills, and what they read of this run (e2e.conf).
cp "$top"/board/onboard/guest-vmm-teemed "$top"/board/onboard/guest-vmm-qemu \
	"$top"/board/onboard/teemed-drills "$top"/board/onboard/teemed-tenants \
	"$top"/board/onboard/teemed-reboots "$extra/usr/bin/"
ln -s "guest-vmm-${VMM/both/teemed}" "$extra/usr/bin/guest-vmm"
guest_mem=$E2E_GUEST_MEM
[ "$mode" != drills ] || guest_mem=384
# OP-TEE's guest slots, the host's included: what board/optee.sh builds
# with, or Debian's 2. The guests at once default to all but the host's
# and the churn's.
optee_guests=$(. "$top/board/versions.sh" && { [ "$BOARD_OPTEE" = source ] && echo "$BOARD_OPTEE_GUESTS" || echo 2; })
tenants=${E2E_TENANTS:-$((optee_guests - 2 < 4 ? (optee_guests - 2 < 1 ? 1 : optee_guests - 2) : 4))}
{
	echo "GUEST_CPUS=$E2E_GUEST_CPUS"
	echo "OPTEE_GUESTS=$optee_guests"
	echo "TENANTS=$tenants"
	echo "CHURN=${E2E_CHURN:-200}"
	echo "VMM=$VMM"
	echo "GUEST_MEM=$guest_mem"
	printf 'VMM_ARGS=%q\n' "${E2E_VMM_ARGS:-}"
} >"$extra/etc/teemed/e2e.conf"
# The KVM selftest of the series (kernel/), and an unprivileged user.
[ -x "$modules/smccc_filter" ] && cp "$modules/smccc_filter" "$extra/usr/bin/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$extra/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$extra/etc/group"
cp "$guest_kernel" "$extra/guest/Image"

# The guests' scripts are files of their initramfs: an uncompressed newc
# archive put before the compressed one (the kernel unpacks one after the
# other; after a zstd stream it finds no magic, the early-microcode layout
# is this order), named on the guest's command line (teemed_script=NAME,
# board/init.sh).
guestfs=$extra.guestfs
mkdir -p "$guestfs/etc/teemed/scripts" "$guestfs/usr/bin"
cp "$top/board/onboard/teemed-par" "$guestfs/usr/bin/"
printf '%s\n' "${E2E_GUEST_SCRIPT:-xtest $E2E_GUEST_XTEST}" >"$guestfs/etc/teemed/scripts/run"
printf '%s\n' "xtest -t regression 1004 4001 6001 6002 6003 6004 6005" >"$guestfs/etc/teemed/scripts/long"
printf '%s\n' "xtest $E2E_GUEST_XTEST" >"$guestfs/etc/teemed/scripts/short"
printf '%s\n%s\n' "xtest $E2E_GUEST_XTEST" "sleep 30" >"$guestfs/etc/teemed/scripts/hold"
printf '%s\n%s\n' "xtest $E2E_GUEST_XTEST" "reboot -f" >"$guestfs/etc/teemed/scripts/reboot"
(cd "$guestfs" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) >"$extra/guest/initrd"
cat "$guest_initrd" >>"$extra/guest/initrd"
rm -rf "$guestfs"

guest_run="guest-vmm $guest_mem 'quiet panic=-1 teemed_script=run' 2>&1 | sed 's/^/guest| /'"
cmds="xtest $E2E_HOST_XTEST"
# The series' KVM selftest (SMCCC filter on the Trusted ranges), by full
# path: it opens its own ELF through argv[0].
[ "$mode" = nvhe ] && cmds+=$'\n'"/usr/bin/smccc_filter"
for i in $(seq 1 "$E2E_GUESTS"); do
	cmds+=$'\n'"set -o pipefail; $guest_run"
	[ "$VMM" != both ] || cmds+=$'\n'"set -o pipefail; ${guest_run/guest-vmm /guest-vmm-qemu }"
done
if [ "$mode" = trace ]; then
	make -C "$top" --no-print-directory bpf-arm64 >/dev/null
	cp "$top/build/arm64/teemedlat" "$top/build/arm64/teemedpins" "$extra/usr/bin/"
	cmds="xtest $E2E_HOST_XTEST"
	cmds+=$'\n'"teemedlat -b /usr/bin/teemed-vmm >/tmp/lat.txt 2>&1 & l=\$!; teemedpins -b /usr/bin/teemed-vmm >/tmp/pins.txt 2>&1 & p=\$!; sleep 3; set -o pipefail; $guest_run; rc=\$?; kill -INT \$l \$p; wait \$l \$p; cat /tmp/lat.txt /tmp/pins.txt; exit \$rc"
fi
[ "$mode" != drills ] || cmds="xtest $E2E_HOST_XTEST"$'\n'"teemed-drills"
[ "$mode" != tenants ] || cmds="xtest $E2E_HOST_XTEST"$'\n'"teemed-tenants"
[ "$mode" != reboots ] || cmds="xtest $E2E_HOST_XTEST"$'\n'"teemed-reboots ${E2E_REBOOTS:-3}"

out=${BOARD_OUT:-$cache/out/e2e-$mode-$(date +%Y%m%d-%H%M%S)}
set +e
BOARD_OPTEE_FLAVOUR=vexpress-qemu_armv8a-virtualized BOARD_HOST_MODULES="$modules" \
	BOARD_HOST_EXTRA="$extra" BOARD_TIMEOUT="$E2E_TIMEOUT" BOARD_OUT="$out" \
	BOARD_CMDS="$cmds" bash "$top/board/run.sh"
rc=$?
set -e
E2E_GUEST_CPUS=$E2E_GUEST_CPUS python3 "$here/e2e-summary.py" "$out/console.log" || rc=1
exit $rc
