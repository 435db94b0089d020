#!/usr/bin/env bash
# Configure the apt sources the project needs, idempotently:
#  - bookworm-backports: linux-image/headers-6.12 (arm64), QEMU 10;
#  - trixie and sid (unstable), pinned at priority 50 so that nothing on
#    the host is ever installed or upgraded from them: the board only
#    `apt-get download`s the arm64 packages board/versions.sh pins (the
#    lts stack's OP-TEE from trixie, the current stack's Linux 7.2 and
#    OP-TEE 4.10 from sid) and unpacks them;
#  - deb-src entries for both, for `apt-get source arm-trusted-firmware`
#    and `linux` (built from Debian's source packages);
#  - the arm64 foreign architecture, for `apt-get download pkg:arm64`.
# scripts/deps.sh (make deps) runs it first.
# Run as root. Re-running changes nothing and only refreshes the lists
# when a source was added (or when TEEMED_APT_UPDATE=1).
set -euo pipefail

src=/etc/apt/sources.list.d/teemed.sources
debsrc=/etc/apt/sources.list.d/teemed-src.sources
pin=/etc/apt/preferences.d/teemed-suites
changed=0

# No Valid-Until check: a mirror frozen at a date (as this project's CI
# has) serves sid's and backports' Release past their one-week validity,
# and apt then refuses the whole update. The packages are still checked
# against Debian's key, and taken only at the exact versions pinned.
want_src='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports trixie sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Check-Valid-Until: no'

want_debsrc='Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie sid
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
Check-Valid-Until: no'

want_pin='# teemed: trixie and sid only for explicit downloads of pinned arm64
# packages and sources (board/versions.sh): never installed from.
Package: *
Pin: release n=trixie
Pin-Priority: 50

Package: *
Pin: release n=sid
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
rm -f /etc/apt/preferences.d/teemed-trixie # an older checkout's name
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
