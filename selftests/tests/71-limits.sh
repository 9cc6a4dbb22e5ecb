#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Limits: a namespace's ring budget (netns_ring_mb) makes new connections
# stay TCP, counted, with every stream still byte-exact, and no memory
# stays behind.  (Rings are charged to the socket's memory cgroup; under
# a tight cgroup limit they can still push the application into the OOM
# killer, which is not handled yet, so that is not tested here.)
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

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

delpods
