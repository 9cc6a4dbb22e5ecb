#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module cannot be unloaded under live sockets, and namespaces can go
# away at any time.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a
"$TSORCTL" netns enable pod_b

ip netns exec pod_b "$STREAM" server -p 7300 -n 1K >/dev/null 2>&1 & srv=$!
wait_listen pod_b 7300
check_ge "a live listener holds the module" 1 "$(cat /sys/module/tsor/refcnt)"
rc=0; err=$(rmmod tsor 2>&1) || rc=$?
check "rmmod with a live tsor socket is refused" test $rc -ne 0
check_match "rmmod says the module is in use" "in use|Resource temporarily" "$err"
check "the module is still loaded" tsor_loaded
check "and still works" stream pod_b pod_a 7301 "$B4" -n 64K
kill $srv; wait $srv 2>/dev/null

# A connection in flight when its namespaces are deleted: its sockets (and
# TIME_WAIT ones) die with the namespaces, and the module can then go.
ip netns exec pod_b "$STREAM" server -p 7302 -n 64M --timeout 120 >/dev/null 2>&1 &
wait_listen pod_b 7302
ip netns exec pod_a "$STREAM" client -a $B4 -p 7302 -n 64M --timeout 120 >/dev/null 2>&1 &
sleep 1
check_ge "tsor sockets are alive mid-transfer" 1 "$(counter global sock_active)"
kill -9 %1 %2 2>/dev/null; wait
check "delete both namespaces while enabled" delpods
tsor_unload_wait
check_fail "rmmod succeeds once the namespaces are gone" tsor_loaded
check "reload" tsor_insmod
