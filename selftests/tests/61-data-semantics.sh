#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Socket semantics on paired sockets, over each transport: tsor_sem
# (selftests/progs/tsor_sem.c) runs its cases with the client in pod_a and
# the listener in pod_b, over IPv4 and again over IPv6; each case also
# checks from the inner TCP sockets' tcp_info that no payload crossed TCP.
# Then tsor's counters must agree: every connection paired in both pods,
# no fallback, no byte counted on TCP, and over shared memory some bytes
# copied straight into a blocked reader's buffer (shm_direct_bytes).
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

# sem -4|-6 ADDR PORT [tsor_sem options]: the counters are compared with
# the connections the server's pod accepted (at least one per case).
sem() {
	local af=$1 addr=$2 port=$3 log=$TSOR_OUT/sem.$$ rc=0
	shift 3
	snap
	ip netns exec pod_a "$SEM" "$af" -a "$addr" -p "$port" \
		--server-netns pod_b "$@" >"$log" 2>&1 || rc=$?
	now
	tap_from "IPv${af#-} " <"$log" || true
	check_eq "IPv${af#-}: tsor_sem exited 0" 0 "$rc" || true
	local acc
	acc=$(delta pod_b sock_accepted)
	check_ge "IPv${af#-}: the server accepted tsor sockets" 8 "$acc" || true
	check_eq "IPv${af#-}: every connection paired (client)" "$acc" \
		"$(delta pod_a conn_paired)" || diag "$(counters_diag)"
	check_eq "IPv${af#-}: every connection paired (server)" "$acc" \
		"$(delta pod_b conn_paired)" || true
	check_eq "IPv${af#-}: no fallback" "" \
		"$(fallback_deltas pod_a)$(fallback_deltas pod_b)" || true
	check_eq "IPv${af#-}: no byte counted on TCP" "0 0 0 0" \
		"$(delta pod_a tcp_tx_bytes) $(delta pod_a tcp_rx_bytes) $(delta pod_b tcp_tx_bytes) $(delta pod_b tcp_rx_bytes)" || true
	check_ge "IPv${af#-}: bytes counted on $DATA_PATH" 1000000 \
		"$(delta pod_a "${DATA_PATH}_tx_bytes")" || true
	# Case 'lent': 2.4 MB written 20 ms apart to a blocked reader in
	# pod_a, of which a lent buffer takes the first 128 KiB of each write.
	if [ "$DATA_PATH" = shm ] && [ "$af" = -4 ]; then
		check_ge "IPv4: writes went straight into blocked readers' buffers" \
			600000 "$(delta pod_a shm_direct_bytes)" || true
	fi
	rm -f "$log"
}

body() {
	sem -4 $DATA_B4 7611
	# IPv6: the cases where the family could matter, or that move data
	# through another entry point (splice, sendfile).
	sem -6 $DATA_B6 7612 --case block --case epoll-et --case halfclose \
		--case names --case nb-connect --case close-unread \
		--case splice --case sendfile
}

data_each_path body
