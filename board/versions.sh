# shellcheck shell=bash
# board/versions.sh — the ONE place where the board's Debian package
# versions are chosen.  Sourced by every board script (and usable by
# anyone else: `. board/versions.sh`).  Nothing here touches the network.
#
# Every version is pinned exactly, so that a run is reproducible and the
# caches keyed by these strings stay valid.  Debian's mirror keeps only
# current versions: when a pin vanishes, fetch.sh fails and names the
# versions still available; moving forward is one edit below (or an
# environment override of the same variable for a one-off run).
#
# Where the package comes from is noted for each pin; trixie is pinned at
# priority 50 by scripts/apt-setup.sh, and the arm64 packages are only
# ever `apt-get download`ed and unpacked into the cache, never installed.

# --- Stacks ----------------------------------------------------------------
# STACK picks one of two complete sets of pins (make run STACK=current):
#   lts      what users run today: Debian's 6.12 (bookworm-security, the
#            kernel of Debian 13 and Debian 12 backports), OP-TEE 4.5 and
#            its xtest (trixie); the kernel/ series' 6.12 backport
#   current  today's upstream as Debian ships it: Linux 7.2 and OP-TEE
#            4.10 from unstable (sid); the kernel/ mainline series
# Both are pinned exactly; only the packages named below are ever taken
# from trixie or sid (priority 50 in scripts/apt-setup.sh).
: "${STACK:=lts}"

# Design rule: the kernel source the kernel/ series applies to, the headers
# (Module.symvers) the modules are built against, and the image the board
# boots must be the SAME Debian upload, or a module built here will not
# load there (vermagic/modversions). One variable drives all three; each
# can still be overridden on its own, and board_versions_check refuses a
# mismatch.
case "$STACK" in
lts)
	: "${BOARD_KERNEL_DEB_VERSION:=6.12.117-1~deb12u1}"
	BOARD_KERNEL_SERIES=6.12
	# The Debian release the upload is built for, part of its ABI name
	# (6.12.117+deb12 for 6.12.117-1~deb12u1).
	: "${BOARD_KERNEL_ABI_SUFFIX:=deb12}"
	# The optee-os QEMU builds, incl. the NS-virtualization flavour.
	: "${BOARD_OPTEE_OS_VERSION:=4.5.0-2}"
	# OP-TEE's source is not on the mirror (optee-os 4.5.0-2's files
	# answer 404, checked 2026-12-07): Debian's prebuilt 4.5, unpatched,
	# with its two guest slots (board/optee.sh).
	: "${BOARD_OPTEE:=debian}"
	: "${BOARD_OPTEE_SRC_VERSION:=}"
	# TF-A, built from source (`apt-get source`).
	: "${BOARD_TFA_VERSION:=2.12.1+dfsg-1}"
	# optee-client (tee-supplicant, libteec2, libckteec0t64) and
	# optee-test (xtest + TAs, signed with OP-TEE's default key); they
	# need their suite's libc and libssl, unpacked into the initramfs.
	: "${BOARD_OPTEE_CLIENT_VERSION:=4.5.0-1}"
	: "${BOARD_OPTEE_TEST_VERSION:=4.5.0-1}"
	: "${BOARD_LIBC_VERSION:=2.41-12+deb13u5}"
	: "${BOARD_LIBSSL_VERSION:=3.5.9-1~deb13u1}"
	: "${BOARD_LIBZSTD_VERSION:=1.5.7+dfsg-1}"
	: "${BOARD_ZLIB_VERSION:=1:1.3.dfsg+really1.3.1-1+deb13u1}"
	BOARD_SUITE=trixie
	;;
current)
	: "${BOARD_KERNEL_DEB_VERSION:=7.2.13-1}"
	BOARD_KERNEL_SERIES=7.2
	: "${BOARD_KERNEL_ABI_SUFFIX:=deb14}"
	: "${BOARD_OPTEE_OS_VERSION:=4.10.0-2}"
	# The virtualized OP-TEE built from this source with optee/patches
	# (board/optee.sh); BOARD_OPTEE=debian boots the prebuilt one.
	: "${BOARD_OPTEE:=source}"
	: "${BOARD_OPTEE_SRC_VERSION:=4.10.0-2}"
	# sid lists TF-A 2.12.16+dfsg-1, but the mirror serves none of its
	# source files (404, checked 2026-11-30): trixie's, as for lts.
	: "${BOARD_TFA_VERSION:=2.12.1+dfsg-1}"
	: "${BOARD_OPTEE_CLIENT_VERSION:=4.11.0-1}"
	: "${BOARD_OPTEE_TEST_VERSION:=4.10.0-1}"
	: "${BOARD_LIBC_VERSION:=2.43-7}"
	: "${BOARD_LIBSSL_VERSION:=3.6.5-1}"
	: "${BOARD_LIBZSTD_VERSION:=1.5.7+dfsg-4}"
	: "${BOARD_ZLIB_VERSION:=1:1.3.dfsg+really1.3.2-4}"
	BOARD_SUITE=sid
	;;
