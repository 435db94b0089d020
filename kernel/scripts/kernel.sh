#!/usr/bin/env bash
# Paths here never hold spaces: $(series) and $(touched) split on purpose.
# shellcheck disable=SC2046
# SPDX-License-Identifier: BSD-2-Clause
# kernel/scripts/kernel.sh — build and check the teemed kernel series
# against Debian's kernel source, cross for arm64: with STACK=current
# (board/versions.sh) the mainline series (kernel/patches/, then the KVM
# selftest series kernel/patches-kvm/) on linux-source-7.2; with STACK=lts
# (the default) their 6.12 backport (kernel/patches-6.12/) on
# linux-source-6.12.
#
#   kernel.sh versions   print the Debian versions in force
#   kernel.sh deps       install kernel/packages (scripts/deps.sh kernel)
#   kernel.sh prepare    fetch + unpack source, image and headers debs,
#                        modules_prepare; prints the prepared tree (cached,
#                        keyed by the versions and the cross compiler)
#   kernel.sh check      git am the series on a fresh copy of the prepared
#                        tree; W=1 + sparse build of drivers/tee; checkpatch
#                        --strict; kernel-doc; selftest build; uapi diff
#   kernel.sh modules    patched tee.ko/optee.ko for the board; prints the
#                        directory (cached, keyed by versions and patches)
#   kernel.sh board-test boot the board (board/run.sh) on the NS-virtualized
#                        OP-TEE with these modules; run adversarial-vmm, the
#                        smccc_filter selftest and xtest on its host
#   kernel.sh devtree    a tree with the series applied as commits, to work
#                        on the series; prints its path
#   kernel.sh export DIR regenerate the stack's series from the commits on
#                        top of the pristine commit in the git tree DIR
#   kernel.sh backport   (STACK=lts) carry the mainline series to 6.12 and
#                        regenerate kernel/patches-6.12/ (backport.py)
#
# Versions come from board/versions.sh (the one place for them); only if
# that file is missing are they resolved here, with apt-cache.
# Environment: TEEMED_CACHE (default /var/cache/teemed), KERNEL_JOBS (2),
# KERNEL_BOARD_FLAVOUR (board-test's OP-TEE, default the virtualized one).
set -euo pipefail

KERNEL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO=$(cd "$KERNEL_DIR/.." && pwd)
KCACHE=${TEEMED_CACHE:-/var/cache/teemed}/kernel
JOBS=${KERNEL_JOBS:-2}
CROSS=aarch64-linux-gnu-
# Debian's python3 first: checkpatch's spdxcheck needs python3-ply/-git.
export PATH=/usr/bin:/bin:$PATH
# The board's OP-TEE for board-test: the NS-virtualized one, which the
# series is for (BOARD_OPTEE_FLAVOUR is the board's own knob, with another
# default).
KERNEL_BOARD_FLAVOUR=${KERNEL_BOARD_FLAVOUR:-vexpress-qemu_armv8a-virtualized}
# The version of the TEE series as posted (its cover letter's changelog).
KERNEL_SERIES_VERSION=4
# Bump when prepare's steps change, so that old prepared trees are not used.
PREPARE_REV=1
# The commit every patch applies on: the pristine tree, committed by prepare.
PRISTINE_REF=refs/tags/debian-pristine

# Debian's modules that use tee.ko's exports (CONFIG symbol, module path).
# The series changes the CRCs of tee.ko's exports (struct tee_desc and
# struct tee_driver_ops grow), so Debian's builds of these would not load
# next to the patched tee.ko: they are rebuilt from the same tree. Found
# with: grep -rl 'tee_client_open_context|tee_shm_alloc_kernel_buf' and
# Debian's arm64 config; check_tee_clients fails if the config changes.
KERNEL_TEE_CLIENTS=(
	"HW_RANDOM_OPTEE drivers/char/hw_random/optee-rng"
	"ARM_SCMI_TRANSPORT_OPTEE drivers/firmware/arm_scmi/transports/scmi_transport_optee"
)

log() { echo "kernel: $*" >&2; }
die() { echo "kernel: error: $*" >&2; exit 1; }
kmake() { nice -n 10 make -s ARCH=arm64 CROSS_COMPILE=$CROSS LOCALVERSION= -j"$JOBS" "$@"; }

# --- versions ---------------------------------------------------------------

