#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The node link goes down and back up under live RDMA streams: node 1 takes
# its eth0 (the network under rxe0) down, then up.  Node 2's pod serves,
# node 1's connects, both ways at once over tsor's RDMA link.
#
#   short: eth0 down for 2 s under two 8 MiB streams
#   long:  eth0 down for 20 s under two 64 MiB streams (past the RDMA
#          link's retries)
#
# Every stream, on each node, must end within BOUND seconds of the link
# going down (RESUME_BOUND once it resumed over TCP, where it goes on at
# TCP's pace), and either complete byte-exact (SHA-256 agreed by both
# ends) or fail with an error of its own: never a hang, never a clean end
# of stream short of the data.  Once eth0 is up again, connections pair over
# RDMA again (within a few tries), on a new link, counted (link_up, and
# link_down for the one that was lost).
#
# What it found: the short flap once ended a stream cleanly short of its
# data (the inner TCP's FIN taken as end of stream; kmod/channel.c now
# ends a paired stream only at the channel's FIN), and after the long one
# RDMA between the two rxe devices did not come back in earlier runs
# (README, Known problems).  Since connections resume over TCP, the long
# flap's streams resume and complete, and in the last run RDMA came back.
#
#   node  pod CIDR       pod eth0
#   1     10.21.1.0/24   10.21.1.2
#   2     10.21.2.0/24   10.21.2.2
set -uo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/nodes.sh
source "$(dirname "$0")/../lib/nodes.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"

me=$TSOR_NODE peer=$NODE_PEER
pod_ip() { echo "10.21.$1.2"; }
log=$TSOR_OUT/link-flap
BOUND=60 RESUME_BOUND=240 PROG_TIMEOUT=200

cleanup() {
	node_kill_jobs
	ip link set eth0 up 2>/dev/null || true
}
trap cleanup EXIT

# The nodes' IPv6 addresses stay across the flap, for the tests after it.
sysctl -qw net.ipv6.conf.eth0.keep_addr_on_down=1
node_tsor_up
# Dialling a link between two emulated guests on a loaded host can take
# more than the defaults.
echo 30000 >/sys/module/tsor/parameters/pair_timeout_ms
echo 30000 >/sys/module/tsor/parameters/dial_timeout_ms
node_pod_up 10.21
check "node $peer is set up too" node_barrier ready || exit 1

# The link is dialled once, by a first connection, before the streams:
# each phase starts from a link that is up.
warm() {
	local port=$1 rc=0
	if [ "$me" = 2 ]; then
		ip netns exec pod "$STREAM" server -p "$port" -n 64K --timeout 120 \
			>"$log.warm$port" 2>&1 &
		local spid=$!
		wait_listen pod "$port"
		node_barrier "warm-$port"
		wait $spid || rc=$?
	else
		node_barrier "warm-$port"
		ip netns exec pod "$STREAM" client -a "$(pod_ip 2)" -p "$port" -n 64K \
			--timeout 120 >"$log.warm$port" 2>&1 || rc=$?
	fi
	check_eq "a first connection on port $port (the link up)" 0 "$rc" ||
		diag "$(tail -n 3 "$log.warm$port")"
	diag "links: $("$TSORCTL" link show | tr '\n' ' ')"
}

