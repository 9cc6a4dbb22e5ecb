# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# Source this to get everything the tests need on a bare Debian bookworm
# machine.  Idempotent: when all is in place it only checks, in well under
# a second.
#
#   - installs the missing Debian packages (TSOR_PACKAGES);
#   - exports ABI (e.g. 6.1.0-56-amd64) and KDIR, its headers tree;
#   - unpacks the matching Debian kernel into the cache, for the guest:
#     GUEST_KERNEL, GUEST_MODROOT (modprobe -d "$GUEST_MODROOT" works);
#   - builds GUEST_INITRD, a busybox initramfs that mounts the host's root
#     over virtio-9p (selftests/lib/boot.sh boots it).
#
# The cache is ${TSOR_CACHE:-$REPO/.cache}; delete it to start over.
# Functions return non-zero on failure, so a caller under set -e stops.

# Everything the build, the lint and the tests use, in one place.
TSOR_PACKAGES=(
	# build (libjansson: the CNI plugin's JSON)
	make gcc pkg-config libmnl-dev libjansson-dev linux-headers-amd64 git
	# lint: checkpatch.pl comes from the kernel source, and needs perl
	linux-source-6.1 xz-utils perl sparse dkms
	# guest
	qemu-system-x86 busybox-static cpio kmod iproute2
	# guest tests (containernetworking-plugins: bridge, host-local)
	jq iputils-ping containernetworking-plugins
	# deploy checks
	yamllint shellcheck python3-yaml
	# RDMA tests (Soft-RoCE)
	rdma-core ibverbs-utils rdmacm-utils perftest
	# the rogue node of tests/45-rogue (selftests/progs/tsor_rogue)
	libibverbs-dev librdmacm-dev
	# data-path tests: unmodified applications between pods (64-apps)
	redis-server redis-tools iperf3 nodejs curl
)

# The modules the initramfs needs to mount the host's root over virtio-9p.
TSOR_INITRAMFS_MODULES=(virtio_pci 9pnet_virtio 9p)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
export REPO

tsor_say() { printf '==> %s\n' "$*"; }
tsor_err() { printf 'setup: error: %s\n' "$*" >&2; }

# Root runs apt directly; anyone else needs sudo.
tsor_as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		tsor_err "not root and no sudo: cannot run $*"
		return 1
	fi
}

# At most one 'apt-get update' per shell, and only when something is fetched.
tsor_apt_update() {
	[ -n "${TSOR_APT_UPDATED:-}" ] && return 0
	tsor_say "apt-get update"
	tsor_as_root apt-get update -qq || return 1
	TSOR_APT_UPDATED=1
}

# Daemons among the packages (redis-server) are for the guest's tests, never
# to run on this machine: while installing, a policy-rc.d answering 101
# ("action forbidden") keeps invoke-rc.d and deb-systemd-invoke from
# starting them, unless the machine has a policy of its own.
tsor_apt_install() {
	local policy=/usr/sbin/policy-rc.d own=0 rc=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# tsor selftests/lib/setup.sh: no daemon starts while it installs\nexit 101\n' |
			tsor_as_root tee "$policy" >/dev/null &&
			tsor_as_root chmod 755 "$policy" && own=1
	fi
	tsor_as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@" || rc=$?
	[ $own = 0 ] || tsor_as_root rm -f "$policy"
	return $rc
}

tsor_setup_packages() {
	local installed missing=() p
	installed=" $(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' \
		"${TSOR_PACKAGES[@]}" 2>/dev/null | awk '$1 == "ii" { printf "%s ", $2 }')"
	for p in "${TSOR_PACKAGES[@]}"; do
		[[ $installed == *" $p "* ]] || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	tsor_say "installing packages: ${missing[*]}"
	if ! { tsor_apt_update && tsor_apt_install "${missing[@]}"; }; then
		tsor_err "cannot install ${missing[*]}"
		return 1
	fi
}

