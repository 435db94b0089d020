#!/usr/bin/env bash
# board/deps.sh — install what the board needs on the build machine
# (Debian 12 x86_64, as root).  Idempotent.
#  - scripts/apt-setup.sh: bookworm-backports, trixie (pin 50), arm64 arch;
#  - a deb-src entry for trixie, for `apt-get source arm-trusted-firmware`;
#  - QEMU 10 from bookworm-backports, the arm64 cross compiler, the tools
#    to make the images (mkenvimage, cpio, xz).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/../scripts/apt-setup.sh"

src=/etc/apt/sources.list.d/teemed-board-src.sources
want='# teemed board: sources of the third-party parts built from source (TF-A).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
if [ "$(cat "$src" 2>/dev/null)" != "$want" ]; then
	printf '%s\n' "$want" >"$src"
	apt-get update -qq
fi

pkgs=(gcc-aarch64-linux-gnu make gcc libc6-dev libssl-dev dpkg-dev
	u-boot-tools cpio xz-utils zstd kmod coreutils file)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
. "$here/versions.sh"
qemu_major=0
if command -v qemu-system-aarch64 >/dev/null; then
	qemu_major=$(qemu-system-aarch64 --version | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p')
fi
if [ "${qemu_major:-0}" -lt "$BOARD_QEMU_MIN_MAJOR" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t bookworm-backports qemu-system-arm
fi
qemu-system-aarch64 --version | head -n1
