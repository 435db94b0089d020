#!/usr/bin/env bash
# make check-install: install libteemed into a scratch DESTDIR as a package
# would (PREFIX=/usr), then build against it from outside the tree: hello.c
# with pkg-config (shared and --static) and with find_package(teemed), and
# the C ABI tests with the OP-TEE model, all run against the installed
# library. Also: only the API is exported, and the SONAME.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/teemed-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage

make -C "$top" --no-print-directory -s install DESTDIR="$stage" PREFIX=/usr >/dev/null
pc=$(find "$stage" -name teemed.pc)
libdir=$(dirname "$(dirname "$pc")")
lib=$libdir/libteemed.so
[ -n "$pc" ] && [ -e "$libdir/libteemed.a" ] || { echo "install: no teemed.pc or libteemed.a" >&2; exit 1; }
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libteemed.so.1 ] || { echo "install: SONAME $soname" >&2; exit 1; }
# Exported: teemed_*/TEEMED_* (C) and teemed:: (C++), nothing else.
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | c++filt |
	grep -v -E '^(teemed_|TEEMED_|teemed::)' || true)
[ -z "$bad" ] || { echo "install: exported beyond the API:" >&2; echo "$bad" >&2; exit 1; }
nsym=$(nm -D --defined-only "$lib" | grep -vc ' A ')
headers=$(ls "$stage/usr/include/teemed")
for h in $headers; do
	case $h in teemed.h | export.h | vm.hpp | backend.hpp | kernel_backend.hpp | limits.hpp | \
		result.hpp | stats.hpp) ;;
	*) echo "install: $h is not API" >&2; exit 1 ;;
	esac
done

export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$(dirname "$pc")
cc -Wall -Werror "$top/tests/install/hello.c" $(pkg-config --cflags --libs teemed) -o "$work/hello"
LD_LIBRARY_PATH=$libdir "$work/hello"
cc -Wall -Werror "$top/tests/install/hello.c" -static $(pkg-config --static --cflags --libs teemed) \
	-o "$work/hello-static"
"$work/hello-static" >/dev/null

cmake -S "$top/tests/install" -B "$work/build" -DCMAKE_PREFIX_PATH="$stage/usr" >/dev/null
nice cmake --build "$work/build" -j "${JOBS:-2}" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/build/hello" >/dev/null
ldd "$work/build/c_api_installed" | grep -q "libteemed.so.1 => $libdir" ||
	{ echo "install: the C ABI tests do not run on the installed library" >&2; exit 1; }
LD_LIBRARY_PATH=$libdir "$work/build/c_api_installed" --gtest_brief=1 | tail -n 1
echo "install: ok (libteemed.so $(stat -c %s "$(readlink -f "$lib")") bytes, libteemed.a $(stat -c %s "$libdir/libteemed.a") bytes, $nsym exported symbols, SONAME $soname)"
