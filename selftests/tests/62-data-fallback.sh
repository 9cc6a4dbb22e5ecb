#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Connections that cannot be paired stay plain TCP, byte-exact, and the
# client's pod counts why, over each transport's configuration:
#   - the server's netns is not enabled        fallback_peer_disabled
#   - the server is not in the peer table      fallback_peer_unknown
#   - the peer node runs no tsor (rdma only, it needs a device: a route
#     via DATA_Y4, an address of br0 where no tsor listens)
#                                              fallback_peer_no_tsor
#   - no RDMA device for a pairing that needs one (shm: a route to another
#     node with no device set; rdma: rxe0 deleted)  fallback_no_device
# For each: both ends ok with equal SHA-256, the reason counted once per
# connection, nothing paired, every byte on TCP in tsor's counters and in
# the inner TCP sockets' tcp_info, and connect() not held up past the
# pairing timeout.
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

# fb_stream DESC REASON PORT ADDR [tsor_stream options]: pod_a to pod_b.
fb_stream() {
	local desc=$1 reason=$2 port=$3 addr=$4 cli srv conns t0=$SECONDS
	shift 4
	snap
	if ! TSOR_KEEP_LOGS=1 check "$desc: byte-exact both ways" \
		stream pod_b pod_a "$port" "$addr" "$@"; then
		rm -f "$TSOR_OUT"/stream.$$.*
		return 1
	fi
	cli=$TSOR_OUT/stream.$$.cli srv=$TSOR_OUT/stream.$$.srv
	now
	local sent recv a_paired b_paired tx rx ptx prx
	read -r conns sent recv _ <<<"$(log_sums "$cli")"
	dv a_paired pod_a conn_paired; dv b_paired pod_b conn_paired
	dv tx pod_a tcp_tx_bytes; dv rx pod_a tcp_rx_bytes
	dv ptx pod_a "${DATA_PATH}_tx_bytes"; dv prx pod_a "${DATA_PATH}_rx_bytes"
	check_eq "$desc: fallback_$reason counted for each of $conns connections" \
		"fallback_$reason=$conns" "$(fallback_deltas pod_a)" ||
		diag "$(counters_diag)"
	check_eq "$desc: nothing paired" "0 0" "$a_paired $b_paired" || true
	check_eq "$desc: tcp_tx_bytes and tcp_rx_bytes of the client count every byte" \
		"$sent $recv" "$tx $rx" || true
	check_eq "$desc: no byte counted on $DATA_PATH" "0 0" "$ptx $prx" || true
	check_ge "$desc: the client's tcp_info acknowledged every byte it sent" \
		"$sent" "$(summary_field tcpi_bytes_acked "$cli")" || true
	check_ge "$desc: the server's tcp_info received every byte the client sent" \
		"$sent" "$(summary_field tcpi_bytes_received "$srv")" || true
	diag "$desc: $((SECONDS - t0)) s, $conns conns; client: $(grep '^summary' "$cli" | cut -d' ' -f3-)"
	rm -f "$TSOR_OUT"/stream.$$.*
}

body() {
	local b
	# The server's namespace is not enabled: its sockets are plain TCP.
	"$TSORCTL" netns disable pod_b
	fb_stream "IPv4, server netns not enabled" peer_disabled 7621 $DATA_B4 \
		-m epoll -c 2 -n 512K
	check_eq "IPv4, server netns not enabled: the node counted pair_deny_disabled" \
		2 "$(delta global pair_deny_disabled)" || true
	fb_stream "IPv6, server netns not enabled" peer_disabled 7622 $DATA_B6 \
		-m block -n 256K
	"$TSORCTL" netns enable pod_b

	# The peer table does not know the server.
	"$TSORCTL" peer sync - </dev/null
	fb_stream "IPv4, peer not in the table" peer_unknown 7623 $DATA_B4 \
		-m epoll -c 2 -n 512K
	fb_stream "IPv6, peer not in the table" peer_unknown 7624 $DATA_B6 \
		-m block -n 256K
	"$TSORCTL" peer add 10.77.0.0/24 via $DATA_NODE4
	"$TSORCTL" peer add fd77::/64 via $DATA_NODE4

	if [ "$DATA_PATH" = rdma ]; then
		# The server's pod is said to live at a second address of this
		# node, on br0, where no tsor listens (tsor listens on the
		# address it was given, DATA_NODE4).
		ip addr add $DATA_Y4/24 dev br0
		"$TSORCTL" peer add $DATA_B4/32 via $DATA_Y4
		"$TSORCTL" peer add $DATA_B6/128 via $DATA_Y4
		fb_stream "IPv4, peer node runs no tsor" peer_no_tsor 7625 $DATA_B4 \
			-m epoll -c 2 -n 512K
		fb_stream "IPv6, peer node runs no tsor" peer_no_tsor 7626 $DATA_B6 \
			-m block -n 256K
		ip addr del $DATA_Y4/24 dev br0
	else
		skip "peer node runs no tsor" "needs an RDMA device; runs in [rdma]"
		# No device is set: a pairing towards another node (a host on
		# br0 of its own) has none.
		data_node_x
		"$TSORCTL" peer add $DATA_B4/32 via $DATA_X4
		"$TSORCTL" peer add $DATA_B6/128 via $DATA_X4
		fb_stream "IPv4, no RDMA device (route to another node)" no_device \
			7627 $DATA_B4 -m epoll -c 2 -n 512K
		fb_stream "IPv6, no RDMA device (route to another node)" no_device \
			7628 $DATA_B6 -m block -n 256K
	fi
	"$TSORCTL" peer del $DATA_B4/32
	"$TSORCTL" peer del $DATA_B6/128

	if [ "$DATA_PATH" = rdma ]; then
		# Same-node pairs ride rxe0 (local-path rdma): delete it.
		check "rdma link delete rxe0" rdma link delete rxe0
		fb_stream "IPv4, no RDMA device (rxe0 deleted)" no_device 7629 \
			$DATA_B4 -m epoll -c 2 -n 512K
		check "rxe0 comes back and is the node's device again" data_dev_rdma
		b=$(counter pod_a conn_paired)
		check "pairing works again with rxe0 back" \
			stream pod_b pod_a 7630 $DATA_B4 -n 64K
		check_eq "and the connection was paired" $((b + 1)) \
			"$(counter pod_a conn_paired)" || true
	fi
}

data_each_path body
