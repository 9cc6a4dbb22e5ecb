#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Paired connections between pods of two nodes over tsor's RDMA link.
# Each node has one pod, routed through the node (a CNI's host-gw):
#
#   node  pod CIDR       pod eth0
#   1     10.20.1.0/24   10.20.1.2
#   2     10.20.2.0/24   10.20.2.2
#
# Node 2's pod serves, node 1's connects; both check from their counters
# that RDMA carried the bytes and TCP did not, and that the link is up.
# A failed check must not stop this node: the other one waits for it.
set -uo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/nodes.sh
source "$(dirname "$0")/../lib/nodes.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"

me=$TSOR_NODE peer=$NODE_PEER
pod_ip() { echo "10.20.$1.2"; }
log=$TSOR_OUT/pair-rdma
port=7500 size=1M

trap node_kill_jobs EXIT

node_tsor_up
# The first connection to a node also waits for its link to be dialled,
# which under emulation may take longer than the default 3 s.
echo 15000 >/sys/module/tsor/parameters/pair_timeout_ms
node_pod_up 10.20
check "node $peer is set up too" node_barrier ready
check "the pods reach each other over the node network" \
	ip netns exec pod ping -c 2 -i 0.3 -W 5 "$(pod_ip "$peer")"

p0=$(counter pod conn_paired) tx0=$(counter pod rdma_tx_bytes)
rx0=$(counter pod rdma_rx_bytes) ttx0=$(counter pod tcp_tx_bytes)
trx0=$(counter pod tcp_rx_bytes)
if [ "$me" = 2 ]; then
	ip netns exec pod "$STREAM" server -p $port -n $size --timeout 120 \
		>"$log.srv" 2>&1 &
	spid=$!
	check "the server listens" wait_listen pod $port
	node_barrier listening
	rc=0
	wait $spid || rc=$?
	check_eq "the server's stream is byte-exact" 0 "$rc" || diag "$(tail -n 5 "$log.srv")"
	out=$log.srv
else
	node_barrier listening
	rc=0
	ip netns exec pod "$STREAM" client -a "$(pod_ip 2)" -p $port -n $size \
		--timeout 120 >"$log.cli" 2>&1 || rc=$?
	check_eq "the client's stream is byte-exact" 0 "$rc" || diag "$(tail -n 5 "$log.cli")"
	out=$log.cli
fi
node_put digests "$(digests sha_tx "$out") $(digests sha_rx "$out")"
theirs=$(node_get digests)
check_eq "what each end sent is what the other received" \
	"$(digests sha_rx "$out") $(digests sha_tx "$out")" "$theirs"

total() { grep -o " $1=[0-9]*" "$2" | awk -F= '{ s += $2 } END { print s + 0 }'; }
check_eq "the connection was paired" $((p0 + 1)) "$(counter pod conn_paired)" ||
	diag "$("$TSORCTL" stats show global | grep -v " 0$")"
if [ "$me" = 1 ]; then
	check_eq "rdma_tx_bytes counts what the client sent" \
		$((tx0 + $(total sent "$out"))) "$(counter pod rdma_tx_bytes)"
	check_eq "the client sent nothing over TCP" "$ttx0" "$(counter pod tcp_tx_bytes)"
	check_eq "it received everything over RDMA or, before the switch, TCP" \
		$((rx0 + trx0 + $(total recv "$out"))) \
		$(($(counter pod rdma_rx_bytes) + $(counter pod tcp_rx_bytes)))
else
	# The server may write before the switch (both ends send at once).
	check_eq "rdma_tx_bytes and tcp_tx_bytes count what the server sent" \
		$((tx0 + ttx0 + $(total sent "$out"))) \
		$(($(counter pod rdma_tx_bytes) + $(counter pod tcp_tx_bytes)))
	check "and RDMA carried some of it" \
		[ $(($(counter pod rdma_tx_bytes) - tx0)) -gt 0 ]
	check_eq "the server received nothing over TCP" "$trx0" "$(counter pod tcp_rx_bytes)"
	check_eq "rdma_rx_bytes counts what it received" \
		$((rx0 + $(total recv "$out"))) "$(counter pod rdma_rx_bytes)"
fi
links=$("$TSORCTL" -j link show)
check_eq "a link to node $peer, from this node's address, up" "${NODE_IP4[me]} up" \
	"$(jq -r '.[] | select(.remote == "'"${NODE_IP4[peer]}"'") | "\(.local) \(.state)"' <<<"$links" | head -n 1)" ||
	diag "$links"

node_barrier finished
"$TSORCTL" peer del 10.20.1.0/24
"$TSORCTL" peer del 10.20.2.0/24
ip netns del pod
ip route del "10.20.$peer.0/24" 2>/dev/null || true
ip link del vpod 2>/dev/null || true
check "rmmod tsor" tsor_unload_wait
