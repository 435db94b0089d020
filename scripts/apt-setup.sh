#!/usr/bin/env bash
# Configure the apt sources the project needs, idempotently:
#  - bookworm-backports: linux-image/headers-6.12 (arm64), QEMU 10;
#  - trixie, pinned at priority 50 so that nothing on the host is ever
#    upgraded from it: we only `apt-get download` arm64 OP-TEE packages
#    from it and unpack them, never install them;
#  - a deb-src entry for trixie, for `apt-get source arm-trusted-firmware`
#    (the board builds TF-A from Debian's source package);
#  - the arm64 foreign architecture, for `apt-get download pkg:arm64`.
# scripts/deps.sh (make deps) runs it first.
# Run as root. Re-running changes nothing and only refreshes the lists
# when a source was added (or when TEEMED_APT_UPDATE=1).
set -euo pipefail

src=/etc/apt/sources.list.d/teemed.sources
debsrc=/etc/apt/sources.list.d/teemed-src.sources
pin=/etc/apt/preferences.d/teemed-trixie
changed=0

want_src='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'

want_debsrc='Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'

want_pin='# teemed: trixie only for explicit downloads of arm64 OP-TEE packages.
Package: *
Pin: release n=trixie
Pin-Priority: 50'

if [ "$(cat "$src" 2>/dev/null)" != "$want_src" ]; then
	printf '%s\n' "$want_src" >"$src"
	changed=1
fi
if [ "$(cat "$debsrc" 2>/dev/null)" != "$want_debsrc" ]; then
	printf '%s\n' "$want_debsrc" >"$debsrc"
	# the name an older checkout used for the same entry
	rm -f /etc/apt/sources.list.d/teemed-board-src.sources
	changed=1
fi
if [ "$(cat "$pin" 2>/dev/null)" != "$want_pin" ]; then
	printf '%s\n' "$want_pin" >"$pin"
	changed=1
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
	changed=1
fi
stamp=/var/lib/apt/lists/.teemed-updated
if [ "$changed" = 1 ] || [ "${TEEMED_APT_UPDATE:-0}" = 1 ] || [ ! -e "$stamp" ]; then
	apt-get update -qq
	touch "$stamp"
fi
