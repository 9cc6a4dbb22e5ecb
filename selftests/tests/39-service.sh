#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A connection to a Service address, DNAT'd by conntrack to a pod, is paired
# with that pod: the client asks with the tuple the server sees.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a
"$TSORCTL" netns enable pod_b
# Only the pods' own CIDRs are listed, not the Service range.
"$TSORCTL" peer add 10.10.0.0/24 via 127.0.0.1
"$TSORCTL" peer add fd10::/64 via 127.0.0.1

# Service addresses, as kube-proxy would rewrite them.
ip -n pod_a route add 10.96.0.0/12 dev eth0
ip -n pod_a -6 route add fd96::/112 dev eth0
ip netns exec pod_a iptables -t nat -A OUTPUT -d 10.96.0.10 -p tcp \
	-j DNAT --to-destination "$B4"
ip netns exec pod_a ip6tables -t nat -A OUTPUT -d fd96::10 -p tcp \
	-j DNAT --to-destination "$B6"

port=7400
for svc in 10.96.0.10 fd96::10; do
	port=$((port + 1))
	p0=$(counter pod_a conn_paired) u0=$(counter pod_a fallback_peer_unknown)
	tx0=$(counter pod_a shm_tx_bytes) ttx0=$(counter pod_a tcp_tx_bytes)
	check "$svc: a byte-exact stream through the Service address" \
		stream pod_b pod_a $port "$svc" -m block -c 4 -n 1M
	check_eq "$svc: every connection was paired" $((p0 + 4)) \
		"$(counter pod_a conn_paired)"
	check_eq "$svc: none fell back for an unknown peer" "$u0" \
		"$(counter pod_a fallback_peer_unknown)"
	check_eq "$svc: the bytes crossed shared memory" $((tx0 + 4 * 1048576)) \
		"$(counter pod_a shm_tx_bytes)"
	check_eq "$svc: the client sent nothing over TCP" "$ttx0" \
		"$(counter pod_a tcp_tx_bytes)"
done

# Without the DNAT the Service address is not in the peer table.
ip netns exec pod_a iptables -t nat -F OUTPUT
ip -n pod_a addr add 10.96.0.10/32 dev lo
u0=$(counter pod_a fallback_peer_unknown)
port=$((port + 1))
check "a stream to an unlisted address stays byte-exact" \
	stream pod_a pod_a $port 10.96.0.10 -m block -n 64K
check_eq "and falls back for an unknown peer" $((u0 + 1)) \
	"$(counter pod_a fallback_peer_unknown)"
delpods
