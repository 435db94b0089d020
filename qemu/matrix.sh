#!/usr/bin/env bash
# qemu/matrix.sh — does qemu/patches build in the configurations a
# distribution or a developer would use, with libteemed installed where
# the build looks for it? Each configuration is configured and its
# aarch64-softmmu and arm-softmmu system emulators linked; what the
# virt machine got is read from the build (config-devices.mak, nm):
#
#   x86_64      native, TCG (KVM cannot run Arm guests here): the stub
#   x86_64      --enable-teemed: configure must refuse, saying why
#   arm64       cross, KVM + TCG: aarch64 with the mediator, arm the stub
#   arm64       cross, --disable-kvm, configured only: nothing asks for
#               libteemed (x86_64-tcg links aarch64 without KVM)
#   arm64       cross, default devices, configured only: ARM_VIRT_OPTEE
#               implied by the virt machine on aarch64, absent on arm
#   arm64       cross, KVM + TCG, qemu/patches-10.2 on the newest Debian
#               source the mirror serves (BOARD_QEMU_NEWEST_SRC_VERSION):
#               the series' objects compiled for both targets
#   arm64       KVM only: the board's own build (board/qemu.sh)
#
# The builds take only the virt machine (--without-default-devices, a
# devices file), so that the matrix costs minutes, not hours.
# Results are cached in $BOARD_CACHE/qemu/matrix-<key> (the patches, what
# libteemed is built from, this script); prints one line per configuration and
# exits non-zero if any is not as expected.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$top/board/lib.sh"
: "${QEMU_TEEMED_STAGE:?the arm64 libteemed installed with PREFIX=/usr (make qemu-matrix sets it)}"
: "${QEMU_TEEMED_STAGE_HOST:?the x86_64 libteemed installed with PREFIX=/usr (make qemu-matrix sets it)}"
jobs=${BOARD_JOBS:-2}

read -r src sysroot < <(bash "$top/board/qemu.sh" prepare | tail -n1)
read -r src_newest _ < <(BOARD_QEMU_SRC_VERSION=$BOARD_QEMU_NEWEST_SRC_VERSION \
	bash "$top/board/qemu.sh" prepare | tail -n1)
patches=("$top"/qemu/patches/[0-9][0-9][0-9][1-9]-*.patch)
patches_newest=("$top"/qemu/patches-10.2/[0-9][0-9][0-9][1-9]-*.patch)
inputs=$(board_hash_str "$(cat "${patches[@]}" "${patches_newest[@]}" | sha256sum) \
$(board_teemed_lib_inputs) $src $src_newest")
key=$(board_hash_str "$inputs $(board_hash_files "$0")")
out=$BOARD_CACHE/qemu/matrix-$key
if [ -s "$out/results" ]; then
	cat "$out/results"
	! grep -q '^FAIL' "$out/results"
	exit
fi
# The build trees depend on the inputs, not on this script: an
# interrupted run goes on from them (ninja builds only what is missing).
work=$BOARD_CACHE/qemu/matrix-work-$inputs
mkdir -p "$work/bin"
t0=$(board_now)

tree=$work/qemu
if [ ! -e "$tree/.applied" ]; then
	rm -rf "$tree"
	git clone -q "$src" "$tree"
	(cd "$tree" && git -c user.name=teemed -c user.email=teemed@localhost am -q "${patches[@]}") ||
		board_die "qemu/patches do not apply"
	touch "$tree/.applied"
fi
for t in aarch64-softmmu arm-softmmu; do
	printf 'CONFIG_ARM_VIRT=y\n' >"$tree/configs/devices/$t/matrix.mak"
done
# The mediator where it can be: without default devices nothing is implied.
printf 'CONFIG_ARM_VIRT=y\nCONFIG_ARM_VIRT_OPTEE=y\n' >"$tree/configs/devices/aarch64-softmmu/matrix-optee.mak"

# pkg-config for each side: libteemed installed there, as a distribution has it.
cat >"$work/bin/host-pkg-config" <<PC
#!/bin/sh
PKG_CONFIG_PATH=$QEMU_TEEMED_STAGE_HOST/usr/lib/pkgconfig:$QEMU_TEEMED_STAGE_HOST/usr/lib/x86_64-linux-gnu/pkgconfig \\
exec pkg-config "\$@"
PC
rm -rf "$work/sysroot"
cp -a "$sysroot" "$work/sysroot"
cp -a "$QEMU_TEEMED_STAGE/." "$work/sysroot/"
cat >"$work/bin/aarch64-linux-gnu-pkg-config" <<PC
#!/bin/sh
PKG_CONFIG_SYSROOT_DIR=$work/sysroot \\
PKG_CONFIG_LIBDIR=$work/sysroot/usr/lib/aarch64-linux-gnu/pkgconfig:$work/sysroot/usr/lib/pkgconfig:$work/sysroot/usr/share/pkgconfig \\
exec pkg-config "\$@"
PC
chmod +x "$work/bin/"*-pkg-config
# Optional features as found (auto), as a distribution's build finds them:
# libteemed's detection is what is under test.
common=(--python=/usr/bin/python3 --enable-fdt=system --disable-docs
	--disable-tools --disable-user --disable-werror --disable-install-blobs)
