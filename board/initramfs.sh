#!/usr/bin/env bash
# board/initramfs.sh — build the host's initramfs and print its path.
#
# Contents (all from the packages board/fetch.sh unpacked):
#   /init                  board/init.sh
#   /bin/busybox           busybox-static
#   /usr/lib/...           trixie's libc6, libssl3t64 (+ zlib, zstd),
#                          libteec2, libckteec0t64
#   /usr/sbin/tee-supplicant, /usr/bin/xtest, /usr/lib/optee_armtz/*.ta
#   /usr/bin/teemed-kvm-smoke  board/kvm-smoke.c: runs a 5-instruction KVM guest
#   /lib/modules/<rel>/    the modules named in BOARD_HOST_KMODS and what
#                          they depend on (decompressed), load order in
#                          /etc/teemed/modules
# Knobs:
#   BOARD_HOST_KMODS    Debian modules to load, in order (default: tee optee)
#   BOARD_HOST_MODULES  directory of out-of-tree .ko files used in place of
#                       Debian's modules of the same name (others are
#                       loaded after the Debian ones)
#   BOARD_HOST_EXTRA    directory copied verbatim over the initramfs root
#                       (reference VMM, guest kernel + initramfs, ...)
# Cached in $BOARD_CACHE/initramfs/host-<key>.cpio.zst, keyed by the
# package versions, the board scripts and the content of the two dirs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

: "${BOARD_HOST_KMODS:=tee optee}"
: "${BOARD_HOST_MODULES:=}"
: "${BOARD_HOST_EXTRA:=}"

for d in "$BOARD_HOST_MODULES" "$BOARD_HOST_EXTRA"; do
	[ -z "$d" ] || [ -d "$d" ] || board_die "not a directory: $d"
done

# Hash of a directory's content (names, modes, data), or "-" if unset.
dir_hash() {
	[ -n "$1" ] || { echo -; return; }
	(cd "$1" && find . -print0 | LC_ALL=C sort -z |
		xargs -0 -r stat -c '%n %a %s %F %N' && find . -type f -print0 |
		LC_ALL=C sort -z | xargs -0 -r cat) | sha256sum | cut -c1-12
}

key=$(board_hash_str "$(board_packages) $BOARD_HOST_KMODS" \
	"$(board_hash_files "$0" "$BOARD_DIR/init.sh" "$BOARD_DIR/lib.sh" "$BOARD_DIR/kvm-smoke.c")" \
	"$(dir_hash "$BOARD_HOST_MODULES") $(dir_hash "$BOARD_HOST_EXTRA")")
out=$BOARD_CACHE/initramfs/host-$key.cpio.zst
if [ -s "$out" ]; then
	echo "$out"
	exit 0
fi
mkdir -p "$BOARD_CACHE/initramfs"
t0=$(board_now)

root=$out.root.$$
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/lib/aarch64-linux-gnu,etc/teemed,proc,sys,dev,tmp,run,root,var/lib}
ln -s usr/lib "$root/lib"
ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$root/usr/lib/ld-linux-aarch64.so.1"

pkg() { board_pkg_root "$1"; }
for p in busybox-static libc6 libssl3t64 libzstd1 zlib1g libteec2 libckteec0t64 \
	tee-supplicant optee-test-qemu; do
	[ -e "$(pkg "$p")/.unpacked" ] || board_die "$p not unpacked (run board/fetch.sh)"
done

cp "$(pkg busybox-static)/bin/busybox" "$root/bin/busybox"
install -m 0755 "$BOARD_DIR/init.sh" "$root/init"
# The board's own KVM self-test (static, so it needs nothing else).
aarch64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror \
	-o "$root/usr/bin/teemed-kvm-smoke" "$BOARD_DIR/kvm-smoke.c"
aarch64-linux-gnu-strip "$root/usr/bin/teemed-kvm-smoke"

# Shared libraries; glibc's gconv modules and the like are not needed.
for p in libc6 libssl3t64 libzstd1 zlib1g libteec2 libckteec0t64; do
	find "$(pkg "$p")/usr/lib/aarch64-linux-gnu" -maxdepth 1 \( -type f -o -type l \) \
		-name '*.so*' -exec cp -a {} "$root/usr/lib/aarch64-linux-gnu/" \;