# Sets KERNEL_{SOURCE,IMAGE,HEADERS}_VERSION, KERNEL_RELEASE,
# KERNEL_PKG_{SOURCE,HEADERS}, where the config is, and the series to
# apply, from board/versions.sh for the stack in force (STACK=lts: 6.12
# and the backport; STACK=current: 7.2 and the mainline series).
kernel_versions() {
	# shellcheck source=/dev/null
	. "$REPO/board/versions.sh" || die "board/versions.sh refused STACK=${STACK:-}"
	board_versions_check || die "board/versions.sh: inconsistent kernel versions"
	KERNEL_STACK=$STACK
	KERNEL_SERIES=$BOARD_KERNEL_SERIES
	KERNEL_SOURCE_VERSION=$BOARD_LINUX_SOURCE_VERSION
	KERNEL_IMAGE_VERSION=$BOARD_LINUX_IMAGE_VERSION
	KERNEL_HEADERS_VERSION=$BOARD_LINUX_HEADERS_VERSION
	KERNEL_RELEASE=$BOARD_KERNEL_RELEASE
	KERNEL_PKG_SOURCE=$BOARD_PKG_LINUX_SOURCE
	KERNEL_PKG_HEADERS=$BOARD_PKG_LINUX_HEADERS
	KERNEL_PKG_CONFIG=$BOARD_KERNEL_CONFIG_PKG
	KERNEL_CONFIG_PATH=./$BOARD_KERNEL_CONFIG
	KERNEL_VERSIONS_FROM="board/versions.sh, STACK=$STACK"
	case "$STACK" in
	# The backport: the mainline series and the KVM selftest, carried to
	# 6.12 (kernel/patches-6.12/README).
	lts) SERIES_DIRS=("$KERNEL_DIR/patches-6.12") ;;
	# The mainline series (TEE), then the KVM selftest series.
	*) SERIES_DIRS=("$KERNEL_DIR/patches" "$KERNEL_DIR/patches-kvm") ;;
	esac
}

