#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Churn, bounded in count and time: namespaces created, enabled, used and
# deleted; thousands of paired connections opened and closed; the module
# unloaded and loaded between bursts of traffic.  After each kind, tsor's
# object gauges are back to zero and the TSOR slabs hold no more objects
# than before.  CHURN_NETNS and CHURN_CONNS scale it (`run.sh --soak` sets
# the 200 and 10,000).
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

NETNS_CYCLES=${CHURN_NETNS:-20}
CONNS=${CHURN_CONNS:-1000}
BATCH=500

# slab_objs: active objects of tsor's socket slabs (TSOR, TSORv6).
slab_objs() { awk '/^TSOR/ { n += $2 } END { print n + 0 }' /proc/slabinfo; }
gauges() {
	echo "$(counter global sock_active) $(counter global channel_active) $(counter global ring_bytes)"
}
settled() { [ "$(gauges)" = "0 0 0" ]; }
# Sockets go when TCP destroys them, namespaces in a workqueue: allow 60 s.
settle() { local _; for _ in $(seq 60); do settled && return 0; sleep 1; done; return 1; }

tsor_load
# SLUB counts the free objects of per-CPU slabs as active: allow two slabs
# per CPU and cache of slack, never a growth with the cycle count.
slack=$(awk '/^TSOR/ { n += 2 * $5 } END { print n * '"$(nproc)"' }' /proc/slabinfo)
no_growth() {
	local now
	now=$(slab_objs)
	[ "$now" -le $((slab0 + slack)) ] || { diag "TSOR slabs: $slab0 -> $now objects"; return 1; }
}
"$TSORCTL" peer add 10.20.0.0/24 via 127.0.0.1
slab0=$(slab_objs)
paired0=$(counter global conn_paired)
start=$SECONDS
for i in $(seq "$NETNS_CYCLES"); do
	ip netns add ch_a && ip netns add ch_b &&
	ip -n ch_a link add eth0 type veth peer name eth0 netns ch_b &&
	ip -n ch_a addr add 10.20.0.1/24 dev eth0 &&
	ip -n ch_b addr add 10.20.0.2/24 dev eth0 &&
	ip -n ch_a link set eth0 up && ip -n ch_b link set eth0 up &&
	ip -n ch_a link set lo up && ip -n ch_b link set lo up &&
	"$TSORCTL" netns enable ch_a && "$TSORCTL" netns enable ch_b &&
	out=$(stream ch_b ch_a 7000 10.20.0.2 -n 64K --timeout 120) || {
		check "netns cycle $i" false
		diag "$out"
		break
	}
	ip netns del ch_a
	ip netns del ch_b
	[ $((i % 10)) -eq 0 ] && diag "netns cycle $i of $NETNS_CYCLES, $((SECONDS - start)) s"
done
# Both ends of a connection count it, in their namespaces and the total.
check_eq "$NETNS_CYCLES namespace cycles paired a connection each" \
	$((paired0 + 2 * NETNS_CYCLES)) "$(counter global conn_paired)"
check "then no socket, channel or ring is left" settle || diag "gauges: $(gauges)"
check "and the TSOR slabs did not grow" no_growth

mkpods
"$TSORCTL" peer add 10.10.0.0/24 via 127.0.0.1
"$TSORCTL" netns enable pod_a
"$TSORCTL" netns enable pod_b
paired0=$(counter pod_a conn_paired)
start=$SECONDS
done_conns=0 port=7100
while [ "$done_conns" -lt "$CONNS" ]; do
	n=$((CONNS - done_conns < BATCH ? CONNS - done_conns : BATCH))
	port=$((port + 1))
	out=$(stream pod_b pod_a $port "$B4" -m epoll -c "$n" -n 1K --timeout 120) || {
		check "connections $done_conns to $((done_conns + n))" false
		diag "$out"
		break
	}
	done_conns=$((done_conns + n))
	diag "$done_conns of $CONNS connections, $((SECONDS - start)) s"
done
check_eq "$CONNS connections opened, paired and closed" \
	$((paired0 + CONNS)) "$(counter pod_a conn_paired)"
"$TSORCTL" peer del 10.10.0.0/24
delpods
check "then no socket, channel or ring is left" settle || diag "gauges: $(gauges)"
check "and the TSOR slabs did not grow" no_growth

# Module cycles: traffic, stop, unload, load.
cycles=0
for i in 1 2 3 4 5; do
	mkpods
	"$TSORCTL" peer add 10.10.0.0/24 via 127.0.0.1
	"$TSORCTL" netns enable pod_a
	"$TSORCTL" netns enable pod_b
	out=$(stream pod_b pod_a 7050 "$B4" -c 8 -n 256K --timeout 120) || {
		check "module cycle $i: traffic" false
		diag "$out"
	}
	delpods
	tsor_unload_wait || { check "module cycle $i: rmmod" false; break; }
	grep -q "^TSOR" /proc/slabinfo && { check "module cycle $i: slabs gone" false; break; }
	tsor_load || { check "module cycle $i: insmod" false; break; }
	cycles=$i
done
check_eq "five load/unload cycles with traffic between" 5 "$cycles"
check_eq "a fresh load starts with no channel" "0 0 0" "$(gauges)"
