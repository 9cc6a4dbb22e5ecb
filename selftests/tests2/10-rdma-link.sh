#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The two-node topology itself, without tsor.ko: the nodes reach each other
# on eth0 over IPv4 and IPv6, and Soft-RoCE carries RDMA between them, both
# bare verbs (ib_write_bw: RDMA WRITE, node 1 serves) and through the RDMA
# CM (rping over IPv4 and IPv6: SEND, RDMA READ and WRITE).
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/nodes.sh
source "$(dirname "$0")/../lib/nodes.sh"

peer=$NODE_PEER
log=$TSOR_OUT/rdma-link
# Small enough for a few seconds under emulation.
bw_size=65536 bw_iters=200 pings=10
bw_args=(-d rxe0 -s "$bw_size" -n "$bw_iters")

# A server waits for its client: after a failure, not past the test.
trap node_kill_jobs EXIT

# until DESC CMD...: wait up to 30 s for CMD to succeed.
until_ok() {
	local desc=$1 _
	shift
	for _ in {1..300}; do
		"$@" && return 0
		sleep 0.1
	done
	echo "no $desc after 30 s" >&2
	return 1
}

tcp_listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }
# rdma prints an address and port as ADDR:PORT, IPv6 ones too.
cm_listening() { [[ $(rdma resource show cm_id) == *" state LISTEN "*" src-addr $1 "* ]]; }

# bw_result LOG: "BYTES ITERATIONS" of ib_write_bw's result line, once its
# average bandwidth is more than zero.
bw_result() {
	awk '$1 ~ /^[0-9]+$/ && NF >= 4 && $4 > 0 { print $1, $2 }' "$1"
}

# remote_gid LOG: the other end's GID, as ib_write_bw printed it.
remote_gid() {
	grep -A1 'remote address:' "$1" | sed -n 's/^ *GID: *//p'
}

# rping_data LOG PREFIX: how many pings the log shows, numbered from 0 up.
rping_data() {
	local n=0
	while grep -q "^$2rdma-ping-$n: " "$1"; do
		n=$((n + 1))
	done
	echo $n
}

# The clients, their output in a log as the servers' is.
bw_client() {
	timeout 60 ib_write_bw "${bw_args[@]}" -p "$port" "${NODE_IP4[1]}" >"$log.bw" 2>&1
}
rping_client() {
	timeout 60 rping -c -v -a "$srv" -p "$port" -C $pings >"$log.rping$fam" 2>&1
}

check "ping node $peer over IPv4" ping -c 3 -i 0.2 -W 5 "${NODE_IP4[peer]}"
check "ping node $peer over IPv6" ping -c 3 -i 0.2 -W 5 "${NODE_IP6[peer]}"
check "rxe0 comes up on eth0" node_rxe_up
check_match "rxe0 is ACTIVE" "state ACTIVE .*netdev eth0" "$(rdma link show rxe0/1)"
check "node $peer has its rxe0 up too" node_barrier rxe-up

# ib_write_bw: node 1 serves on the port it tells node 2.
if [ "$TSOR_NODE" = 1 ]; then
	port=18515
	timeout 60 ib_write_bw "${bw_args[@]}" -p "$port" >"$log.bw" 2>&1 &
	bw=$!
	check "ib_write_bw server listens" until_ok "listener on $port" \
		tcp_listening $port
	node_put bw-port $port
	rc=0
	wait $bw || rc=$?
	check_eq "ib_write_bw server exits 0" 0 "$rc" || diag "$(tail -n 20 "$log.bw")"
else
	port=$(node_get bw-port)
	check "ib_write_bw client exits 0" bw_client ||
		diag "$(tail -n 20 "$log.bw")"
fi
check_eq "ib_write_bw moved $bw_iters x $bw_size bytes" "$bw_size $bw_iters" \
	"$(bw_result "$log.bw")"
check_match "to node $peer's GID" ":192:168:100:0$peer\$" "$(remote_gid "$log.bw")"
node_put bw-result "$(bw_result "$log.bw")"
check_eq "node $peer agrees on what ib_write_bw moved" "$(bw_result "$log.bw")" \
	"$(node_get bw-result)"

# rping: node 1 serves, node 2 pings, over each family in turn.
for fam in 4 6; do
	if [ $fam = 4 ]; then srv=${NODE_IP4[1]} port=7174; else srv=${NODE_IP6[1]} port=7176; fi
	if [ "$TSOR_NODE" = 1 ]; then
		timeout 60 rping -s -v -a "$srv" -p "$port" -C $pings >"$log.rping$fam" 2>&1 &
		rp=$!
		check "rping server listens on IPv$fam" until_ok "RDMA CM listener" \
			cm_listening "$srv:$port"
		node_barrier rping$fam-listening
		rc=0
		wait $rp || rc=$?
		check_eq "rping server over IPv$fam exits 0" 0 "$rc" ||
			diag "$(tail -n 20 "$log.rping$fam")"
		check_eq "rping server over IPv$fam got $pings pings" $pings \
			"$(rping_data "$log.rping$fam" 'server ping data: ')"
	else
		node_barrier rping$fam-listening
		check "rping client over IPv$fam exits 0" rping_client ||
			diag "$(tail -n 20 "$log.rping$fam")"
		check_eq "rping client over IPv$fam got $pings pings back" $pings \
			"$(rping_data "$log.rping$fam" 'ping data: ')"
	fi
done