kernel_versions_print() {
	cat <<EOF
kernel versions (from $KERNEL_VERSIONS_FROM):
  release  $KERNEL_RELEASE
  source   $KERNEL_PKG_SOURCE=$KERNEL_SOURCE_VERSION
  config   $KERNEL_PKG_CONFIG=$KERNEL_IMAGE_VERSION
  headers  $KERNEL_PKG_HEADERS=$KERNEL_HEADERS_VERSION
  series   ${SERIES_DIRS[*]#"$REPO/"}
  cross    $(${CROSS}gcc --version 2>/dev/null | head -n1 || echo "${CROSS}gcc missing")
EOF
}

sha() { sha256sum | cut -c1-16; }

# Key of a prepared tree: everything its content depends on.
prepared_key() {
	printf '%s\n' "$PREPARE_REV" "$KERNEL_SOURCE_VERSION" "$KERNEL_IMAGE_VERSION" \
		"$KERNEL_HEADERS_VERSION" "$KERNEL_RELEASE" \
		"$(${CROSS}gcc --version | head -n1)" | sha
}

# The patches to apply, series after series, each in its order.
series() {
	local d
	for d in "${SERIES_DIRS[@]}"; do
		find "$d" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort
	done
}

# Key of a module build: the prepared tree, the patches, and what the
# smoke test shipped beside the modules is built from.
modules_key() {
	{ prepared_key; cat $(series) "$KERNEL_DIR/tests/adversarial-vmm.c" \
		"$REPO/tools/lib/uapi/linux/tee_vm.h"; } | sha
}

# --- deps -------------------------------------------------------------------

# The packages are kernel/packages; the one installer installs them.
cmd_deps() {
	bash "$REPO/scripts/deps.sh" kernel >&2
}

# --- prepare ----------------------------------------------------------------

# fetch_deb NAME ARCH VERSION: print the path of the .deb, downloading it
# into the cache unless it is there (or in the board's cache).
fetch_deb() {
	local name=$1 arch=$2 version=$3 dir=$KCACHE/debs deb file board
	file=${name}_${version//:/%3a}_${arch}.deb
	deb=$dir/$file
	mkdir -p "$dir"
	if [ ! -s "$deb" ]; then
		board=${TEEMED_CACHE:-/var/cache/teemed}/board/debs/$file
		if [ -s "$board" ]; then
			cp "$board" "$deb.tmp" && mv "$deb.tmp" "$deb"
		else
			log "downloading $name:$arch=$version"
			chown _apt "$dir" 2>/dev/null || true
			local spec=$name:$arch=$version
			[ "$arch" = all ] && spec=$name=$version
			# A fresh machine's package lists may predate the pin.
			(cd "$dir" && apt-get download -q "$spec" >/dev/null) ||
				{ apt-get update -q >/dev/null &&
					(cd "$dir" && apt-get download -q "$spec" >/dev/null); } || {
				apt-cache madison "$name" >&2 || true
				die "cannot download $spec: gone from the mirror? (versions above; see board/versions.sh)"
			}
		fi
	fi
	[ -s "$deb" ] || die "no $deb"
	echo "$deb"
}

cmd_prepare() {
	local key dir tmp src img hdr kver
	key=$(prepared_key)
	dir=$KCACHE/prepared-$KERNEL_RELEASE-$key
	if [ -e "$dir/.done" ]; then
		echo "$dir/linux"
		return
	fi
	kernel_versions_print >&2
	src=$(fetch_deb "$KERNEL_PKG_SOURCE" all "$KERNEL_SOURCE_VERSION")
	img=$(fetch_deb "$KERNEL_PKG_CONFIG" arm64 "$KERNEL_IMAGE_VERSION")
	hdr=$(fetch_deb "$KERNEL_PKG_HEADERS" arm64 "$KERNEL_HEADERS_VERSION")

	tmp=$dir.tmp.$$
	rm -rf "$dir" "$tmp"
	mkdir -p "$tmp/deb"
	log "prepare: unpacking $(basename "$src")"
	dpkg-deb --fsys-tarfile "$src" | tar -xO "./usr/src/$KERNEL_PKG_SOURCE.tar.xz" |
		nice -n 10 xz -dc -T"$JOBS" | tar -x -C "$tmp"
	mv "$tmp/$KERNEL_PKG_SOURCE" "$tmp/linux"
	# Debian's config of the image the board boots (the headers' differs:
	# it asks for module signing with Debian's key).
	dpkg-deb --fsys-tarfile "$img" | tar -x -C "$tmp/deb" "$KERNEL_CONFIG_PATH"
	dpkg-deb --fsys-tarfile "$hdr" | tar -x -C "$tmp/deb" \
		"./usr/src/linux-headers-$KERNEL_RELEASE/Module.symvers"

	log "prepare: committing the pristine tree"
	# Debian's .gitignore ignores the top level: add with -f, and give the
	# series a fixed base to apply on.
	# No automatic gc: it would repack in the background while the tree
	# is being copied (fresh_tree), and the copy would miss objects.
	(cd "$tmp/linux" &&
		git init -q &&
		git config gc.auto 0 &&
		git add -f -A . &&
		git -c user.name=teemed -c user.email=teemed@localhost \
			commit -q -m "Debian $KERNEL_PKG_SOURCE $KERNEL_SOURCE_VERSION" &&
		git tag debian-pristine)

	log "prepare: olddefconfig modules_prepare headers"
	cp "$tmp/deb/$KERNEL_CONFIG_PATH" "$tmp/linux/.config"
	cp "$tmp/deb/usr/src/linux-headers-$KERNEL_RELEASE/Module.symvers" "$tmp/linux/"
	# The Debian suffix of the release, so that vermagic matches Debian's.
	kver=$(make -s -C "$tmp/linux" kernelversion)
	case "$KERNEL_RELEASE" in
	"$kver"*) echo "${KERNEL_RELEASE#"$kver"}" >"$tmp/linux/localversion" ;;
	*) die "release $KERNEL_RELEASE does not start with the source's $kver" ;;
	esac
	(cd "$tmp/linux" && kmake olddefconfig modules_prepare headers >/dev/null)
	[ "$(cat "$tmp/linux/include/config/kernel.release")" = "$KERNEL_RELEASE" ] ||
		die "kernel.release is $(cat "$tmp/linux/include/config/kernel.release"), not $KERNEL_RELEASE"
	kernel_versions_print >"$tmp/versions.txt"
	rm -rf "$tmp/deb"
	touch "$tmp/.done"
	mv "$tmp" "$dir"
	echo "$dir/linux"
}

# --- applying the series ------------------------------------------------------