*)
	echo "board: STACK=$STACK: lts or current" >&2
	return 1 2>/dev/null || exit 1
	;;
esac
: "${BOARD_LINUX_SOURCE_VERSION:=$BOARD_KERNEL_DEB_VERSION}"
: "${BOARD_LINUX_IMAGE_VERSION:=$BOARD_KERNEL_DEB_VERSION}"
: "${BOARD_LINUX_HEADERS_VERSION:=$BOARD_KERNEL_DEB_VERSION}"
# The ABI name Debian puts in package names and `uname -r`; derived, so
# it cannot drift from the version.
BOARD_KERNEL_ABI="${BOARD_LINUX_IMAGE_VERSION%%-*}+$BOARD_KERNEL_ABI_SUFFIX"
BOARD_KERNEL_FLAVOUR=arm64
BOARD_KERNEL_RELEASE="$BOARD_KERNEL_ABI-$BOARD_KERNEL_FLAVOUR"
BOARD_PKG_LINUX_SOURCE=linux-source-$BOARD_KERNEL_SERIES
BOARD_PKG_LINUX_HEADERS="linux-headers-$BOARD_KERNEL_RELEASE"
# The packages the booted kernel comes in, and where in them its image,
# its config and its modules are. 6.12 is one package; 7.2 splits it
# (linux-image-* is only a metapackage there, and has no -unsigned).
case "$BOARD_KERNEL_SERIES" in
6.12)
	BOARD_PKG_LINUX_IMAGE="linux-image-$BOARD_KERNEL_RELEASE-unsigned"
	BOARD_KERNEL_PKGS="$BOARD_PKG_LINUX_IMAGE"
	BOARD_KERNEL_CONFIG_PKG=$BOARD_PKG_LINUX_IMAGE
	BOARD_KERNEL_VMLINUZ=boot/vmlinuz-$BOARD_KERNEL_RELEASE
	BOARD_KERNEL_CONFIG=boot/config-$BOARD_KERNEL_RELEASE
	;;
*)
	BOARD_PKG_LINUX_IMAGE="linux-binary-$BOARD_KERNEL_RELEASE"
	BOARD_KERNEL_PKGS="$BOARD_PKG_LINUX_IMAGE linux-modules-$BOARD_KERNEL_RELEASE linux-base-$BOARD_KERNEL_RELEASE"
	BOARD_KERNEL_CONFIG_PKG=linux-base-$BOARD_KERNEL_RELEASE
	BOARD_KERNEL_VMLINUZ=usr/lib/modules/$BOARD_KERNEL_RELEASE/vmlinuz
	BOARD_KERNEL_CONFIG=usr/lib/modules/$BOARD_KERNEL_RELEASE/config
	;;
esac

# Guest slots of an OP-TEE built from source (CFG_VIRT_GUEST_COUNT; the
# host takes one): 2, as Debian builds it. OP-TEE splits its TA memory
# evenly between the slots when it boots (virtualization.c,
# get_ta_ram_size()), and QEMU's virt board gives it 13 MiB: 2 slots
# leave each partition 6.2 MiB. e2e-smp's three xtest processes at once in
# one guest need that: with 3 slots (4.03 MiB) xtest 1006 fails now and
# then with TEE_ERROR_OUT_OF_MEMORY in ldelf, and with 6 (1.86 MiB) or 8
# (1.3 MiB) even one xtest fails its TA-to-TA cases (1006, 1008, 1016).
# e2e-tenants, whose guests run lighter cases, builds an 8-slot OP-TEE of
# its own (scripts/e2e.sh).
: "${BOARD_OPTEE_GUESTS:=2}"

# --- Boot chain and host user space shared by both stacks ------------------
# u-boot-qemu (Architecture: all; trixie) provides BL33.
: "${BOARD_UBOOT_VERSION:=2025.01-3+deb13u1}"
# busybox-static (bookworm): the initramfs shell and tools.
: "${BOARD_BUSYBOX_VERSION:=1:1.35.0-4+deb12u1+b1}"