# Static and not PIE: a static PIE of both emulators overflows the GOT
# that libc.a's -fpic code reaches (relocation truncated to fit); the
# board's smaller KVM-only build is static PIE.
cross=(--cross-prefix=aarch64-linux-gnu- --static --disable-pie
	"--extra-cflags=--sysroot=$work/sysroot -isystem $work/sysroot/usr/include -isystem $work/sysroot/usr/include/aarch64-linux-gnu"
	"--extra-ldflags=-L$work/sysroot/usr/lib/aarch64-linux-gnu -L$work/sysroot/usr/lib")

results=$work/results
: >"$results"
report() { # PASS|FAIL name details
	printf '%s %-34s %s\n' "$1" "$2" "$3" | tee -a "$results"
}

# configure NAME PKG_CONFIG ARGS...: in build-NAME; 0 if it configured
configure() {
	local name=$1 pc=$2
	shift 2
	[ ! -e "$tree/build-$name/.configured" ] || return 0
	rm -rf "$tree/build-$name"
	mkdir -p "$tree/build-$name"
	(cd "$tree/build-$name" && PATH=$work/bin:$PATH PKG_CONFIG=$pc \
		../configure "${common[@]}" "$@" >"$work/$name.configure.log" 2>&1) &&
		touch "$tree/build-$name/.configured"
}

# build NAME: both emulators linked
build() {
	(cd "$tree/build-$1" && PATH=$work/bin:$PATH nice ninja -j "$jobs" \
		qemu-system-aarch64 qemu-system-arm >"$work/$1.build.log" 2>&1)
}

# has NAME TARGET SYMBOL: the emulator defines SYMBOL (grep -c reads all
# of nm's output: with pipefail, grep -q would fail nm with SIGPIPE)
has() {
	local nm=nm
	case $1 in arm64-*) nm=aarch64-linux-gnu-nm ;; esac
	[ "$($nm "$tree/build-$1/qemu-system-$2" 2>/dev/null | grep -c " [Tt] $3\$")" -gt 0 ]
}

# device NAME TARGET SYMBOL: y if the target's configuration has it
device() {
	grep -qx "CONFIG_$3=y" "$tree/build-$1/$2-config-devices.mak" 2>/dev/null && echo y || echo n
}

# One built configuration: linked, and the mediator where expected.
check_built() { # name aarch64-mediator(y|n) details
	local name=$1 want=$2 med stub
	if ! build "$name"; then
		report FAIL "$name" "does not link: $(grep -m1 -E 'error|undefined' "$work/$name.build.log")"
		return
	fi
	med=n
	has "$name" aarch64 virt_optee_smccc && med=y
	stub=$(has "$name" arm virt_optee_smccc && echo mediator || echo stub)
	if [ "$med" = "$want" ] && [ "$stub" = stub ] && has "$name" arm virt_optee_create; then
		report PASS "$name" "links; aarch64: mediator=$med; arm: $stub; $3"
	else
		report FAIL "$name" "aarch64 mediator=$med (wanted $want), arm: $stub"
	fi
}

name=x86_64-tcg
if configure $name "$work/bin/host-pkg-config" --target-list=aarch64-softmmu,arm-softmmu \
	--without-default-devices --with-devices-aarch64=matrix --with-devices-arm=matrix; then
	check_built $name n "teemed: $(grep -m1 -o 'libteemed[^:]*: [A-Z]*' "$work/$name.configure.log" || echo 'not looked up')"
else
	report FAIL $name "configure: $(tail -n1 "$work/$name.configure.log")"
fi

name=x86_64-enable-teemed
if configure $name "$work/bin/host-pkg-config" --target-list=aarch64-softmmu --enable-teemed; then
	report FAIL $name "configured; it must refuse"
elif grep -q "needs KVM on an Arm64 Linux host" "$work/$name.configure.log"; then
	report PASS $name "refused: $(grep -m1 -o 'libteemed.*host' "$work/$name.configure.log")"
else
	report FAIL $name "failed otherwise: $(tail -n1 "$work/$name.configure.log")"
fi

name=arm64-kvm-tcg
if configure $name aarch64-linux-gnu-pkg-config "${cross[@]}" --target-list=aarch64-softmmu,arm-softmmu \
	--enable-kvm --enable-tcg --without-default-devices --with-devices-aarch64=matrix-optee \
	--with-devices-arm=matrix; then
	check_built $name y "teemed: $(grep -m1 -o 'libteemed[^:]*: [A-Z]*' "$work/$name.configure.log" || echo '?')"