# fresh_tree DEST: a copy of the prepared tree (exact, whatever DEST held)
# with the series applied by git am, one commit per patch on top of the
# debian-pristine tag.
fresh_tree() {
	local dest=$1 prepared
	prepared=$(cmd_prepare)
	mkdir -p "$(dirname "$dest")"
	if [ -d "$dest/.git" ]; then
		# Same result as a new copy, but only what changed is copied.
		rsync -a --delete "$prepared/" "$dest/"
	else
		rm -rf "$dest"
		cp -a "$prepared" "$dest"
	fi
	local patches
	patches=$(series)
	[ -n "$patches" ] || return 0 # the pristine tree alone
	(cd "$dest" &&
		git -c user.name=teemed -c user.email=teemed@localhost am -q $patches) || {
		log "the series does not apply with git am on $KERNEL_PKG_SOURCE $KERNEL_SOURCE_VERSION"
		return 1
	}
}

# --- check ------------------------------------------------------------------

PASSED=0
FAILED=0
step() {
	local name=$1 t0=$SECONDS
	shift
	log "check: $name ..."
	if "$@"; then
		PASSED=$((PASSED + 1))
		log "check: $name: ok ($((SECONDS - t0)) s)"
	else
		FAILED=$((FAILED + 1))
		log "check: $name: FAILED ($((SECONDS - t0)) s)"
	fi
}

# Files the series touches, relative to the tree.
touched() { git -C "$TREE" diff --name-only "$PRISTINE_REF" HEAD -- "$@"; }

check_build() {
	local log=$WORK/build-tee.log touched_re
	(cd "$TREE" && kmake M=drivers/tee W=1 C=1 modules) >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		return 1
	}
	# Only files of the series: Debian's tree is clean today, but an
	# unrelated warning of a future upload should not fail us.
	touched_re=$(touched | sed 's/[.]/\\./g' | paste -sd'|')
	if grep -E ': (warning|error):' "$log" | grep -E "($touched_re)" >&2; then
		log "W=1/sparse warnings in files of the series (above; full log $log)"
		return 1
	fi
	if grep -E ': (warning|error):' "$log" >&2; then
		log "(warnings above are in files the series does not touch)"
	fi
	[ -f "$TREE/drivers/tee/tee.ko" ] && [ -f "$TREE/drivers/tee/optee/optee.ko" ]
}

check_checkpatch() {
	local p out bad=0 f
	for p in $(series); do
		# FILE_PATH_CHANGES only asks whether MAINTAINERS covers new
		# files: the loop below answers that for real.
		out=$(cd "$TREE" && scripts/checkpatch.pl --strict \
			--ignore FILE_PATH_CHANGES "$p" 2>&1) || true
		if ! grep -q '^total: 0 errors, 0 warnings, 0 checks' <<<"$out" ||
			grep -q 'Traceback' <<<"$out"; then
			echo "$out" >&2
			bad=1
		fi
	done
	for f in $(git -C "$TREE" diff --name-only --diff-filter=A "$PRISTINE_REF" HEAD); do
		if ! (cd "$TREE" && scripts/get_maintainer.pl --no-git --no-git-fallback \
			--no-rolestats --nol -f "$f" 2>/dev/null | grep -v torvalds | grep -q "@"); then
			echo "new file $f has no MAINTAINERS entry" >&2
			bad=1
		fi
	done
	return $bad
}

# A kernel-doc warning without its file and line ("FILE:LINE: msg" until
# 6.x, "Warning: FILE:LINE msg" in 7.x), so that those of a file before and
# after the series compare.
kdoc_norm() { sed -E 's/^(Warning: )?[^ ]+:[0-9]+:? //' | sort -u; }

# New kernel-doc warnings only: Debian's files have some of their own.
check_kerneldoc() {
	local f new old bad=0
	for f in $(touched '*.c' '*.h' | grep -v '^tools/'); do
		new=$(cd "$TREE" && scripts/kernel-doc -none -Wall "$f" 2>&1 | kdoc_norm)
		old=$(cd "$TREE" && git show "$PRISTINE_REF:$f" 2>/dev/null >"$WORK/old.kdoc" &&
			scripts/kernel-doc -none -Wall "$WORK/old.kdoc" 2>&1 | kdoc_norm || true)
		if comm -13 <(echo "$old") <(echo "$new") | grep . >"$WORK/kdoc.diff"; then
			echo "$f:" >&2
			cat "$WORK/kdoc.diff" >&2
			bad=1
		fi
	done
	# Every function the series adds has kernel-doc.
	(cd "$TREE" && "$KERNEL_DIR/scripts/kdoc_new_functions.py" . "$PRISTINE_REF" \
		$(touched 'drivers/*.c' 'drivers/*.h' 'include/*.h')) || bad=1
	return $bad
}

