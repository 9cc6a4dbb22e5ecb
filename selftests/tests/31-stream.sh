#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Byte-exact streams over taken-over sockets, in every I/O mode, with the
# module's byte counters matching what the programs moved.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a
"$TSORCTL" netns enable pod_b

# sent/received by one end, summed over its connections.
total() { grep -o " $1=[0-9]*" "$2" | awk -F= '{ s += $2 } END { print s + 0 }'; }

port=7100
run() {
	local desc=$1; shift
	port=$((port + 1))
	local tx0 rx0 acc0
	tx0=$(counter pod_a tcp_tx_bytes) rx0=$(counter pod_a tcp_rx_bytes)
	acc0=$(counter pod_b sock_accepted)
	TSOR_KEEP_LOGS=1 check "$desc" stream pod_b pod_a $port "$@" || return
	local cli=$TSOR_OUT/stream.$$.cli conns
	conns=$(grep -c 'conn=' "$cli")
	check_eq "$desc: tcp_tx_bytes counts what the client sent" \
		$((tx0 + $(total sent "$cli"))) "$(counter pod_a tcp_tx_bytes)"
	check_eq "$desc: tcp_rx_bytes counts what the client received" \
		$((rx0 + $(total recv "$cli"))) "$(counter pod_a tcp_rx_bytes)"
	check_eq "$desc: every accepted socket was taken over" \
		$((acc0 + conns)) "$(counter pod_b sock_accepted)"
	rm -f "$TSOR_OUT"/stream.$$.*
}

for mode in block poll epoll epollet; do
	run "IPv4 $mode 4 MiB" "$B4" -m $mode -n 4M
done
run "IPv6 block 4 MiB" "$B6" -m block -n 4M
run "IPv6 epollet 4 MiB" "$B6" -m epollet -n 4M
run "IPv4 readv/writev" "$B4" -m poll -n 1M --iov
run "IPv4 MSG_PEEK before every read" "$B4" -m block -n 1M --peek
run "IPv4 16 connections, random sizes up to 2 MiB" "$B4" -m epoll -c 16 -n 2M --random-sizes
run "IPv6 64 connections, random sizes up to 64 KiB" "$B6" -m epoll -c 64 -n 64K --random-sizes
run "IPv4 one 16 MiB stream" "$B4" -m block -n 16M
run "IPv4 one byte" "$B4" -m block -n 1

check "TCP_ULP is refused on a tsor socket" \
	stream pod_b pod_a 7199 "$B4" -n 1K --expect-ulp-refused

none_active() { [ "$(counter pod_a sock_active)$(counter pod_b sock_active)" = 00 ]; }
wait_until none_active
check_eq "no tsor socket is left in pod_a" 0 "$(counter pod_a sock_active)"
check_eq "no tsor socket is left in pod_b" 0 "$(counter pod_b sock_active)"
delpods
