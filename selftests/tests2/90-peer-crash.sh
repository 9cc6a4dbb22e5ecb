#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The peer guest dies outright mid-stream.  Node 2's pod serves four
# streams (both ways at once, over tsor's RDMA link) to node 1's pod; once
# they move, node 2 stops its own guest at once (sysrq b: reboot without
# sync, which QEMU's -no-reboot turns into the guest ending; nothing is
# said on the wire).  Node 1 must see every stream fail with an error of
# its own within BOUND seconds (the RDMA link's retries run out), never
# hang; the link is counted down, no tsor socket or channel is left, and
# tsor unloads.  Node 2 said beforehand that it would stop
# (node_expect_down), so its end is expected, for this file only.
#
# Must be the last two-node test: node 2 is gone after it.
#
#   node  pod CIDR       pod eth0
#   1     10.22.1.0/24   10.22.1.2
#   2     10.22.2.0/24   10.22.2.2
set -uo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/nodes.sh
source "$(dirname "$0")/../lib/nodes.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"

me=$TSOR_NODE peer=$NODE_PEER
pod_ip() { echo "10.22.$1.2"; }
log=$TSOR_OUT/peer-crash
port=7600 conns=4
# How long node 1 may take to notice; the programs' own timeout is longer,
# so an end within BOUND is tsor's doing.
BOUND=60 PROG_TIMEOUT=200

trap node_kill_jobs EXIT

node_tsor_up
# Dialling a link between two emulated guests on a loaded host can take
# more than the defaults.
echo 30000 >/sys/module/tsor/parameters/pair_timeout_ms
echo 30000 >/sys/module/tsor/parameters/dial_timeout_ms
node_pod_up 10.22
check "node $peer is set up too" node_barrier ready || exit 1

# A first connection dials the link, so that the streams find it up.
rc=0 w0=$(counter pod conn_paired)
if [ "$me" = 2 ]; then
	ip netns exec pod "$STREAM" server -p $((port - 1)) -n 64K --timeout 120 \
		>"$log.warm" 2>&1 &
	wpid=$!
	wait_listen pod $((port - 1))
	node_barrier warm
	wait $wpid || rc=$?
else
	node_barrier warm
	ip netns exec pod "$STREAM" client -a "$(pod_ip 2)" -p $((port - 1)) -n 64K \
		--timeout 120 >"$log.warm" 2>&1 || rc=$?
fi
check_eq "a first connection (the link up)" 0 "$rc" || diag "$(tail -n 3 "$log.warm")"
check_eq "it paired over RDMA" $((w0 + 1)) "$(counter pod conn_paired)" ||
	diag "$("$TSORCTL" stats show netns pod | grep -v ' 0$')"

p0=$(counter pod conn_paired) tx0=$(counter pod rdma_tx_bytes)
if [ "$me" = 2 ]; then
	ip netns exec pod "$STREAM" server -p $port -c $conns -n 1G \
		--timeout $PROG_TIMEOUT >"$log.srv" 2>&1 &
	check "the server listens" wait_listen pod $port
	node_barrier listening
	check "node 1 says the streams move" node_get moving 300 || exit 1
	check_eq "node 2 served $conns paired streams" $((p0 + conns)) \
		"$(counter pod conn_paired)"
	check "node 2 says it stops on purpose" node_expect_down
	diag "node 2: stopping the guest now (sysrq b)"
	sleep 1
	sync
	echo b >/proc/sysrq-trigger
	sleep 60
	fail "node 2 is still alive after sysrq b"
	exit 1
fi

node_barrier listening
ip netns exec pod "$STREAM" client -a "$(pod_ip 2)" -p $port -c $conns -n 1G \
	--timeout $PROG_TIMEOUT >"$log.cli" 2>&1 &
cpid=$!
moving() {
	[ "$(counter pod conn_paired)" = $((p0 + conns)) ] &&
	[ $(($(counter pod rdma_tx_bytes) - tx0)) -ge 1048576 ]
}
check "$conns streams paired and 1 MiB moved over RDMA" until_s 120 moving ||
	diag "$("$TSORCTL" stats show netns pod | grep -v ' 0$')"
r0=$(counter pod conn_reset) d0=$(counter global link_down)
node_put moving yes
# Node 2 is gone once its QEMU ended (the host marks it down).
gone() { [ -e "$TSOR_EXCHANGE/down.node2" ]; }
check "node 2's guest ended" until_s 120 gone || exit 1
t0=$SECONDS
ended() { ! kill -0 "$cpid" 2>/dev/null; }
while ! ended && [ $((SECONDS - t0)) -le $BOUND ]; do
	sleep 0.5
done
if ended; then
	ok "the client noticed within $BOUND s ($((SECONDS - t0)) s)"
	rc=0
	wait "$cpid" || rc=$?
	out=$(grep -h FAIL "$log.cli" | head -n 3)
	diag "client: $out"
	check "the client failed (status $rc)" [ "$rc" -ne 0 ]
	if [[ $out == *watchdog* || $out == *expired* || $out == *"timed out"* ]]; then
		fail "with an error of tsor's, not its own timeout" "$out"
	else
		ok "with an error of tsor's, not its own timeout"
	fi
	check_eq "every stream failed, none ended cleanly" "$conns" \
		"$(grep -c 'conn=.*FAIL' "$log.cli")" || diag "$(grep 'conn=' "$log.cli")"
else
	# Killed by us: what it then says proves nothing.
	fail "the client noticed within $BOUND s" "$(tail -n 5 "$log.cli")"
	kill -9 "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
fi
check_eq "conn_reset counted the $conns streams" $((r0 + conns)) \
	"$(counter pod conn_reset)"
check_ge "link_down counted the link to node 2" $((d0 + 1)) \
	"$(counter global link_down)"
check_eq "no link to node 2 is up" "" \
	"$("$TSORCTL" -j link show | jq -r '.[] | select(.remote == "'"${NODE_IP4[2]}"'" and .state == "up") | .state')"
none_active() { [ "$(counter pod sock_active)" = 0 ]; }
check "no tsor socket is left in the pod" wait_until none_active
no_channel() { [ "$(counter global channel_active)" = 0 ]; }
check "every channel was freed" wait_until no_channel
"$TSORCTL" peer del 10.22.1.0/24
"$TSORCTL" peer del 10.22.2.0/24
ip netns del pod
ip route del "10.22.$peer.0/24" 2>/dev/null || true
ip link del vpod 2>/dev/null || true
check "rmmod tsor" tsor_unload_wait
