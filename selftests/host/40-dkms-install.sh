#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms.conf installs: a real 'dkms install' of a copy of the tree into a
# scratch module tree of the target kernel, where depmod and modprobe find
# it; 'dkms remove' takes it out again; and 'dkms autoinstall', what
# Debian's kernel postinst hook runs for a new kernel, builds and installs
# it by itself.  /lib/modules, /var/lib/dkms and /usr/src stay untouched.
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/setup.sh
source "$(dirname "$0")/../lib/setup.sh"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
touch "$scratch/start"

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$REPO/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/dkms.conf")
root=$scratch/root
# dkms would run depmod on the host's /lib/modules: this test runs it on
# the scratch tree instead.
dkms=(dkms -m "$name" -v "$ver" --dkmstree "$scratch/dkms" --sourcetree "$scratch/src"
      --installtree "$root/lib/modules" --kernelsourcedir "$KDIR" --no-depmod)
# dkms signs what it builds, with a key it makes on first use: keep that
# key in the scratch tree too.
export mok_signing_key=$scratch/mok.key mok_certificate=$scratch/mok.pub

# The scratch tree holds the target kernel's own modules (symlinks to the
# unpacked guest kernel), so that depmod and modprobe resolve tsor and its
# dependencies as on a node.
mods=$GUEST_MODROOT/lib/modules/$ABI
mkdir -p "$scratch/dkms" "$root/lib/modules/$ABI"
cp -rs "$mods/kernel" "$root/lib/modules/$ABI/"
cp "$mods"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$ABI/"
ko=$root/lib/modules/$ABI/updates/dkms/$name.ko

status() { "${dkms[@]}" status -k "$ABI" 2>&1; }
# resolves: the .ko that 'modprobe tsor' would load for $ABI.
resolves() {
	depmod -b "$root" "$ABI" &&
	modprobe -d "$root" -S "$ABI" --show-depends "$name" | sed -n 's/^insmod \([^ ]*\) *$/\1/p' | tail -n 1
}
# make_log: the end of the last build's log, when a build fails.
make_log() { diag "$(tail -n 40 "$scratch/dkms/$name/$ver/build/make.log" 2>/dev/null)"; }

check "tree copied to $name-$ver" tsor_copy_tree "$scratch/src/$name-$ver"
check "dkms add" "${dkms[@]}" add
check "dkms build -k $ABI" "${dkms[@]}" build -k "$ABI" || { make_log; exit 1; }
check "dkms install -k $ABI into a scratch module tree" "${dkms[@]}" install -k "$ABI"
check "$name.ko lands in updates/dkms/" test -f "$ko"
check_match "dkms status says installed" "^$name/$ver, $ABI, $(uname -m): installed" "$(status)"
check_eq "modprobe $name finds it there, for $ABI" "$ko" "$(resolves)"
check_match "it is built for $ABI" "^$ABI " "$(modinfo -F vermagic "$ko")"
check_eq "deploy/modules-load.d/tsor.conf loads $name at boot" "$name" \
	"$(grep -v '^[#;]' "$REPO/deploy/modules-load.d/tsor.conf")"

check "dkms remove --all" "${dkms[@]}" remove --all
check_fail "takes $name.ko out of the module tree" test -e "$ko"
check_eq "modprobe no longer finds it" "" "$(resolves 2>/dev/null)"

# A new kernel: Debian's postinst hook (/etc/kernel/postinst.d/dkms) runs
# 'dkms autoinstall' for it, which builds and installs every added module
# whose dkms.conf says AUTOINSTALL="yes".
check "dkms add again" "${dkms[@]}" add
check "dkms autoinstall -k $ABI" "${dkms[@]}" autoinstall -k "$ABI" || { make_log; exit 1; }
check_match "builds and installs $name" "^$name/$ver, $ABI, $(uname -m): installed" "$(status)"
check_eq "where modprobe finds it" "$ko" "$(resolves)"

check_eq "the host's module trees are untouched" "" \
	"$(find /lib/modules /var/lib/dkms /usr/src -newer "$scratch/start" 2>/dev/null | head)"
