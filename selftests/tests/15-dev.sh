#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The node's RDMA endpoint: tsorctl dev show and set, what set refuses
# (and that a refusal changes nothing), and the rdma_cm listener.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"
. "$REPO/selftests/lib/rxe.sh"

! tsor_loaded || tsor_unload_wait
rxe_down
check "tsor.ko loads" tsor_load
check_match "defaults: port 18515, local-path shm" "port 18515 local-path shm" \
	"$("$TSORCTL" dev show)"
dev=$("$TSORCTL" -j dev show)
check_eq "no device, no address yet" "null null" "$(jq -r '"\(.ibdev) \(.addr)"' <<<"$dev")" ||
	diag "$dev"

# refused NAME ERRTEXT ARGS...: dev set ARGS fails with exit 1 and says
# ERRTEXT, and the settings stay what they were.
refused() {
	local name=$1 text=$2 before out rc=0
	shift 2
	before=$("$TSORCTL" dev show)
	out=$("$TSORCTL" dev set "$@" 2>&1) || rc=$?
	check_eq "refused: $name (exit 1)" 1 "$rc" || diag "$out"
	check_match "refused: $name says why" "$text" "$out"
	check_eq "refused: $name changes nothing" "$before" "$("$TSORCTL" dev show)"
}
refused "an unknown device" "no RDMA device of that name" ibdev nosuch0
refused "an address not on this node" "not one of this node's" addr 192.0.2.7
refused "a bad device with a good port" "no RDMA device" port 4000 ibdev nosuch0

check "rxe0 comes up" rxe_up || exit 1
check_eq "the device and its address show when unset" "rxe0 $NODE4" \
	"$("$TSORCTL" -j dev show | jq -r '"\(.ibdev) \(.addr)"')"
# Made at load without a device, it listens on rxe0 since it came.
check "the listener on [::]:18515 (any address) covers rxe0" cm_listening ":::18515"
refused "an address of another device's netdev" "not on a network device" \
	ibdev rxe0 addr 127.0.0.1
check "dev set addr $NODE4 port 18600" "$TSORCTL" dev set addr $NODE4 port 18600
check "the listener moved to $NODE4:18600" cm_listening "$NODE4:18600"
check "and left port 18515" cm_not_listening ":::18515"
check "dev set local-path rdma" "$TSORCTL" dev set local-path rdma
check_match "dev show has it all" "ibdev rxe0 addr $NODE4 port 18600 local-path rdma" \
	"$("$TSORCTL" dev show)"
check "dev set addr $NODE6 (IPv6)" "$TSORCTL" dev set addr $NODE6
check "the listener moved to [$NODE6]:18600" cm_listening "$NODE6:18600"

# A device going away takes the listener bound to it along; it comes back
# with the device.
check "rdma link delete rxe0" rdma link delete rxe0
check "the listener went with the device" cm_not_listening "$NODE6:18600"
check "rxe0 again" rxe_up
check "the listener came back" cm_listening "$NODE6:18600"

check "dev set addr 0.0.0.0 port 18515 local-path shm (back to automatic)" \
	"$TSORCTL" dev set addr 0.0.0.0 port 18515 local-path shm
check "the listener is on [::]:18515 again" cm_listening ":::18515"
check "rmmod with a device present" tsor_unload_wait
check "no listener is left" cm_not_listening ":::18515"
rxe_down
check "tsor.ko loads with no device" tsor_load