# Rebuild KERNEL_TEE_CLIENTS against the patched tee.ko (after check_build
# or the modules build): its exports replace Debian's in Module.symvers.
build_tee_clients() {
	local entry sym mod log=$WORK/build-clients.log
	awk 'FNR == NR { new[$2] = $0; next }
	     $3 == "drivers/tee/tee" { if ($2 in new) { print new[$2]; delete new[$2] }; next }
	     { print }
	     END { for (k in new) print new[k] }' \
		"$TREE/drivers/tee/Module.symvers" "$TREE/Module.symvers" >"$WORK/Module.symvers"
	cp "$WORK/Module.symvers" "$TREE/Module.symvers"
	for entry in "${KERNEL_TEE_CLIENTS[@]}"; do
		sym=${entry%% *}
		mod=${entry#* }
		grep -q "^CONFIG_$sym=m" "$TREE/.config" || {
			echo "CONFIG_$sym is not =m any more: update KERNEL_TEE_CLIENTS" >&2
			return 1
		}
		(cd "$TREE" && kmake M="$(dirname "$mod")" modules) >>"$log" 2>&1 || {
			tail -n 30 "$log" >&2
			return 1
		}
		[ -f "$TREE/$mod.ko" ] || return 1
	done
}

# The KVM selftests' arm64 directory: aarch64/ until 6.14, arm64/ since.
selftest_arch() {
	if [ -d "$TREE/tools/testing/selftests/kvm/arm64" ]; then echo arm64; else echo aarch64; fi
}

check_selftest() {
	local log=$WORK/selftest.log out=$WORK/selftests arch
	arch=$(selftest_arch)
	(cd "$TREE" && nice -n 10 make -C tools/testing/selftests/kvm ARCH=arm64 \
		CROSS_COMPILE=$CROSS LDFLAGS=-static OUTPUT="$out" -j"$JOBS" \
		"$out/$arch/smccc_filter") >"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		return 1
	}
	if grep -E 'smccc_filter.*(warning|error):' "$log" >&2; then
		return 1
	fi
	file "$out/$arch/smccc_filter" | grep -q 'ARM aarch64.*statically linked'
}

# The adversarial VMM, run on the board (kernel/tests/adversarial-vmm.c).
check_smoke() {
	${CROSS}gcc -static -O2 -Wall -Wextra -Werror -pthread -I "$REPO/tools/lib/uapi" \
		-o "$WORK/adversarial-vmm" "$KERNEL_DIR/tests/adversarial-vmm.c"
}

check_uapi() {
	/usr/bin/python3 "$KERNEL_DIR/scripts/uapi_diff.py" \
		"$REPO/tools/lib/uapi/linux/tee_vm.h" "$TREE/include/uapi/linux/tee.h"
}

# tables/*.tsv against the series: every number compiled against the
# patched tree's own headers (a module of static_asserts, built and thrown
# away), the allowlists and limits read in smc_vm.c.
check_tables() {
	local dir=$WORK/tables-check
	rm -rf "$dir"
	mkdir -p "$dir"
	/usr/bin/python3 "$KERNEL_DIR/scripts/check_tables.py" asserts "$dir/tables_check.c"
	printf 'obj-m := tables_check.o\nccflags-y := -I$(srctree)/drivers/tee/optee\n' >"$dir/Kbuild"
	(cd "$TREE" && kmake M="$dir" modules) >"$dir/build.log" 2>&1 || {
		grep -E 'error|tables/' "$dir/build.log" | head -n 20 >&2
		return 1
	}
	/usr/bin/python3 "$KERNEL_DIR/scripts/check_tables.py" source \
		"$TREE/drivers/tee/optee/smc_vm.c"
}

# The 6.12 backport makes the mainline series' changes (backport.py check).
check_backport() {
	/usr/bin/python3 "$KERNEL_DIR/scripts/backport.py" check "$KERNEL_DIR/patches-6.12" \
		"$KERNEL_DIR/patches" "$KERNEL_DIR/patches-kvm"
}

