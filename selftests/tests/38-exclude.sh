#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Exclusions: a namespace's ports and CIDRs whose connections stay plain
# TCP, on the client's side (decided before anything is asked) and on the
# server's (a refused pairing); other connections between the same pods
# are still paired, and every stream stays byte-exact.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a
"$TSORCTL" netns enable pod_b
# Both pods live on this node; 127.0.0.1 is one of its addresses.
"$TSORCTL" peer add 10.10.0.0/24 via 127.0.0.1
"$TSORCTL" peer add fd10::/64 via 127.0.0.1

total() { grep -o " $1=[0-9]*" "$2" | awk -F= '{ s += $2 } END { print s + 0 }'; }

# stats NS: the namespace's counters, as JSON, in one call.
stats() { "$TSORCTL" -j stats show netns "$1"; }
# grew BEFORE AFTER NAME...: how much each counter grew, on one line.
grew() {
	local before=$1 after=$2
	shift 2
	jq -nr --argjson a "$before" --argjson b "$after" \
		'[$ARGS.positional[] | $b.stats[.] - $a.stats[.]] | join(" ")' \
		--args "$@"
}

# run DESC WANT PORT ADDR: one connection, 64 KiB each way, byte-exact;
# WANT is "paired", "client" (excluded by pod_a) or "server" (by pod_b).
# Pod_a's counters: conn_paired fallback_excluded tcp_tx_bytes
# tcp_rx_bytes shm_tx_bytes shm_rx_bytes; pod_b's: conn_paired
# pair_served pair_deny_excluded tcp_tx_bytes shm_tx_bytes.
run() {
	local desc=$1 want=$2 port=$3 addr=$4 cli=$TSOR_OUT/stream.$$.cli
	local a0 b0 a b sent recv n=65536
	a0=$(stats pod_a) b0=$(stats pod_b)
	TSOR_KEEP_LOGS=1 check "$desc: byte-exact" \
		stream pod_b pod_a "$port" "$addr" -m block -n 64K || return
	sent=$(total sent "$cli") recv=$(total recv "$cli")
	a=$(grew "$a0" "$(stats pod_a)" conn_paired fallback_excluded \
		tcp_tx_bytes tcp_rx_bytes shm_tx_bytes shm_rx_bytes)
	b=$(grew "$b0" "$(stats pod_b)" conn_paired pair_served \
		pair_deny_excluded tcp_tx_bytes shm_tx_bytes)
	check_eq "$desc: the stream moved 64 KiB each way" "$n $n" "$sent $recv"
	case $want in
	paired)
		check_eq "$desc: paired, the client's bytes in shared memory" \
			"1 0 0 $sent" "$(cut -d' ' -f1,2,3,5 <<<"$a")"
		check_eq "$desc: the server served it" "1 1 0" \
			"$(cut -d' ' -f1-3 <<<"$b")"
		;;
	client)
		check_eq "$desc: stayed TCP for the exclusion, every byte on TCP" \
			"0 1 $sent $recv 0 0" "$a"
		# Decided in pod_a, before any request: pod_b saw none.
		check_eq "$desc: the server was never asked, sent on TCP" \
			"0 0 0 $recv 0" "$b"
		;;
	server)
		check_eq "$desc: stayed TCP for the exclusion, every byte on TCP" \
			"0 1 $sent $recv 0 0" "$a"
		check_eq "$desc: the server refused as an exclusion, sent on TCP" \
			"0 0 1 $recv 0" "$b"
		;;
	esac
	rm -f "$TSOR_OUT"/stream.$$.*
}

# (Few runs: the emulated guest is slow, and this file has 300 s.)
"$TSORCTL" netns change pod_a exclude 7602 7612
run "client excludes the port" client 7602 "$B4"
run "client, another port between the same pods" paired 7603 "$B4"

"$TSORCTL" netns change pod_a exclude 10.10.0.0/24
run "client excludes the server's subnet" client 7604 "$B4"
run "client, the server's address of the other family" paired 7605 "$B6"

"$TSORCTL" netns change pod_a exclude none
"$TSORCTL" netns change pod_b exclude 7607 fd10::1
run "server excludes its port" server 7607 "$B4"
run "server excludes the client's address (IPv6)" server 7609 "$B6"

# A live excluded connection says why in conn show, on both sides.
"$TSORCTL" netns change pod_b exclude none
"$TSORCTL" netns change pod_a exclude 7611
ip netns exec pod_b python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); c.recv(1); c.sendall(b"x"); time.sleep(20)' 7611 &
server=$!
wait_until listening pod_b 7611
ip netns exec pod_a python3 -c '
import socket, sys, time
c = socket.create_connection(("10.10.0.2", int(sys.argv[1])))
c.sendall(b"y"); c.recv(1)
print("ready", flush=True); time.sleep(20)' 7611 >"$TSOR_OUT/conn.$$" &
client=$!
wait_until grep -q ready "$TSOR_OUT/conn.$$"
conn=$("$TSORCTL" -j conn show netns pod_a | jq -c '.[] | select(.peer_port == 7611)')
check_eq "conn show: the excluded connection is on TCP, fallback excluded" \
	"tcp excluded" "$(jq -r '"\(.path) \(.fallback)"' <<<"$conn")"
kill "$client" "$server" 2>/dev/null
wait "$client" "$server" 2>/dev/null
rm -f "$TSOR_OUT/conn.$$"

# The lists go with their namespaces: deleting a namespace that holds one,
# then unloading, must be clean (the run checks dmesg afterwards).
"$TSORCTL" netns change pod_b exclude 80 10.0.0.0/8
"$TSORCTL" peer del 10.10.0.0/24
"$TSORCTL" peer del fd10::/64
none_active() { [ "$(counter pod_a sock_active)$(counter pod_b sock_active)" = 00 ]; }
wait_until none_active
delpods
check "the module unloads with no namespace left to hold a list" tsor_unload_wait
tsor_load
