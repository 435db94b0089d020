#!/usr/bin/env bash
# Host packages to build and test the library, the tools and the bpf/
# programs (x86_64 here; arm64 cross toolchain for the board's binaries).
# Idempotent; run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/apt-setup.sh"

pkgs=(
	build-essential cmake pkg-config
	libgtest-dev libgmock-dev libbenchmark-dev
	python3 python3-dev python3-pytest pybind11-dev
	systemtap-sdt-dev
	clang libclang-rt-14-dev llvm
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libfdt-dev
	gcc-aarch64-linux-gnu g++-aarch64-linux-gnu
	valgrind
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps-host: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
