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

# --- Host kernel ----------------------------------------------------------
# Design rule: the kernel source the kernel/ series applies to, the headers
# out-of-tree modules are built against, and the image the board boots
# must be the SAME Debian upload, or a module built here will not load
# there (vermagic/modversions).  One variable drives all three; each can
# still be overridden on its own, and board_versions_check refuses a
# mismatch.  From bookworm-security (the 6.12 backport line).
: "${BOARD_KERNEL_DEB_VERSION:=6.12.117-1~deb12u1}"
: "${BOARD_LINUX_SOURCE_VERSION:=$BOARD_KERNEL_DEB_VERSION}"
: "${BOARD_LINUX_IMAGE_VERSION:=$BOARD_KERNEL_DEB_VERSION}"
: "${BOARD_LINUX_HEADERS_VERSION:=$BOARD_KERNEL_DEB_VERSION}"
# The ABI name Debian puts in package names and `uname -r` (6.12.117+deb12
# for 6.12.117-1~deb12u1); derived, so it cannot drift from the version.
# The suffix is the Debian release the upload is built for (deb12 for
# bookworm-security/-backports uploads, deb13 for trixie's).
: "${BOARD_KERNEL_ABI_SUFFIX:=deb12}"
BOARD_KERNEL_ABI="${BOARD_LINUX_IMAGE_VERSION%%-*}+$BOARD_KERNEL_ABI_SUFFIX"
BOARD_KERNEL_FLAVOUR=arm64
BOARD_KERNEL_RELEASE="$BOARD_KERNEL_ABI-$BOARD_KERNEL_FLAVOUR"
BOARD_PKG_LINUX_SOURCE=linux-source-6.12
BOARD_PKG_LINUX_IMAGE="linux-image-$BOARD_KERNEL_RELEASE-unsigned"
BOARD_PKG_LINUX_HEADERS="linux-headers-$BOARD_KERNEL_RELEASE"

# --- Secure world and boot chain -----------------------------------------
# optee-os ships the prebuilt QEMU OP-TEE, incl. the NS-virtualization
# flavour (trixie).
: "${BOARD_OPTEE_OS_VERSION:=4.5.0-2}"
# TF-A, built from source (`apt-get source`, trixie).
: "${BOARD_TFA_VERSION:=2.12.1+dfsg-1}"
# u-boot-qemu (Architecture: all; trixie) provides BL33.
: "${BOARD_UBOOT_VERSION:=2025.01-3+deb13u1}"

# --- Host user space (initramfs) ------------------------------------------
# optee-client (tee-supplicant, libteec2, libckteec0t64) and optee-test
# (xtest + TAs, signed with OP-TEE's default key) from trixie; they need
# trixie's libc and libssl, which are unpacked into the initramfs too.
: "${BOARD_OPTEE_CLIENT_VERSION:=4.5.0-1}"
: "${BOARD_OPTEE_TEST_VERSION:=4.5.0-1}"
: "${BOARD_LIBC_VERSION:=2.41-12+deb13u5}"
: "${BOARD_LIBSSL_VERSION:=3.5.9-1~deb13u1}"
: "${BOARD_LIBZSTD_VERSION:=1.5.7+dfsg-1}"
: "${BOARD_ZLIB_VERSION:=1:1.3.dfsg+really1.3.1-1+deb13u1}"
# busybox-static (bookworm): the initramfs shell and tools.
: "${BOARD_BUSYBOX_VERSION:=1:1.35.0-4+deb12u1+b1}"

# --- Host tools (board/packages, installed by make deps) ------------------
# QEMU 10 from bookworm-backports; board/run.sh checks the major, not the
# exact version, since the host has one installed version at a time.
BOARD_QEMU_MIN_MAJOR=10

# The packages fetch.sh downloads and unpacks: "name:arch=version".
board_packages() {
	printf '%s\n' \
		"$BOARD_PKG_LINUX_IMAGE:arm64=$BOARD_LINUX_IMAGE_VERSION" \
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
board_kbuild_packages() {
	printf '%s\n' \
		"$BOARD_PKG_LINUX_HEADERS:arm64=$BOARD_LINUX_HEADERS_VERSION" \
		"linux-headers-${BOARD_LINUX_HEADERS_VERSION%%-*}+$BOARD_KERNEL_ABI_SUFFIX-common:all=$BOARD_LINUX_HEADERS_VERSION" \
		"linux-kbuild-${BOARD_LINUX_HEADERS_VERSION%%-*}+$BOARD_KERNEL_ABI_SUFFIX:amd64=$BOARD_LINUX_HEADERS_VERSION"
}

# Print the versions in force (every board script calls this first).
board_versions_print() {
	cat <<EOF
teemed board versions (board/versions.sh):
  kernel       $BOARD_KERNEL_RELEASE  (Debian $BOARD_LINUX_IMAGE_VERSION)
    source     $BOARD_PKG_LINUX_SOURCE=$BOARD_LINUX_SOURCE_VERSION
    image      $BOARD_PKG_LINUX_IMAGE=$BOARD_LINUX_IMAGE_VERSION
    headers    $BOARD_PKG_LINUX_HEADERS=$BOARD_LINUX_HEADERS_VERSION
  optee-os     $BOARD_OPTEE_OS_VERSION
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
	6.12.*) ;;
	*)
		echo "board: BOARD_KERNEL_DEB_VERSION=$BOARD_LINUX_IMAGE_VERSION is not a 6.12 upload" >&2
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
		linux-image-* | linux-headers-* | linux-kbuild-*)
			# The version is part of the name: list the uploads there are.
			like="^${name%%6.12.*}6\.12\.[0-9]+\+${BOARD_KERNEL_ABI_SUFFIX}${name##*+"$BOARD_KERNEL_ABI_SUFFIX"}\$"
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