done
cp -a "$(pkg tee-supplicant)/usr/sbin/tee-supplicant" "$root/usr/sbin/"
cp -a "$(pkg optee-test-qemu)/usr/bin/xtest" "$root/usr/bin/"
cp -a "$(pkg optee-test-qemu)/usr/lib/optee_armtz" "$root/usr/lib/"
cp -a "$(pkg optee-test-qemu)/usr/lib/tee-supplicant" "$root/usr/lib/"
mkdir -p "$root/var/lib/optee-client/data/tee"

# Kernel modules: resolve BOARD_HOST_KMODS and their dependencies from the
# image package's modules.dep, dependencies first.
kroot=$(board_kernel_root)/lib/modules/$BOARD_KERNEL_RELEASE
[ -f "$kroot/modules.dep" ] || board_die "no $kroot/modules.dep (run board/fetch.sh)"
modname() { local b=${1##*/}; b=${b%%.ko*}; echo "${b//-/_}"; }
declare -A seen=() override=()
order=()
if [ -n "$BOARD_HOST_MODULES" ]; then
	for f in "$BOARD_HOST_MODULES"/*.ko; do
		[ -e "$f" ] || continue
		override[$(modname "$f")]=$f
	done
	[ "${#override[@]}" -gt 0 ] || board_die "no .ko files in BOARD_HOST_MODULES=$BOARD_HOST_MODULES"
fi
resolve() { # resolve <path relative to kroot>
	local rel=$1 name dep deps
	name=$(modname "$rel")
	[ -z "${seen[$name]:-}" ] || return 0
	seen[$name]=1
	deps=$(awk -v m="$rel:" '$1 == m { $1 = ""; print }' "$kroot/modules.dep")
	for dep in $deps; do resolve "$dep"; done
	order+=("$rel")
}
for m in $BOARD_HOST_KMODS; do
	rel=$(awk -v n="$(modname "$m")" '{ p = $1; sub(/:$/, "", p); b = p; sub(/.*\//, "", b);
		sub(/\.ko.*/, "", b); gsub(/-/, "_", b); if (b == n) { print p; exit } }' "$kroot/modules.dep")
	if [ -z "$rel" ]; then
		grep -qx "CONFIG_$(echo "$m" | tr a-z- A-Z_)=y" \
			"$(board_kernel_root)/$BOARD_KERNEL_CONFIG" &&
			{ board_log "module $m is built in"; continue; }
		board_die "module $m not found in $kroot/modules.dep"
	fi
	resolve "$rel"
done
mdir=/lib/modules/$BOARD_KERNEL_RELEASE
mkdir -p "$root$mdir/kernel" "$root$mdir/extra"
: >"$root/etc/teemed/modules"
for rel in "${order[@]}"; do
	name=$(modname "$rel")
	if [ -n "${override[$name]:-}" ]; then
		continue # loaded below, from BOARD_HOST_MODULES
	fi
	dst=$mdir/kernel/${rel##*/}
	dst=${dst%.xz}
	xz -dc "$kroot/$rel" >"$root$dst"
	echo "$name $dst" >>"$root/etc/teemed/modules"
done
# Out-of-tree modules, in the resolved order where they replace a Debian
# module, the rest in name order after them.
ordered_overrides=()
for rel in "${order[@]}"; do
	name=$(modname "$rel")
	[ -z "${override[$name]:-}" ] || ordered_overrides+=("$name")
done
for name in $(printf '%s\n' "${!override[@]}" | LC_ALL=C sort); do
	[[ " ${ordered_overrides[*]} " == *" $name "* ]] || ordered_overrides+=("$name")
done
for name in "${ordered_overrides[@]}"; do
	f=${override[$name]}
	vm=$(modinfo -F vermagic "$f" 2>/dev/null || true)
	case "$vm" in
	"$BOARD_KERNEL_RELEASE "*) ;;
	*) board_log "warning: $f vermagic '$vm' is not for $BOARD_KERNEL_RELEASE" ;;
	esac
	cp "$f" "$root$mdir/extra/"
	echo "$name $mdir/extra/${f##*/}" >>"$root/etc/teemed/modules"
	board_log "out-of-tree module $name from $f"
done

if [ -n "$BOARD_HOST_EXTRA" ]; then
	cp -a "$BOARD_HOST_EXTRA"/. "$root/"
fi

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | zstd -q -T2 -10 >"$out.tmp.$$"
mv "$out.tmp.$$" "$out"
board_log "initramfs $(du -h "$out" | cut -f1) ($(du -sh "$root" | cut -f1) unpacked, modules: $(cut -d' ' -f1 "$root/etc/teemed/modules" | tr '\n' ' ')) built in $(board_elapsed "$t0") s"
rm -rf "$root"
echo "$out"
