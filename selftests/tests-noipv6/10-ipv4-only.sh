#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In a kernel booted with ipv6.disable=1, tsor loads and takes over IPv4
# sockets alone, and AF_INET6 sockets fail exactly as they do without tsor.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

check "IPv6 is really disabled" grep -q "ipv6.disable=1" /proc/cmdline
before=$(ip netns exec "$(ip netns add probe && echo probe)" "$STREAM" sockinfo -6 2>&1)
check_match "AF_INET6 fails before tsor is loaded" "errno=97 " "$before"
ip netns del probe

check "tsor.ko loads" tsor_insmod
check_match "and says it takes over IPv4 only" "IPv6 is disabled: taking over IPv4 sockets only" \
	"$(dmesg)"
check "the TCPv4 clone is registered" grep -q "^TSOR " /proc/net/protocols
check_fail "no TCPv6 clone" grep -q "^TSORv6 " /proc/net/protocols
check_eq "features leave out ipv6" '["takeover","rdma","shm","peers","exclude"]' \
	"$("$TSORCTL" -j version | jq -c .module.features)"

# Two pods joined by a veth, IPv4 only.
ip netns add pod_a
ip netns add pod_b
ip -n pod_a link add eth0 type veth peer name eth0 netns pod_b
ip -n pod_a addr add $A4/24 dev eth0
ip -n pod_b addr add $B4/24 dev eth0
for ns in pod_a pod_b; do
	ip -n $ns link set lo up
	ip -n $ns link set eth0 up
	"$TSORCTL" netns enable $ns
done

check_match "AF_INET6 in an enabled netns fails as without tsor" "errno=97 " \
	"$(ip netns exec pod_a "$STREAM" sockinfo -6 2>&1)"
check "a byte-exact IPv4 stream between enabled pods" \
	stream pod_b pod_a 7600 "$B4" -n 2M -m epoll
check_eq "the client was taken over" 1 "$(counter pod_a sock_created)"
check_eq "the server's socket was taken over" 1 "$(counter pod_b sock_accepted)"
check_ge "its bytes were counted" 2097152 "$(counter pod_a tcp_tx_bytes)"
ip netns del pod_a
ip netns del pod_b
tsor_unload_wait
check_fail "tsor unloads" tsor_loaded