# flap NAME PORT SIZE SECONDS: two streams of SIZE each way; node 1 takes
# eth0 down for SECONDS once they move.
flap() {
	local name=$1 port=$2 size=$3 secs=$4 pid t0 rc out first theirs mine intime
	local p0 tx0 r0 role=client
	p0=$(counter pod conn_paired) tx0=$(counter pod rdma_tx_bytes)
	r0=$(counter pod conn_resumed)
	if [ "$me" = 2 ]; then
		role=server
		ip netns exec pod "$STREAM" server -p "$port" -c 2 -n "$size" \
			--timeout $PROG_TIMEOUT >"$log.$name" 2>&1 &
		pid=$!
		wait_listen pod "$port"
		node_barrier "listen-$name"
		if ! node_get "moving-$name" 300 >/dev/null; then
			fail "$name: node 1 says the streams move"
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 1
		fi
	else
		node_barrier "listen-$name"
		ip netns exec pod "$STREAM" client -a "$(pod_ip 2)" -p "$port" -c 2 \
			-n "$size" --timeout $PROG_TIMEOUT >"$log.$name" 2>&1 &
		pid=$!
		moving() {
			[ "$(counter pod conn_paired)" = $((p0 + 2)) ] &&
			[ $(($(counter pod rdma_tx_bytes) - tx0)) -ge 262144 ]
		}
		if ! check "$name: both streams paired and moving over RDMA" until_s 120 moving; then
			diag "$("$TSORCTL" stats show netns pod | grep -v ' 0$')"
			diag "$("$TSORCTL" link show)"
			kill -9 "$pid" 2>/dev/null
			wait "$pid" 2>/dev/null
			return 1
		fi
		node_put "moving-$name" yes
	fi
	t0=$SECONDS
	if [ "$me" = 1 ]; then
		check "$name: eth0 down" ip link set eth0 down
		sleep "$secs"
		check "$name: eth0 up after $secs s" ip link set eth0 up
		ip route replace "10.21.$peer.0/24" via "${NODE_IP4[peer]}"
	fi
	# A stream that resumed over TCP goes on there, at TCP's pace: it
	# has RESUME_BOUND to finish.
	while kill -0 "$pid" 2>/dev/null &&
	      { [ $((SECONDS - t0)) -le $BOUND ] ||
		{ [ "$(counter pod conn_resumed)" -gt "$r0" ] &&
		  [ $((SECONDS - t0)) -le $RESUME_BOUND ]; }; }; do
		sleep 0.5
	done
	# Neither node kills its end before both know how theirs ended: a
	# kill would end the other's stream for it.
	intime=yes
	kill -0 "$pid" 2>/dev/null && intime=no
	node_put "ended-$name" "$intime"
	node_get "ended-$name" $((BOUND + 120)) >/dev/null
	if [ $intime = no ]; then
		fail "$name: the $role ended within $BOUND s (resumed: $RESUME_BOUND s)" \
			"$(tail -n 5 "$log.$name")"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		node_put "result-$name" hung
		return 1
	fi
	ok "$name: the $role ended within $BOUND s, or $RESUME_BOUND s resumed ($((SECONDS - t0)) s)"
	diag "$name: conn_resumed +$(( $(counter pod conn_resumed) - r0 ))," \
		"resume_tx_bytes $(counter pod resume_tx_bytes)"
	rc=0
	wait "$pid" || rc=$?
	mine="$rc $(digests sha_tx "$log.$name" | tr '\n' ' ')/$(digests sha_rx "$log.$name" | tr '\n' ' ')"
	node_put "result-$name" "$mine"
	theirs=$(node_get "result-$name" $((BOUND + 60)))
	out=$(grep -h FAIL "$log.$name" | head -n 3)
	first=$(grep -h 'first:' "$log.$name")
	if [ "$rc" = 0 ]; then
		# What it sent is what the other end received, and back.
		local tx=${mine#* } rx
		tx=${tx%/*} rx=${mine#*/}
		if [ "${theirs%% *}" = 0 ] && [ "${theirs#*/}" = "$tx" ] &&
		   [ "$(cut -d' ' -f2- <<<"${theirs%/*}")" = "$rx" ]; then
			ok "$name: the $role completed byte-exact"
		else
			fail "$name: the $role completed byte-exact" "mine: $mine; theirs: $theirs"
		fi
	elif [[ $out == *watchdog* || $out == *expired* || $out == *"timed out"* ]]; then
		fail "$name: the $role failed with an error of tsor's" "only its own timeout: $out"
	elif [[ $first == *"premature EOF"* ]]; then
		fail "$name: the $role failed with an error of tsor's" "a clean EOF short of the data: $first"
	else
		ok "$name: the $role failed with an error of tsor's"
		diag "$role: $(head -n 1 <<<"$out")"
	fi
}

d0=$(counter global link_down) u0=$(counter global link_up)
warm 7300
flap short 7301 8M 2
# A link lost in the short flap keeps new connections on TCP for
# down_cache_ms (5 s).
sleep 6
warm 7310
flap long 7302 64M 20
check_ge "link_down counted the lost link" $((d0 + 1)) "$(counter global link_down)" || true

# Then connections pair again.  After a long outage, rdma_cm between the
# two rxe devices may take a while to connect again (dials time out): up
# to AGAIN_TRIES connections, each byte-exact, one after the other, until
# one pairs.  (In the runs so far it never came back: four tries over
# four minutes all timed out dialling, and making node 1's rxe0 anew
# after that hung in 'rdma link delete'; the two-node tests after this
# one then find no RDMA between the nodes.)  A failed dial stays in the negative cache for
# down_cache_ms (5 s), so each try waits that out first.
AGAIN_TRIES=2
u1=$(counter global link_up)
paired=no try=0
while [ $paired = no ] && [ $try -lt $AGAIN_TRIES ]; do
	try=$((try + 1))
	sleep 6
	port=$((7320 + try)) p0=$(counter pod conn_paired)
	node_barrier "again-$try"
	if [ "$me" = 2 ]; then
		ip netns exec pod "$STREAM" server -p $port -n 1M --timeout 120 \
			>"$log.again" 2>&1 &
		spid=$!
		wait_listen pod $port
		node_barrier "listen-again-$try"
		rc=0
		wait $spid || rc=$?
	else
		node_barrier "listen-again-$try"
		rc=0
		ip netns exec pod "$STREAM" client -a "$(pod_ip 2)" -p $port -n 1M \
			--timeout 120 >"$log.again" 2>&1 || rc=$?
	fi
	check_eq "again, try $try: the stream is byte-exact here" 0 "$rc" ||
		diag "$(tail -n 3 "$log.again")"
	node_put "digests-again-$try" "$(digests sha_tx "$log.again") $(digests sha_rx "$log.again")"
	check_eq "again, try $try: what each end sent is what the other received" \
		"$(digests sha_rx "$log.again") $(digests sha_tx "$log.again")" \
		"$(node_get "digests-again-$try")"
	[ "$(counter pod conn_paired)" = $((p0 + 1)) ] && paired=yes
	# Both nodes must agree to go on or stop.
	node_put "paired-$try" $paired
	[ "$(node_get "paired-$try")" = $paired ] ||
		fail "again, try $try: both nodes agree whether it paired"
	diag "again, try $try: paired $paired; $("$TSORCTL" stats show netns pod | grep fallback | grep -v ' 0$' | tr '\n' ' ')"
done
check_eq "a connection pairs over RDMA again (within $AGAIN_TRIES tries; took $try)" yes $paired
check_ge "on a link established anew (link_up)" $((u1 + 1)) "$(counter global link_up)"
diag "link_up $u0 -> $(counter global link_up), link_down $d0 -> $(counter global link_down)"
check_eq "a link to node $peer is up" up \
	"$("$TSORCTL" -j link show | jq -r '.[] | select(.remote == "'"${NODE_IP4[peer]}"'" and .state == "up") | .state' | head -n 1)"

node_barrier finished
"$TSORCTL" peer del 10.21.1.0/24
"$TSORCTL" peer del 10.21.2.0/24
ip netns del pod
ip route del "10.21.$peer.0/24" 2>/dev/null || true
ip link del vpod 2>/dev/null || true
check "rmmod tsor" tsor_unload_wait
