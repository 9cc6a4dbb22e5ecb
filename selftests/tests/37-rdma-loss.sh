#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Losing the RDMA link: a stream between two pods of this node, joined
# over Soft-RoCE loopback (local-path rdma), when `rdma link delete` takes
# the device away mid-stream, resumes over its TCP connection at the exact
# byte on both ends and completes, never hangs; new connections must stay
# TCP and work; the device coming back brings pairing back.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"
. "$REPO/selftests/lib/rxe.sh"

tsor_load
# Dialling the link again under emulation may take longer than 3 s.
echo 15000 >/sys/module/tsor/parameters/pair_timeout_ms
check "Soft-RoCE rxe0 is up on tsr0" rxe_up || exit 1
check "dev set ibdev rxe0 addr $NODE4 local-path rdma" \
	"$TSORCTL" dev set ibdev rxe0 addr $NODE4 local-path rdma
mkpods
"$TSORCTL" netns enable pod_a
"$TSORCTL" netns enable pod_b
"$TSORCTL" peer del 10.10.0.0/24 2>/dev/null
"$TSORCTL" peer add 10.10.0.0/24 via $NODE4

reset0=$(counter pod_a conn_reset) paired0=$(counter pod_a conn_paired)
resumed0=$(counter pod_a conn_resumed)
# Small enough for TCP to finish it under emulation (a few MB/s).
ip netns exec pod_b "$STREAM" server -p 7400 -n 48M --timeout 60 \
	>"$TSOR_OUT/loss.srv" 2>&1 &
spid=$!
wait_listen pod_b 7400
ip netns exec pod_a "$STREAM" client -a "$B4" -p 7400 -n 48M --timeout 60 \
	>"$TSOR_OUT/loss.cli" 2>&1 &
cpid=$!
moving() { [ "$(counter pod_a rdma_tx_bytes)" -gt "$1" ]; }
check "the stream is paired and moving over RDMA" \
	wait_until moving "$(counter pod_a rdma_tx_bytes)"
check_eq "one more connection paired" $((paired0 + 1)) "$(counter pod_a conn_paired)"
check "rdma link delete rxe0 mid-stream" rdma link delete rxe0
gone() { ! kill -0 "$1" 2>/dev/null; }
# ends PID: gone within 150 s (TCP carries the rest of the stream).
ends() {
	local t=$SECONDS
	while ! gone "$1" && [ $((SECONDS - t)) -lt 150 ]; do
		sleep 0.5
	done
	gone "$1"
}
check "the client ends" ends $cpid ||
	diag "$(tail -n 3 "$TSOR_OUT/loss.cli")"
check "the server ends" ends $spid ||
	diag "$(tail -n 3 "$TSOR_OUT/loss.srv")"
crc=0; wait $cpid || crc=$?
src=0; wait $spid || src=$?
check_eq "the client completed byte-exact" 0 "$crc" ||
	diag "$(tail -n 3 "$TSOR_OUT/loss.cli")"
check_eq "the server completed byte-exact" 0 "$src" ||
	diag "$(tail -n 3 "$TSOR_OUT/loss.srv")"
check "each end received what the other sent" eval \
	'[ "$(digests sha_tx "$TSOR_OUT/loss.cli")" = "$(digests sha_rx "$TSOR_OUT/loss.srv")" ] &&
	 [ "$(digests sha_rx "$TSOR_OUT/loss.cli")" = "$(digests sha_tx "$TSOR_OUT/loss.srv")" ] &&
	 [ -n "$(digests sha_rx "$TSOR_OUT/loss.cli")" ]'
check_eq "conn_resumed counted it" $((resumed0 + 1)) "$(counter pod_a conn_resumed)"
check_eq "no conn_reset" "$reset0" "$(counter pod_a conn_reset)"
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

# The device back: after the failed link's few seconds in the negative
# cache, connections pair again.
check "rxe0 again" rxe_up
check "the listener is back on $NODE4:18515" cm_listening "$NODE4:18515"
sleep 5
paired0=$(counter pod_a conn_paired) tx0=$(counter pod_a rdma_tx_bytes)
check "a new connection is byte-exact" stream pod_b pod_a 7402 "$B4" -n 256K
check_eq "and paired over RDMA again" $((paired0 + 1)) "$(counter pod_a conn_paired)"
check_eq "rdma_tx_bytes counts it" $((tx0 + 262144)) "$(counter pod_a rdma_tx_bytes)"
"$TSORCTL" peer del 10.10.0.0/24

none_active() { [ "$(counter pod_a sock_active)$(counter pod_b sock_active)" = 00 ]; }
wait_until none_active
# Released by the transport, dropped by their sockets: every channel freed.
no_channel() { [ "$(counter global channel_active)" = 0 ]; }
check "every channel was freed" wait_until no_channel
delpods
check "rmmod tsor" tsor_unload_wait
rxe_down
