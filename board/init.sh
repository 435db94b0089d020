#!/bin/busybox sh
# /init of the board's host initramfs (built by board/initramfs.sh).
#
# Brings up a minimal host: proc/sys/dev/tmpfs, loopback, the kernel
# modules listed in /etc/teemed/modules (in order), tee-supplicant; then
# runs the command list, one step per line, and powers off.  The command
# list comes from the kernel command line (teemed_cmds=<base64 script>,
# set by board/run.sh for the host; teemed_script=NAME, a file of
# /etc/teemed/scripts, for the e2e guests, whose scripts scripts/e2e.sh
# appends to their initramfs) or else from /etc/teemed/cmds (baked in, e.g.
# via BOARD_HOST_EXTRA).
#
# Everything the harness parses is a line starting with "TEEMED-":
#   TEEMED-BOOT uptime=<s> kernel=<r> cpus=<n>   /init started
#   TEEMED-KVM ok mode=<VHE|nVHE|...>|absent
#   TEEMED-MODULE <name> ok|FAIL rc=<n>    one per module
#   TEEMED-TEE ok|FAIL ...                 /dev/tee0 and tee-supplicant
#   TEEMED-STEP <n> BEGIN <command>
#   TEEMED-STEP <n> END rc=<rc> secs=<s>
#   TEEMED-RESULT pass|fail steps=<n> failed=<m> uptime=<s>
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu
export HOME=/root

mkdir -p /proc /sys /dev /tmp /run /root /var/lib/optee-client/data/tee
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# For the eBPF tools (bpf/): pinned maps and tracepoints.
mkdir -p /sys/fs/bpf
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
exec </dev/console >/dev/console 2>&1

uptime_s() { cut -d' ' -f1 /proc/uptime; }
echo "TEEMED-BOOT uptime=$(uptime_s) kernel=$(uname -r) cpus=$(grep -c ^processor /proc/cpuinfo)"
hostname teemed-host

# Loopback: xtest's socket tests (and tee-supplicant's socket RPC) use it.
ip link set lo up
ip addr add 127.0.0.1/8 dev lo 2>/dev/null

if [ -e /dev/kvm ]; then
	# "kvm [1]: VHE mode initialized successfully" (or nVHE/hVHE/protected)
	mode=$(dmesg | sed -n 's/.*kvm \[[0-9]*\]: \([a-zA-Z]*\) mode initialized successfully.*/\1/p' | head -n1)
	echo "TEEMED-KVM ok mode=${mode:-unknown}"
else
	echo "TEEMED-KVM absent"
fi

modules_failed=0
if [ -f /etc/teemed/modules ]; then
	while read -r name path; do
		[ -n "$name" ] || continue
		insmod "$path"
		rc=$?
		if [ $rc = 0 ]; then
			echo "TEEMED-MODULE $name ok"
		else
			echo "TEEMED-MODULE $name FAIL rc=$rc"
			modules_failed=$((modules_failed + 1))
		fi
	done </etc/teemed/modules
fi

# The optee driver registers /dev/tee0 and /dev/teepriv0 at probe.
i=0
while [ ! -e /dev/teepriv0 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e /dev/teepriv0 ]; then
	tee-supplicant >/tmp/tee-supplicant.log 2>&1 &
	supp=$!
	sleep 0.2
	if kill -0 $supp 2>/dev/null; then
		echo "TEEMED-TEE ok supplicant_pid=$supp uptime=$(uptime_s)"
	else
		echo "TEEMED-TEE FAIL tee-supplicant exited:"
		cat /tmp/tee-supplicant.log
	fi
else
	echo "TEEMED-TEE FAIL no /dev/teepriv0 (optee driver did not probe)"
fi

cmds=/tmp/teemed-cmds
: >"$cmds"
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	teemed_cmds=*) echo "${arg#teemed_cmds=}" | base64 -d >"$cmds" ;;
	teemed_script=*) cp "/etc/teemed/scripts/${arg#teemed_script=}" "$cmds" ;;
	esac
done
if [ ! -s "$cmds" ] && [ -f /etc/teemed/cmds ]; then
	cp /etc/teemed/cmds "$cmds"
fi

steps=0
failed=0
while IFS= read -r line <&3; do
	case "$line" in '' | '#'*) continue ;; esac
	steps=$((steps + 1))
	echo "TEEMED-STEP $steps BEGIN $line"
	t0=$(uptime_s)
	sh -c "$line"
	rc=$?
	secs=$(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }')
	echo "TEEMED-STEP $steps END rc=$rc secs=$secs"
	[ $rc = 0 ] || failed=$((failed + 1))
done 3<"$cmds"

if [ $failed = 0 ] && [ $modules_failed = 0 ] && [ $steps -gt 0 ]; then
	result=pass
else
	result=fail
fi
echo "TEEMED-RESULT $result steps=$steps failed=$failed modules_failed=$modules_failed uptime=$(uptime_s)"
if grep -qw teemed_shell /proc/cmdline; then
	echo "teemed_shell: dropping to a shell; 'poweroff -f' to stop"
	setsid cttyhack sh
fi
sync
poweroff -f
