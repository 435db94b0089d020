#!/usr/bin/env bash
# Instructions per operation of the mediator (null backend), by callgrind:
# (Ir(2N) - Ir(N)) / N, so start-up and warm-up cancel out.
# usage: callgrind-cost.sh path/to/teemed_cost [N]
set -euo pipefail
bin=$1
n=${2:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ir() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" "$1" "$2" >/dev/null 2>"$tmp/err"
	grep -m1 '^summary:' "$tmp/out" | awk '{print $2}'
}
printf '%-10s %14s %10s\n' op instructions ratio_to_memcpy4k
base=0
for op in memcpy4k fast yield4 tmem256; do
	a=$(ir "$op" "$n")
	b=$(ir "$op" $((2 * n)))
	per=$(( (b - a) / n ))
	[ "$op" = memcpy4k ] && base=$per
	printf '%-10s %14d %10s\n' "$op" "$per" "$(awk -v p="$per" -v b="$base" 'BEGIN{printf "%.2f", p/b}')"
done