# Kconfig.snippets' host fragment against the config the board's host
# runs (Debian's, in the prepared tree): each option as the fragment has it.
check_kconfig() {
	local line bad=0
	while read -r line; do
		grep -qx "$line" "$TREE/.config" || {
			echo "Kconfig.snippets (host): $line, Debian's config has" \
				"$(grep -E "^(# )?${line%%=*}[= ]" "$TREE/.config" || echo nothing)" >&2
			bad=1
		}
	done < <(sed -n '/^# ---- BEGIN host/,/^# ---- END host/p' "$REPO/Kconfig.snippets" |
		grep '^CONFIG_')
	return $bad
}

# Keep the modules a passing check built: `kernel-modules` then needs no
# second build.
store_modules() {
	local dest=$1 tmp
	tmp=$dest.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	cp "$TREE/drivers/tee/tee.ko" "$TREE/drivers/tee/optee/optee.ko" "$tmp/"
	local entry
	for entry in "${KERNEL_TEE_CLIENTS[@]}"; do
		cp "$TREE/${entry#* }.ko" "$tmp/"
	done
	# Debian ships its modules without debug info; so does the board.
	${CROSS}strip --strip-debug "$tmp"/*.ko
	[ -f "$WORK/selftests/$(selftest_arch)/smccc_filter" ] &&
		cp "$WORK/selftests/$(selftest_arch)/smccc_filter" "$tmp/"
	[ -f "$WORK/adversarial-vmm" ] && cp "$WORK/adversarial-vmm" "$tmp/"
	kernel_versions_print >"$tmp/versions.txt"
	(cd "$TREE" && git log --oneline "$PRISTINE_REF..HEAD") >"$tmp/series.txt"
	(cd "$tmp" && sha256sum ./*.ko >SHA256SUMS)
	rm -rf "$dest"
	mv "$tmp" "$dest"
}

cmd_check() {
	local t0=$SECONDS
	WORK=$KCACHE/check-$KERNEL_STACK
	TREE=$WORK/linux
	mkdir -p "$WORK"
	rm -rf "$WORK/selftests" "$WORK"/*.log
	kernel_versions_print >&2
	step "prepare (cached by versions)" cmd_prepare >/dev/null
	step "git am the series on a fresh copy" fresh_tree "$TREE"
	[ -d "$TREE/.git" ] && [ "$FAILED" -eq 0 ] || {
		echo "kernel-check: $PASSED passed, $FAILED failed"
		return 1
	}
	step "drivers/tee W=1 C=1 (sparse) build" check_build
	step "Debian's tee.ko users rebuilt against it" build_tee_clients
	step "checkpatch --strict" check_checkpatch
	step "kernel-doc" check_kerneldoc
	step "KVM selftest smccc_filter (arm64, static)" check_selftest
	step "uapi: tools/lib/uapi/linux/tee_vm.h matches tee.h" check_uapi
	step "tables/*.tsv: the series' ids, allowlists and limits" check_tables
	step "Kconfig.snippets: the host fragment is the board's config" check_kconfig
	step "kernel/patches-6.12 makes the mainline series' changes" check_backport
	step "adversarial-vmm (arm64, static)" check_smoke
	if [ "$FAILED" -eq 0 ]; then
		store_modules "$KCACHE/modules-$KERNEL_RELEASE-$(modules_key)"
	fi
	log "check: done in $((SECONDS - t0)) s"
	echo "kernel-check: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

# --- modules ------------------------------------------------------------------

cmd_modules() {
	local dest
	dest=$KCACHE/modules-$KERNEL_RELEASE-$(modules_key)
	if [ ! -f "$dest/SHA256SUMS" ] || [ ! -f "$dest/smccc_filter" ]; then
		WORK=$KCACHE/modules-work-$KERNEL_STACK
		TREE=$WORK/linux
		fresh_tree "$TREE" || die "cannot apply the series"
		log "modules: building drivers/tee"
		(cd "$TREE" && kmake M=drivers/tee modules) >"$WORK/build.log" 2>&1 || {
			tail -n 30 "$WORK/build.log" >&2
			die "drivers/tee does not build"
		}
		build_tee_clients || die "the users of tee.ko do not build"
		check_smoke || die "kernel/tests/adversarial-vmm.c does not build"
		# the board runs the series' KVM selftest too (nvhe, board-test)
		check_selftest || die "the smccc_filter selftest does not build"
		store_modules "$dest"
		rm -rf "$WORK"
	fi
	echo "$dest"
}

# --- on the board -------------------------------------------------------------

# 1 if the board's OP-TEE is built with optee/patches (board/optee.sh)
optee_fixed() {
	(
		. "$REPO/board/versions.sh"
		: "${BOARD_OPTEE_PATCHES:=$REPO/optee/patches}"
		[ "$BOARD_OPTEE" = source ] && ls "$BOARD_OPTEE_PATCHES"/0003-*.patch >/dev/null 2>&1
	) && echo 1 || echo 0
}

cmd_board_test() {
	local mods extra
	[ -f "$REPO/board/run.sh" ] || die "no board/run.sh"
	mods=$(cmd_modules)
	extra=$KCACHE/board-extra
	rm -rf "$extra"
	mkdir -p "$extra/usr/bin"
	cp "$mods/adversarial-vmm" "$mods/smccc_filter" "$extra/usr/bin/"
	# Full paths: the selftest opens its own ELF through argv[0].
	# A use after free must show: pages poisoned when freed and checked
	# when allocated again, slab objects poisoned and red-zoned; board/run.sh
	# fails on what they report.
	BOARD_APPEND="${BOARD_APPEND:-} page_poison=1 slub_debug=FZPU" \
	BOARD_OPTEE_FLAVOUR=$KERNEL_BOARD_FLAVOUR \
	BOARD_HOST_MODULES=$mods BOARD_HOST_EXTRA=$extra \
	BOARD_CMDS=${BOARD_CMDS:-"ADV_OPTEE_FIXED=$(optee_fixed) /usr/bin/adversarial-vmm
/usr/bin/smccc_filter
xtest -t regression 1001 1004"} \
		bash "$REPO/board/run.sh"
}

# --- working on the series ----------------------------------------------------

cmd_devtree() {
	local dest=$KCACHE/devtree-$KERNEL_STACK/linux
	[ ! -e "$dest" ] || die "$dest exists: export it (kernel.sh export $dest) or remove it"
	fresh_tree "$dest" || die "cannot apply the series"
	echo "$dest"
}

# backport: carry the mainline series (and the KVM selftest) to 6.12 and
# regenerate kernel/patches-6.12/. Each mainline patch is carried
# (backport.py: the mechanical rewrites 6.12 needs, noted in its message)
# and applied to a fresh 6.12 tree with git am -3, the blobs its index
# lines name copied in from the 7.2 tree so that context that moved
# merges; conflicts git has seen resolved are replayed by rerere from
# $TEEMED_CACHE/kernel/backport-rr-cache. A new conflict stops it with the
# tree to resolve in: resolve, `git add`, then run the backport again: git
# records the resolution and the cache keeps it.
cmd_backport() {
	# git rerere's record of resolved conflicts: whole files of the kernel
	# tree, so kept in the cache, never in the repository.
	local mainline=() main72 tree p h carried rr=$KCACHE/backport-rr-cache
	[ "$KERNEL_STACK" = lts ] || die "backport: run with STACK=lts"
	mainline=($(STACK=current bash "${BASH_SOURCE[0]}" series))
	main72=$(STACK=current bash "${BASH_SOURCE[0]}" devtree-path)
	[ -d "$main72/.git" ] || die "no 7.2 tree with the series: STACK=current kernel.sh devtree first"
	tree=$KCACHE/backport/linux
	carried=$KCACHE/backport/carried
	if [ -d "$tree/.git/rr-cache" ]; then
		# a resolution made in the last run's tree
		mkdir -p "$rr" && cp -a "$tree/.git/rr-cache/." "$rr/"
	fi
	rm -rf "$KCACHE/backport"
	mkdir -p "$carried"
	local dirs=("${SERIES_DIRS[@]}")
	SERIES_DIRS=()
	fresh_tree "$tree" || die "no 6.12 tree"
	SERIES_DIRS=("${dirs[@]}")
	local n=0
	for p in "${mainline[@]}"; do
		# numbered: the KVM series' 0001 follows the TEE series' last
		n=$((n + 1))
		/usr/bin/python3 "$KERNEL_DIR/scripts/backport.py" carry "$p" \
			"$carried/$(printf %02d $n)-${p##*/}"
		for h in $(sed -n 's/^index \([0-9a-f]*\)\.\.[0-9a-f]*.*/\1/p' "$p"); do
			git -C "$main72" cat-file blob "$h" 2>/dev/null |
				git -C "$tree" hash-object -w --stdin >/dev/null || true
		done
	done
	mkdir -p "$tree/.git/rr-cache"
	[ ! -d "$rr" ] || cp -a "$rr/." "$tree/.git/rr-cache/"
	local g=(git -C "$tree" -c user.name=teemed -c user.email=teemed@localhost
		-c rerere.enabled=true -c rerere.autoUpdate=true)
	"${g[@]}" am -q -3 "$carried"/*.patch >/dev/null 2>&1 || true
	while [ -d "$tree/.git/rebase-apply" ]; do
		if [ -n "$(git -C "$tree" diff --name-only --diff-filter=U)" ]; then
			git -C "$tree" diff --name-only --diff-filter=U >&2
			log "backport: a conflict git has not seen: resolve it in $tree, git add, then run the backport again"
			return 1
		fi
		log "backport: a conflict resolved as recorded (rerere)"
		"${g[@]}" am -q --continue >/dev/null 2>&1 || true
	done
	mkdir -p "$rr" && cp -a "$tree/.git/rr-cache/." "$rr/"
	cmd_export "$tree"
}

# export TREE: regenerate the stack's series from the commits on top of the
# pristine commit in TREE. STACK=current: the TEE commits to kernel/patches/
# with the cover letter (kernel/cover-letter.txt), then the KVM selftest
# commits (they touch tools/testing/selftests/kvm/ only, and come last) to
# kernel/patches-kvm/. STACK=lts: all of them to kernel/patches-6.12/.
cmd_export() {
	local tree=${1:?usage: kernel.sh export GIT_TREE} c last_tee= kvm=0 n=0
	git -C "$tree" rev-parse -q --verify "$PRISTINE_REF" >/dev/null ||
		die "$tree has no $PRISTINE_REF tag (the pristine commit)"
	fp() { git -C "$tree" format-patch -q --zero-commit "$@"; }
	if [ "$KERNEL_STACK" = lts ]; then
		rm -f "${SERIES_DIRS[0]}"/[0-9]*.patch
		fp -o "${SERIES_DIRS[0]}" "$PRISTINE_REF..HEAD"
		ls "${SERIES_DIRS[0]}"
		return
	fi
	for c in $(git -C "$tree" rev-list --reverse "$PRISTINE_REF..HEAD"); do
		if git -C "$tree" diff-tree --no-commit-id --name-only -r "$c" |
			grep -qv '^tools/testing/selftests/kvm/'; then
			[ "$kvm" = 0 ] || die "commit $c touches more than the KVM selftests after one that does not"
			last_tee=$c
		else
			kvm=1
		fi
		n=$((n + 1))
	done
	[ -n "$last_tee" ] || die "no TEE commit in $tree"
	rm -f "${SERIES_DIRS[0]}"/*.patch "${SERIES_DIRS[1]}"/*.patch
	# The cover letter's subject and text come from kernel/cover-letter.txt,
	# as the description of a branch at the last TEE commit (format-patch
	# reads it only from the branch a range ends at).
	git -C "$tree" branch -f teemed-tee "$last_tee"
	git -C "$tree" -c branch.teemed-tee.description="$(cat "$KERNEL_DIR/cover-letter.txt")" \
		format-patch -q --zero-commit --cover-letter --cover-from-description=subject \
		--subject-prefix="PATCH v$KERNEL_SERIES_VERSION" \
		-o "${SERIES_DIRS[0]}" "$PRISTINE_REF..teemed-tee"
	# The cover letter is dated now; the last patch's date keeps an export
	# of the same commits identical.
	sed -i "s/^Date: .*/Date: $(git -C "$tree" log -1 --format=%aD teemed-tee)/" \
		"${SERIES_DIRS[0]}/0000-cover-letter.patch"
	if [ "$kvm" = 1 ]; then
		fp -o "${SERIES_DIRS[1]}" "$last_tee..HEAD"
	fi
	ls "${SERIES_DIRS[@]}"
}

main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case "$cmd" in
	deps) cmd_deps ;;
	versions) kernel_versions && kernel_versions_print ;;
	prepare) kernel_versions && cmd_prepare ;;
	check) kernel_versions && cmd_check ;;
	modules) kernel_versions && cmd_modules ;;
	devtree) kernel_versions && cmd_devtree ;;
	devtree-path) kernel_versions && echo "$KCACHE/devtree-$KERNEL_STACK/linux" ;;
	series) kernel_versions && series ;;
	backport) kernel_versions && cmd_backport ;;
	board-test) kernel_versions && cmd_board_test ;;
	export) kernel_versions && cmd_export "$@" ;;
	*) sed -n '3,20p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
	esac
}

main "$@"
