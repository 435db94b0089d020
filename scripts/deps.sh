#!/usr/bin/env bash
# The one installer (make deps): the apt sources the project needs
# (scripts/apt-setup.sh), then the Debian packages every area lists in its
# own `packages` file, in one apt-get. As root; idempotent; fast when
# everything is there.
#
#   scripts/deps.sh            every area (tools, bpf, board, kernel)
#   scripts/deps.sh AREA...    those areas only (make board-deps & co.)
#
# An area extends it by listing packages in AREA/packages: one per line,
# `#` comments, `name:arch` for another architecture, `name/suite` for a
# package that must come from that suite (QEMU from bookworm-backports).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
areas=("$@")
[ ${#areas[@]} -gt 0 ] || areas=(tools bpf board kernel)

bash "$top/scripts/apt-setup.sh"

# Whether a package line is installed as asked.
installed() {
	local line=$1 name suite ver
	name=${line%%/*}
	ver=$(dpkg-query -W -f='${Status} ${Version}\n' "$name" 2>/dev/null |
		sed -n 's/^install ok installed //p')
	[ -n "$ver" ] || return 1
	[ "$line" != "$name" ] || return 0
	# name/suite: the installed version must be that suite's.
	suite=${line#*/}
	apt-cache madison "$name" | awk -F' [|] ' -v v="$ver" -v s="$suite" \
		'$2 == v && index($3, " " s "/") { ok = 1 } END { exit !ok }'
}

want=()
for a in "${areas[@]}"; do
	f=$top/$a/packages
	[ -f "$f" ] || { echo "deps: no area $a ($f)" >&2; exit 2; }
	while read -r line; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[ -n "$line" ] && want+=("$line")
	done <"$f"
done

missing=()
for p in $(printf '%s\n' "${want[@]}" | sort -u); do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: ${areas[*]}: all installed"
	exit 0
fi
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
		--no-install-recommends "$@"
}
plain=() suites=()
for p in "${missing[@]}"; do
	if [ "$p" = "${p%%/*}" ]; then plain+=("$p"); else suites+=("${p#*/}"); fi
done
if [ ${#plain[@]} -gt 0 ]; then
	echo "deps: installing ${plain[*]}"
	apt_install "${plain[@]}"
fi
# A package from another suite, with what it depends on from there too
# (-t raises that suite for this one transaction only: nothing else on the
# host follows it later).
for suite in $(printf '%s\n' "${suites[@]+"${suites[@]}"}" | sort -u); do
	names=()
	for p in "${missing[@]}"; do
		[ "${p#*/}" = "$suite" ] && [ "$p" != "${p%%/*}" ] && names+=("${p%%/*}")
	done
	echo "deps: installing ${names[*]} from $suite"
	apt_install -t "$suite" "${names[@]}"
done