# --- QEMU in the board (VMM=qemu, board/qemu.sh) ----------------------------
# Debian's QEMU source (trixie's 10.0 update; sid's 11.1.3 is listed but
# its files are not on the mirror) with qemu/patches, cross-built static
# for arm64 against bookworm's arm64 development packages unpacked into a
# sysroot (bookworm's, the cross toolchain's own libc).
: "${BOARD_QEMU_SRC_VERSION:=1:10.0.13+ds-0+deb13u1}"
# The newest QEMU source the mirror serves (sid's 11.x files answer 404):
# qemu/patches-10.2 is the series carried to it, built by qemu/matrix.sh.
: "${BOARD_QEMU_NEWEST_SRC_VERSION:=1:10.2.2+ds-1}"
board_qemu_sysroot_packages() {
	printf '%s\n' \
		"libglib2.0-dev:arm64=2.74.6-2+deb12u9" \
		"libglib2.0-0:arm64=2.74.6-2+deb12u9" \
		"libpcre2-dev:arm64=10.42-1+deb12u2" \
		"libpcre2-8-0:arm64=10.42-1+deb12u2" \
		"zlib1g-dev:arm64=1:1.2.13.dfsg-1" \
		"libfdt-dev:arm64=1.6.1-4+b1" \
		"libfdt1:arm64=1.6.1-4+b1" \
		"libffi-dev:arm64=3.4.4-1"
}

# --- Host tools (board/packages, installed by make deps) ------------------
# QEMU 10 from bookworm-backports; board/run.sh checks the major, not the
# exact version, since the host has one installed version at a time.
BOARD_QEMU_MIN_MAJOR=10

# The packages fetch.sh downloads and unpacks: "name:arch=version".
board_packages() {
	local k
	for k in $BOARD_KERNEL_PKGS; do
		printf '%s\n' "$k:arm64=$BOARD_LINUX_IMAGE_VERSION"
	done
	printf '%s\n' \
		"optee-os:arm64=$BOARD_OPTEE_OS_VERSION" \
		"u-boot-qemu:all=$BOARD_UBOOT_VERSION" \
		"tee-supplicant:arm64=$BOARD_OPTEE_CLIENT_VERSION" \
		"libteec2:arm64=$BOARD_OPTEE_CLIENT_VERSION" \
		"libckteec0t64:arm64=$BOARD_OPTEE_CLIENT_VERSION" \
		"optee-test-qemu:arm64=$BOARD_OPTEE_TEST_VERSION" \
		"libc6:arm64=$BOARD_LIBC_VERSION" \
		"libssl3t64:arm64=$BOARD_LIBSSL_VERSION" \
		"libzstd1:arm64=$BOARD_LIBZSTD_VERSION" \
		"zlib1g:arm64=$BOARD_ZLIB_VERSION" \
		"busybox-static:arm64=$BOARD_BUSYBOX_VERSION"
}

# The packages kbuild.sh assembles into a tree for building out-of-tree
# modules (e.g. the patched tee.ko/optee.ko) for the board's kernel on
# this x86_64 machine: the arm64 headers, their common part, and the
# kbuild host tools built for amd64 — all the same upload as the image.
# The lts stack only: 7.2's linux-kbuild needs a newer libc than Debian
# 12's (kernel/scripts/kernel.sh prepares a tree from the source instead).
board_kbuild_packages() {
	[ "$STACK" = lts ] || return 0
	printf '%s\n' \
		"$BOARD_PKG_LINUX_HEADERS:arm64=$BOARD_LINUX_HEADERS_VERSION" \
		"linux-headers-${BOARD_LINUX_HEADERS_VERSION%%-*}+$BOARD_KERNEL_ABI_SUFFIX-common:all=$BOARD_LINUX_HEADERS_VERSION" \
		"linux-kbuild-${BOARD_LINUX_HEADERS_VERSION%%-*}+$BOARD_KERNEL_ABI_SUFFIX:amd64=$BOARD_LINUX_HEADERS_VERSION"
}

# Print the versions in force (every board script calls this first).
board_versions_print() {
	cat <<EOF
teemed board versions (board/versions.sh, STACK=$STACK):
  kernel       $BOARD_KERNEL_RELEASE  (Debian $BOARD_LINUX_IMAGE_VERSION)
    source     $BOARD_PKG_LINUX_SOURCE=$BOARD_LINUX_SOURCE_VERSION
    image      $BOARD_PKG_LINUX_IMAGE=$BOARD_LINUX_IMAGE_VERSION
    headers    $BOARD_PKG_LINUX_HEADERS=$BOARD_LINUX_HEADERS_VERSION
  optee-os     $BOARD_OPTEE_OS_VERSION  (virtualized: BOARD_OPTEE=$BOARD_OPTEE${BOARD_OPTEE_SRC_VERSION:+, source $BOARD_OPTEE_SRC_VERSION, $BOARD_OPTEE_GUESTS guests})
  tf-a         arm-trusted-firmware (source) $BOARD_TFA_VERSION
  u-boot-qemu  $BOARD_UBOOT_VERSION
  optee-client $BOARD_OPTEE_CLIENT_VERSION   optee-test $BOARD_OPTEE_TEST_VERSION
  libc6        $BOARD_LIBC_VERSION   libssl3t64 $BOARD_LIBSSL_VERSION
  busybox      $BOARD_BUSYBOX_VERSION
  qemu (host)  $(qemu-system-aarch64 --version 2>/dev/null | head -n1 || echo 'not installed')
EOF
}