else
	report FAIL $name "configure: $(tail -n1 "$work/$name.configure.log")"
fi

name=arm64-tcg-only
if configure $name aarch64-linux-gnu-pkg-config "${cross[@]}" --target-list=aarch64-softmmu,arm-softmmu \
	--disable-kvm --enable-tcg; then
	# Linking without KVM is x86_64-tcg's case; here: nothing asks for it.
	a=$(device $name aarch64-softmmu ARM_VIRT_OPTEE)
	looked=$(grep -c "Run-time dependency teemed" "$tree/build-$name/meson-logs/meson-log.txt" || true)
	if [ "$a" = n ] && [ "$looked" = 0 ]; then
		report PASS $name "configured: ARM_VIRT_OPTEE aarch64=$a, libteemed not looked up"
	else
		report FAIL $name "ARM_VIRT_OPTEE aarch64=$a, libteemed looked up $looked times"
	fi
else
	report FAIL $name "configure: $(tail -n1 "$work/$name.configure.log")"
fi

name=arm64-default-devices
if configure $name aarch64-linux-gnu-pkg-config "${cross[@]}" --target-list=aarch64-softmmu,arm-softmmu \
	--enable-kvm --enable-tcg; then
	a=$(device $name aarch64-softmmu ARM_VIRT_OPTEE)
	r=$(device $name arm-softmmu ARM_VIRT_OPTEE)
	if [ "$a" = y ] && [ "$r" = n ]; then
		report PASS $name "configured: ARM_VIRT_OPTEE aarch64=$a arm=$r"
	else
		report FAIL $name "ARM_VIRT_OPTEE aarch64=$a (wanted y) arm=$r (wanted n)"
	fi
else
	report FAIL $name "configure: $(tail -n1 "$work/$name.configure.log")"
fi

# The series carried to the newest QEMU source the mirror serves
# (qemu/patches-10.2: the same patches, its headers and context moved).
tree=$work/qemu-newest
if [ -e "$tree/.applied" ] || { rm -rf "$tree" && git clone -q "$src_newest" "$tree" &&
	(cd "$tree" && git -c user.name=teemed -c user.email=teemed@localhost am -q "${patches_newest[@]}") &&
	touch "$tree/.applied"; }; then
	printf 'CONFIG_ARM_VIRT=y\nCONFIG_ARM_VIRT_OPTEE=y\n' >"$tree/configs/devices/aarch64-softmmu/matrix-optee.mak"
	printf 'CONFIG_ARM_VIRT=y\n' >"$tree/configs/devices/arm-softmmu/matrix.mak"
	name=arm64-kvm-tcg-${BOARD_QEMU_NEWEST_SRC_VERSION#*:}
	if configure $name aarch64-linux-gnu-pkg-config "${cross[@]}" --target-list=aarch64-softmmu,arm-softmmu \
		--enable-kvm --enable-tcg --without-default-devices --with-devices-aarch64=matrix-optee \
		--with-devices-arm=matrix; then
		# The series' objects, for both targets: a whole link of
		# another tree would double the matrix's time.
		objs=$(cd "$tree/build-$name" && ninja -t targets all |
			grep -oE '^[^:]*(target_arm_kvm|hw_arm_virt|hw_arm_virt-optee|hw_arm_virt-optee-stub)\.c\.o' | sort -u)
		if (cd "$tree/build-$name" && PATH=$work/bin:$PATH nice ninja -j "$jobs" $objs \
			>"$work/$name.build.log" 2>&1); then
			report PASS $name "compiles: $(echo $objs | wc -w) objects ($(echo $objs | tr ' ' '\n' | sed 's/.*\.p\///' | sort -u | tr '\n' ' '))"
		else
			report FAIL $name "does not compile: $(grep -m1 -E 'error' "$work/$name.build.log")"
		fi
	else
		report FAIL $name "configure: $(tail -n1 "$work/$name.configure.log")"
	fi
else
	report FAIL "newest" "qemu/patches-10.2 do not apply to ${BOARD_QEMU_NEWEST_SRC_VERSION#*:}"
fi

# KVM only, aarch64: the board's own build (board/qemu.sh, cached).
if q=$(bash "$top/board/qemu.sh" 2>"$work/board.log" | tail -n1) && [ -x "$q" ]; then
	report PASS arm64-kvm-only "board/qemu.sh: links; the mediator's messages in it: $(grep -a -c 'OP-TEE has no free guest slot' "$q")"
else
	report FAIL arm64-kvm-only "board/qemu.sh: $(tail -n1 "$work/board.log")"
fi

echo "matrix: $(board_elapsed "$t0") s" | tee -a "$results"
if grep -q '^FAIL' "$results"; then
	echo "matrix: the build trees stay in $work" >&2
	exit 1
fi
mkdir -p "$out"
cp "$results" "$work"/*.log "$out/"
rm -rf "$work"