# The ABI is the one linux-headers-amd64 pulls in: its headers are what we
# build against, so the guest must run exactly that kernel.
tsor_setup_abi() {
	ABI=$(apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-headers-\([0-9].*-amd64\)$/\1/p' | head -n1)
	if [ -z "$ABI" ]; then
		tsor_err "cannot tell the ABI from: apt-cache depends linux-headers-amd64"
		return 1
	fi
	KDIR=/usr/src/linux-headers-$ABI
	export ABI KDIR
	# The package lists may name a newer ABI than the headers installed.
	[ -f "$KDIR/Makefile" ] && return 0
	tsor_say "installing linux-headers-$ABI"
	if ! { tsor_apt_update && tsor_apt_install "linux-headers-$ABI"; }; then
		tsor_err "cannot install linux-headers-$ABI"
		return 1
	fi
}

# The guest kernel: Debian's unsigned image of the same ABI, unpacked, never
# installed.  It is fetched and unpacked once; modules.dep marks completion.
tsor_setup_guest_kernel() {
	local pkg=linux-image-$ABI-unsigned tmp deb
	GUEST_MODROOT=$GUEST_DIR/root
	GUEST_KERNEL=$GUEST_MODROOT/boot/vmlinuz-$ABI
	export GUEST_DIR GUEST_MODROOT GUEST_KERNEL
	[ -f "$GUEST_MODROOT/lib/modules/$ABI/modules.dep" ] && return 0

	tsor_say "fetching the guest kernel $pkg"
	mkdir -p "$GUEST_DIR" || return 1
	tmp=$(mktemp -d "$GUEST_DIR/tmp.XXXXXX") || return 1
	# The package lists may be missing or stale: then update and retry.
	if ! (cd "$tmp" && apt-get download -qq "$pkg" 2>/dev/null) &&
	   ! { tsor_apt_update && (cd "$tmp" && apt-get download -qq "$pkg"); }; then
		tsor_err "cannot download $pkg"
		rm -rf "$tmp"
		return 1
	fi
	deb=$(echo "$tmp"/*.deb)
	if ! dpkg -x "$deb" "$tmp/root" ||
	   ! depmod -b "$tmp/root" "$ABI" ||
	   [ ! -f "$tmp/root/boot/vmlinuz-$ABI" ]; then
		tsor_err "cannot unpack $deb"
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$GUEST_MODROOT" && mv "$tmp/root" "$GUEST_MODROOT" &&
		rm -rf "$tmp"
}

# PID 1 of the guest, run by busybox sh.  It mounts the host's root read-only
# and the run's output directory read-write at its own path (its location
# and the command come from $TSOR_OUT/.guest/, written by boot.sh), then
# switch_roots there to run the command, record its status and power off.
# switch_root, not chroot: the kernel refuses user namespaces to chrooted
# tasks, and PID 1 shares its root with kthreadd, so the kernel's own
# request_module() helper then runs in the host's root as well.
tsor_guest_init() {
	cat <<'EOF'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
fatal() { echo "tsor-guest: error: $*"; poweroff -f; }
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in /lib/modules/*.ko; do insmod "$m" || fatal "insmod $m"; done
opts=trans=virtio,version=9p2000.L,msize=262144
# The root does not change during a run, so the guest may cache it.
mount -t 9p -o "$opts,ro,cache=loose" hostroot /newroot || fatal "mount hostroot"
mount -t 9p -o "$opts" tsorout /out || fatal "mount tsorout"
. /out/.guest/env
mkdir -p /dev/pts /dev/shm
for d in proc sys dev; do mount --bind "/$d" "/newroot/$d"; done
mount -t devpts devpts /newroot/dev/pts
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup
mount -t debugfs debugfs /newroot/sys/kernel/debug
mount -t tracefs tracefs /newroot/sys/kernel/tracing
mount -t bpf bpf /newroot/sys/fs/bpf
# The tmpfs mounts would hide a repo or cache under /tmp (a CI clone may be
# there): hold them aside and put them back.
keep() {
	i=0
	for p in "$REPO" "$GUEST_MODROOT"; do
		i=$((i + 1))
		"$@" "$p" "/keep/$i" || fatal "cannot keep $p visible"
	done
}
hold() { mkdir -p "$2" && mount --bind "/newroot$1" "$2"; }
restore() {
	if [ -d "/newroot$1" ]; then umount "$2"
	else mkdir -p "/newroot$1" && mount --move "$2" "/newroot$1"; fi
}
keep hold
for d in dev/shm tmp run var/tmp; do mount -t tmpfs tmpfs "/newroot/$d"; done
keep restore
mkdir -p "/newroot$TSOR_OUT" && mount --move /out "/newroot$TSOR_OUT" ||
	fatal "mount $TSOR_OUT"
hostname tsor-guest
ip link set lo up
# The host has no /lib/modules: point modprobe at the unpacked guest tree.
printf '#!/bin/sh\nexec /sbin/modprobe -d "%s" "$@"\n' "$GUEST_MODROOT" \
	>/newroot/run/tsor-modprobe
chmod 755 /newroot/run/tsor-modprobe
echo /run/tsor-modprobe > /proc/sys/kernel/modprobe
echo "tsor-guest: running the command"
exec switch_root /newroot /usr/bin/env -i \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/tmp TERM=dumb LANG=C.UTF-8 REPO="$REPO" TSOR_OUT="$TSOR_OUT" \
	ABI="$ABI" GUEST_MODROOT="$GUEST_MODROOT" /bin/bash -c '
cd "$REPO" && /bin/bash "$TSOR_OUT/.guest/cmd" </dev/null
st=$?
echo "$st" > "$TSOR_OUT/.guest/status"
echo "tsor-guest: the command exited with status $st"
sync
exec /bin/busybox poweroff -f'
EOF
}

# Print the modules to insmod, dependencies first, once each; built-in ones
# need nothing.
tsor_initramfs_modules() {
	local m
	for m in "${TSOR_INITRAMFS_MODULES[@]}"; do
		modprobe -d "$GUEST_MODROOT" -S "$ABI" --show-depends "$m" ||
			return 1
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# Rebuilt only when one of its inputs changes: the init script, busybox,
# the module list, or the unpacked kernel.
tsor_setup_initramfs() {
	local mods stamp work i=10 m dst
	GUEST_INITRD=$GUEST_DIR/initramfs.cpio.gz
	export GUEST_INITRD
	mods=$(tsor_initramfs_modules) || return 1
	stamp=$( { tsor_guest_init; echo "$mods"
		   sha256sum /bin/busybox "$GUEST_MODROOT/lib/modules/$ABI/modules.dep"
		 } | sha256sum)
	[ -f "$GUEST_INITRD" ] && [ "$(cat "$GUEST_INITRD.stamp" 2>/dev/null)" = "$stamp" ] &&
		return 0

	tsor_say "building the guest initramfs"
	work=$(mktemp -d) || return 1
	mkdir -p "$work"/{bin,dev,proc,sys,etc,newroot,out,lib/modules}
	cp /bin/busybox "$work/bin/" || { rm -rf "$work"; return 1; }
	ln -s busybox "$work/bin/sh"
	tsor_guest_init >"$work/init"
	chmod 755 "$work/init"
	# Numbered so that the init's glob loads them in dependency order;
	# busybox insmod wants them uncompressed.
	for m in $mods; do
		dst=$work/lib/modules/$((i++))-$(basename "${m%.ko*}").ko
		case $m in
		*.ko.xz) xz -dc "$m" >"$dst" ;;
		*)       cp "$m" "$dst" ;;
		esac || { rm -rf "$work"; return 1; }
	done
	if ! (cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) \
		>"$GUEST_INITRD.tmp"; then
		rm -rf "$work"
		return 1
	fi
	rm -rf "$work"
	mv "$GUEST_INITRD.tmp" "$GUEST_INITRD" &&
		echo "$stamp" >"$GUEST_INITRD.stamp"
}

# Copy the source tree (tracked and untracked files, not ignored ones, so no
# build products or caches) to $1, as a release tarball would have it.
tsor_copy_tree() {
	mkdir -p "$1" &&
	git -C "$REPO" ls-files -z --cached --others --exclude-standard |
		(cd "$REPO" && while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done) |
		tar -C "$REPO" --null -T - -cf - | tar -C "$1" -xf -
}

tsor_setup() {
	TSOR_CACHE=$(mkdir -p "${TSOR_CACHE:-$REPO/.cache}" && cd "${TSOR_CACHE:-$REPO/.cache}" && pwd -P) ||
		return 1
	export TSOR_CACHE
	tsor_setup_packages || return 1
	tsor_setup_abi || return 1
	GUEST_DIR=$TSOR_CACHE/guest/$ABI
	tsor_setup_guest_kernel || return 1
	tsor_setup_initramfs || return 1
}

tsor_setup
