#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms.conf works: a real 'dkms add' and 'dkms build' of a copy of the tree,
# in scratch trees so that /var/lib/dkms and /usr/src stay untouched.
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/setup.sh
source "$(dirname "$0")/../lib/setup.sh"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"$/\1/p' "$REPO/dkms.conf")
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO/dkms.conf")
dkms=(dkms -m "$name" -v "$ver" --dkmstree "$scratch/dkms" --sourcetree "$scratch/src")
# dkms signs what it builds, with a key it makes on first use: keep that
# key in the scratch tree too.
export mok_signing_key=$scratch/mok.key mok_certificate=$scratch/mok.pub

mkdir "$scratch/dkms"
check "tree copied to $name-$ver" tsor_copy_tree "$scratch/src/$name-$ver"
check "dkms add" "${dkms[@]}" add
if ! check "dkms build -k $ABI" "${dkms[@]}" build -k "$ABI" --kernelsourcedir "$KDIR"; then
	diag "$(tail -n 40 "$scratch/dkms/$name/$ver/build/make.log" 2>/dev/null)"
	exit 1
fi
ko=$scratch/dkms/$name/$ver/$ABI/$(uname -m)/module/$name.ko
check "dkms produced $name.ko" test -f "$ko"
check_match "$name.ko is built for $ABI" "^$ABI " "$(modinfo -F vermagic "$ko")"