# Refuse inconsistent kernel pins (no network needed).
board_versions_check() {
	if [ "$BOARD_LINUX_SOURCE_VERSION" != "$BOARD_LINUX_IMAGE_VERSION" ] ||
		[ "$BOARD_LINUX_HEADERS_VERSION" != "$BOARD_LINUX_IMAGE_VERSION" ]; then
		cat >&2 <<EOF
board: kernel versions disagree:
  $BOARD_PKG_LINUX_SOURCE    $BOARD_LINUX_SOURCE_VERSION
  $BOARD_PKG_LINUX_IMAGE     $BOARD_LINUX_IMAGE_VERSION
  $BOARD_PKG_LINUX_HEADERS   $BOARD_LINUX_HEADERS_VERSION
The kernel source, headers and image must be the same Debian upload:
set BOARD_KERNEL_DEB_VERSION in board/versions.sh (and drop per-package
overrides).
EOF
		return 1
	fi
	case "$BOARD_LINUX_IMAGE_VERSION" in
	"$BOARD_KERNEL_SERIES".*) ;;
	*)
		echo "board: BOARD_KERNEL_DEB_VERSION=$BOARD_LINUX_IMAGE_VERSION is not a $BOARD_KERNEL_SERIES upload (STACK=$STACK)" >&2
		return 1
		;;
	esac
}

# Are these pinned packages on the mirror?  One apt-cache call for all
# (apt's cache may be disabled, as in Debian's container images, making
# every apt call cost seconds).  For each missing one, say what there is.
# usage: board_versions_available NAME:ARCH=VERSION...   (ARCH may be all)
board_versions_available() {
	local spec name arch version names=() madison have rc=0 n like others
	for spec; do
		name=${spec%%:*}; arch=${spec#*:}; arch=${arch%%=*}
		if [ "$arch" = all ]; then names+=("$name"); else names+=("$name:$arch"); fi
	done
	# "name version arch" for each binary package line.
	madison=$(apt-cache madison "${names[@]}" 2>/dev/null |
		awk -F'|' '$3 ~ / Packages$/ { gsub(/ /, "", $1); sub(/:.*/, "", $1); gsub(/ /, "", $2);
			n = split($3, a, " "); print $1, $2, a[n - 1] }')
	for spec; do
		name=${spec%%:*}; arch=${spec#*:}; arch=${arch%%=*}; version=${spec#*=}
		if [ "$arch" = all ]; then
			printf '%s\n' "$madison" | grep -q "^$name $version " && continue
		else
			printf '%s\n' "$madison" | grep -qxF "$name $version $arch" && continue
		fi
		have=$(printf '%s\n' "$madison" | awk -v n="$name" '$1 == n { print $2 }' | sort -uV)
		case "$name" in
		linux-image-* | linux-headers-* | linux-kbuild-* | linux-binary-* | linux-modules-* | linux-base-*)
			# The version is part of the name: list the uploads there are.
			like="^${name%%"$BOARD_KERNEL_SERIES".*}${BOARD_KERNEL_SERIES//./\\.}\.[0-9]+\+${BOARD_KERNEL_ABI_SUFFIX}${name##*+"$BOARD_KERNEL_ABI_SUFFIX"}\$"
			others=()
			for n in $(apt-cache search --names-only "$like" 2>/dev/null | awk '{print $1}'); do
				others+=("$n:$arch")
			done
			[ "${#others[@]}" = 0 ] ||
				have=$(apt-cache madison "${others[@]}" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -uV)
			;;
		esac
		cat >&2 <<EOF
board: pinned $name:$arch=$version is not on the Debian mirror (any more?).
  available: $(printf '%s ' $have)
  Move the pin forward in board/versions.sh (one edit), then re-run.
  (If nothing at all is listed: run scripts/apt-setup.sh / apt-get update.)
EOF
		rc=1
	done
	return $rc
}
