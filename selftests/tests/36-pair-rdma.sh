#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The pairing suite of 35-pair.sh over RDMA: with local-path rdma, two
# pods of this node are joined by an RDMA link through Soft-RoCE loopback
# (the same code as between nodes).  Then the link is lost mid-stream:
# the connection must fail, not hang, and new ones must fall back to TCP.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"
. "$REPO/selftests/lib/pair.sh"
. "$REPO/selftests/lib/rxe.sh"

tsor_load
check "Soft-RoCE rxe0 is up on tsr0" rxe_up || exit 1
check "dev set ibdev rxe0 addr $NODE4 local-path rdma" \
	"$TSORCTL" dev set ibdev rxe0 addr $NODE4 local-path rdma
check_match "dev show says so" "ibdev rxe0 addr $NODE4 port 18515 local-path rdma" \
	"$("$TSORCTL" dev show)"
check "the RDMA listener is on $NODE4:18515" cm_listening "$NODE4:18515"

mkpods
pair_suite $NODE4 rdma 1M

# The loopback link is two link objects: the dialled end and the accepted one.
links=$("$TSORCTL" -j link show)
check_eq "two link ends, both up" "up up" \
	"$(jq -r '[.[] | select(.remote == "'$NODE4'") | .state] | join(" ")' <<<"$links")" ||
	diag "$links"
check_eq "and from $NODE4" "$NODE4 $NODE4" \
	"$(jq -r '[.[] | .local] | join(" ")' <<<"$links")"
# Every channel went once its sockets closed.
no_channels() { [ "$("$TSORCTL" -j link show | jq '[.[].channels] | add')" = 0 ]; }
check "no channel is left on the links" wait_until no_channels

# Link loss in the middle of a stream: an error, never a hang.
"$TSORCTL" peer add 10.10.0.0/24 via $NODE4
reset0=$(counter pod_a conn_reset) paired0=$(counter pod_a conn_paired)
ip netns exec pod_b "$STREAM" server -p 7400 -n 1G --timeout 60 \
	>"$TSOR_OUT/loss.srv" 2>&1 &
spid=$!
wait_listen pod_b 7400
ip netns exec pod_a "$STREAM" client -a "$B4" -p 7400 -n 1G --timeout 60 \
	>"$TSOR_OUT/loss.cli" 2>&1 &
cpid=$!
moving() { [ "$(counter pod_a rdma_tx_bytes)" -gt "$1" ]; }
check "the stream is paired and moving over RDMA" \
	wait_until moving "$(counter pod_a rdma_tx_bytes)"
check_eq "one more connection paired" $((paired0 + 1)) "$(counter pod_a conn_paired)"
check "rdma link delete rxe0 mid-stream" rdma link delete rxe0
gone() { ! kill -0 "$1" 2>/dev/null; }
check "the client ends within 20 s" wait_until gone $cpid ||
	diag "$(tail -n 3 "$TSOR_OUT/loss.cli")"
check "the server ends within 20 s" wait_until gone $spid ||
	diag "$(tail -n 3 "$TSOR_OUT/loss.srv")"
crc=0; wait $cpid || crc=$?
src=0; wait $spid || src=$?
check "the client failed" [ "$crc" -ne 0 ]
check "the server failed" [ "$src" -ne 0 ]
check_match "the client saw a reset" "FAIL" "$(cat "$TSOR_OUT/loss.cli")"
check "conn_reset counted it" [ "$(counter pod_a conn_reset)" -gt "$reset0" ]
kill $cpid $spid 2>/dev/null
no_links() { [ "$("$TSORCTL" -j link show | jq '[.[] | select(.state != "down")] | length')" = 0 ]; }
check "no link is left up" wait_until no_links

# Without the device, new connections stay TCP at once, and work.
nodev0=$(counter pod_a fallback_no_device)
down0=$(counter pod_a fallback_link_down)
check "a new connection without the device is byte-exact over TCP" \
	stream pod_b pod_a 7401 "$B4" -n 64K
check "and fell back for want of a device or link" \
	[ $(($(counter pod_a fallback_no_device) + $(counter pod_a fallback_link_down))) -gt $((nodev0 + down0)) ]
"$TSORCTL" peer del 10.10.0.0/24

wait_until pair_none_active
delpods
check "rmmod tsor" tsor_unload_wait
rxe_down
