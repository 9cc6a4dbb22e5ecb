#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The data path between two nodes: a pod on each node (its own netns on a
# bridge, routed through the node), tsor.ko on both, Soft-RoCE rxe0 on each
# eth0 as the node's device, and a peer table that sends each node's pod
# CIDR to that node.  Streams between the pods must pair over the RDMA link,
# byte-exact, counted as rdma_* bytes and not on TCP; then node 2 unloads
# tsor and node 1's connections to it fall back (fallback_peer_no_tsor),
# still byte-exact.  Runs when rdma is among the data paths (run.sh --path).
#
#   node N   br0 10.78.N.1/24   pod_a eth0 10.78.N.2/24, default via br0
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/nodes.sh
source "$(dirname "$0")/../lib/nodes.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

n=$TSOR_NODE peer=$NODE_PEER
paths=${TSOR_DATA_PATHS:-$DATA_PATHS_DEFAULT}
if [[ ,$paths, != *,rdma,* ]]; then
	skip "two-node data path" "rdma is not among the data paths ($paths)"
	exit 0
fi
TAP_NAME="$TAP_NAME [rdma]"

cleanup() {
	ip netns pids pod_a 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del pod_a 2>/dev/null || true
	ip link del br0 2>/dev/null || true
}
trap cleanup EXIT

pod4() { echo "10.78.$1.2"; }

setup() {
	tsor_load &&
	sysctl -qw net.ipv4.ip_forward=1 &&
	ip link add br0 type bridge &&
	ip addr add "10.78.$n.1/24" dev br0 &&
	ip link set br0 up &&
	ip netns add pod_a &&
	ip link add va type veth peer name eth0 netns pod_a &&
	ip link set va master br0 up &&
	ip -n pod_a link set lo up &&
	ip -n pod_a addr add "$(pod4 "$n")/24" dev eth0 &&
	ip -n pod_a link set eth0 up &&
	ip -n pod_a route add default via "10.78.$n.1" &&
	ip route add "10.78.$peer.0/24" via "${NODE_IP4[peer]}" &&
	"$TSORCTL" netns enable pod_a &&
	"$TSORCTL" peer add "10.78.1.0/24" via "${NODE_IP4[1]}" &&
	"$TSORCTL" peer add "10.78.2.0/24" via "${NODE_IP4[2]}" &&
	node_rxe_up &&
	"$TSORCTL" dev set ibdev rxe0 addr "${NODE_IP4[n]}"
}

check "node $n: pod, route, tsor and rxe0 set up" setup
check "node $peer is set up too" node_barrier setup

# run_stream PORT DESC SERVER_NODE REASON [tsor_stream options]: the pod of
# SERVER_NODE serves, the other node's pod connects; both ways at once.
# REASON empty: the connection must pair over RDMA; else it must fall back
# for that reason.
run_stream() {
	local port=$1 desc=$2 sn=$3 reason=$4 srv=$TSOR_OUT/s20.srv cli=$TSOR_OUT/s20.cli
	shift 4
	if [ "$n" = "$sn" ]; then
		ip netns exec pod_a "$STREAM" server -p "$port" "$@" >"$srv" 2>&1 &
		local sp=$! rc=0
		check "$desc: server listens" wait_listen pod_a "$port" || true
		node_barrier "listen-$port"
		wait $sp || rc=$?
		check_eq "$desc: server ok" 0 "$rc" || diag "$(tail -n 3 "$srv")"
		node_put "sha-$port" "$(digests sha_rx "$srv" | tr '\n' ' ')"
		return 0
	fi
	local p0 r0 t0 f0 rc=0 sent
	p0=$(counter pod_a conn_paired) r0=$(counter pod_a rdma_tx_bytes)
	t0=$(counter pod_a tcp_tx_bytes)
	f0=$(counter pod_a "fallback_${reason:-peer_no_tsor}")
	node_barrier "listen-$port"
	ip netns exec pod_a "$STREAM" client -a "$(pod4 "$sn")" -p "$port" "$@" \
		>"$cli" 2>&1 || rc=$?
	check_eq "$desc: client ok" 0 "$rc" || diag "$(tail -n 3 "$cli")"
	check_eq "$desc: SHA-256 of what the client sent = what the server got" \
		"$(digests sha_tx "$cli" | tr '\n' ' ')" "$(node_get "sha-$port")" || true
	sent=$(sum_field sent "$cli")
	if [ -z "$reason" ]; then
		check_eq "$desc: paired" $((p0 + 1)) "$(counter pod_a conn_paired)" || true
		check_eq "$desc: rdma_tx_bytes counts what the client sent" \
			$((r0 + sent)) "$(counter pod_a rdma_tx_bytes)" || true
		check_eq "$desc: nothing sent on TCP" "$t0" "$(counter pod_a tcp_tx_bytes)" || true
		check_eq "$desc: tcp_info: no payload acknowledged on TCP" "" \
			"$(tcpi_over "$cli" 2 1000000000)" || true
	else
		check_eq "$desc: fallback_$reason counted" $((f0 + 1)) \
			"$(counter pod_a "fallback_$reason")" || true
		check_eq "$desc: tcp_tx_bytes counts what the client sent" \
			$((t0 + sent)) "$(counter pod_a tcp_tx_bytes)" || true
	fi
}

run_stream 7201 "IPv4 pod to pod across nodes, 4 MiB each way" 1 "" -n 4M
run_stream 7202 "IPv4 pod to pod across nodes, random size up to 16 MiB" 2 "" \
	-n 16M --random-sizes -s 7202 -m epoll

# Node 2 unloads tsor; its pod stays.  Node 1's pairing requests then find
# no tsor there.
if [ "$n" = 2 ]; then
	check "node 2: tsor unloads" tsor_unload_wait || true
fi
node_barrier unloaded
run_stream 7203 "IPv4 to a node without tsor, 1 MiB each way" 2 peer_no_tsor -n 1M
