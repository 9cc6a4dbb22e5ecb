#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Loading and unloading tsor.ko, and what a loaded module registers.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_unload
check_fail "tsorctl without the module fails" "$TSORCTL" version
rc=0; err=$("$TSORCTL" netns show 2>&1) || rc=$?
check_eq "tsorctl without the module exits 3" 3 "$rc"
check_match "tsorctl says how to load the module" "not loaded.*modprobe tsor" "$err"

check "insmod tsor.ko" tsor_insmod
check "the TCPv4 clone is registered" grep -q "^TSOR " /proc/net/protocols
check "the TCPv6 clone is registered" grep -q "^TSORv6 " /proc/net/protocols
check_match "generic netlink family is registered" "tsor" \
	"$(cat /sys/module/tsor/refcnt >/dev/null && "$TSORCTL" version)"
ver=$("$TSORCTL" -j version)
check_eq "module version over netlink" "$(cat /sys/module/tsor/version)" \
	"$(jq -r .module.version <<<"$ver")"
check_eq "private protocol number" 253 "$(jq -r .module.protocol <<<"$ver")"
check_eq "no socket holds the module" 0 "$(cat /sys/module/tsor/refcnt)"

# Load/unload cycles with no traffic must leave nothing behind.
for i in 1 2 3; do
	rmmod tsor && tsor_insmod || { fail "load/unload cycle $i"; break; }
done
ok "three load/unload cycles"
check "rmmod tsor" rmmod tsor
check_fail "protocols are gone after rmmod" grep -q "^TSOR" /proc/net/protocols
check_fail "no slab cache left behind" grep -q "^TSOR" /proc/slabinfo
check "insmod again" tsor_insmod
