#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Limits: a namespace's ring budget (netns_ring_mb) and a node link's
# channel cap (link_max_channels) make new connections stay TCP, counted,
# with every stream still byte-exact, and no memory stays behind.  A
# memory cgroup's limit is 73-memcg's.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"
. "$REPO/selftests/lib/rxe.sh"

PARAM=/sys/module/tsor/parameters/netns_ring_mb
tsor_load
mkpods
"$TSORCTL" peer add 10.10.0.0/24 via 127.0.0.1
"$TSORCTL" netns enable pod_a
"$TSORCTL" netns enable pod_b
settled() { [ "$(counter pod_a ring_bytes)$(counter pod_b ring_bytes)" = 00 ]; }

# 1 MiB per namespace holds two 512 KiB rings: of 8 connections open at
# once, most stay TCP.
old=$(cat $PARAM)
echo 1 >$PARAM
p0=$(counter pod_a conn_paired) f0=$(counter pod_a fallback_nomem)
check "ring budget: 8 byte-exact connections" \
	stream pod_b pod_a 7601 "$B4" -m epoll -c 8 -n 256K
paired=$(($(counter pod_a conn_paired) - p0))
nomem=$(($(counter pod_a fallback_nomem) - f0))
diag "paired $paired, fell back for memory $nomem"
check "ring budget: some connections were paired" test "$paired" -ge 1
check "ring budget: the rest stayed TCP for memory" test "$nomem" -ge 1
check_eq "ring budget: every connection is one or the other" 8 $((paired + nomem))
echo "$old" >$PARAM
check "ring budget: the rings are given back" wait_until settled

# A node link's channel cap (link_max_channels): past it, connections stay
# TCP (fallback_link_full), byte-exact.  Over the rdma loopback, whose
# dialled end carries the client channels: two held connections fill a cap
# of 2, so that a third held one and the next four cannot pair.
MAXP=/sys/module/tsor/parameters/link_max_channels
links_empty() { [ "$("$TSORCTL" -j link show | jq '[.[].channels] | add // 0')" = 0 ]; }
if check "link cap: Soft-RoCE rxe0 is up" rxe_up &&
   check "link cap: dev set ibdev rxe0 local-path rdma" \
	"$TSORCTL" dev set ibdev rxe0 addr $NODE4 local-path rdma; then
	"$TSORCTL" peer del 10.10.0.0/24
	"$TSORCTL" peer add 10.10.0.0/24 via $NODE4
	oldmax=$(cat $MAXP)
	echo 2 >$MAXP
	# Dialling the loopback link may take more than 3 s under emulation.
	oldpt=$(cat /sys/module/tsor/parameters/pair_timeout_ms)
	echo 15000 >/sys/module/tsor/parameters/pair_timeout_ms
	p0=$(counter pod_a conn_paired) f0=$(counter pod_a fallback_link_full)
	holds=()
	two_paired() { [ $(($(counter pod_a conn_paired) - p0)) = 2 ]; }
	for port in 7611 7612 7614; do
		ip netns exec pod_b "$STREAM" hold --listen -p $port --until-signal \
			--timeout 300 >/dev/null 2>&1 &
		holds+=($!)
		wait_listen pod_b $port
		ip netns exec pod_a "$STREAM" hold -a "$B4" -p $port --until-signal \
			--timeout 300 >/dev/null 2>&1 &
		holds+=($!)
		[ $port != 7612 ] || check "link cap: two held connections paired" \
			wait_until two_paired
	done
	held_tcp() { [ $(($(counter pod_a fallback_link_full) - f0)) = 1 ]; }
	check "link cap: the third stayed TCP as link_full" wait_until held_tcp
	conns=$("$TSORCTL" conn show netns pod_a)
	check_match "link cap: conn show names the reason" "link-full" "$conns" ||
		diag "$conns"
	check "link cap: 4 more byte-exact connections" \
		stream pod_b pod_a 7613 "$B4" -m epoll -c 4 -n 256K
	check_eq "link cap: none of them paired" 2 $(($(counter pod_a conn_paired) - p0))
	check_eq "link cap: they stayed TCP as link_full (5 with the held one)" 5 \
		$(($(counter pod_a fallback_link_full) - f0))
	kill "${holds[@]}" 2>/dev/null
	wait "${holds[@]}" 2>/dev/null
	echo "$oldmax" >$MAXP
	echo "$oldpt" >/sys/module/tsor/parameters/pair_timeout_ms
	check "link cap: no channel left on the links" wait_until links_empty
	"$TSORCTL" dev set local-path shm
	rxe_down
fi

delpods
