#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Paired connections between two pods of this node: the bytes cross the
# channel, not TCP, and every stream stays byte-exact in every I/O mode.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a
"$TSORCTL" netns enable pod_b
# Both pods live on this node; 127.0.0.1 is one of its addresses.
"$TSORCTL" peer add 10.10.0.0/24 via 127.0.0.1
"$TSORCTL" peer add fd10::/64 via 127.0.0.1

path=${TSOR_PATH:-shm}
total() { grep -o " $1=[0-9]*" "$2" | awk -F= '{ s += $2 } END { print s + 0 }'; }

port=7300
run() {
	local desc="$path: $1"; shift
	port=$((port + 1))
	local p0 tx0 rx0 ttx0 trx0
	p0=$(counter pod_a conn_paired) tx0=$(counter pod_a ${path}_tx_bytes)
	rx0=$(counter pod_a ${path}_rx_bytes) ttx0=$(counter pod_a tcp_tx_bytes)
	trx0=$(counter pod_a tcp_rx_bytes)
	TSOR_KEEP_LOGS=1 check "$desc" stream pod_b pod_a $port "$@" || return
	local cli=$TSOR_OUT/stream.$$.cli conns
	conns=$(grep -c 'conn=' "$cli")
	check_eq "$desc: every connection was paired" \
		$((p0 + conns)) "$(counter pod_a conn_paired)" ||
		diag "$("$TSORCTL" stats show netns pod_a | grep -v " 0$"; "$TSORCTL" stats show netns pod_b | grep -v " 0$"; "$TSORCTL" stats show global | grep "deny\|fallback" | grep -v " 0$")"
	check_eq "$desc: ${path}_tx_bytes counts what the client sent" \
		$((tx0 + $(total sent "$cli"))) "$(counter pod_a ${path}_tx_bytes)"
	# What the server wrote before the switch came over TCP.
	check_eq "$desc: ${path}_rx_bytes and tcp_rx_bytes count what the client received" \
		$((rx0 + trx0 + $(total recv "$cli"))) \
		$(($(counter pod_a ${path}_rx_bytes) + $(counter pod_a tcp_rx_bytes)))
	check_eq "$desc: the client sent nothing over TCP" \
		"$ttx0" "$(counter pod_a tcp_tx_bytes)"
	rm -f "$TSOR_OUT"/stream.$$.*
}

for mode in block poll epoll epollet; do
	run "IPv4 $mode 4 MiB" "$B4" -m $mode -n 4M
done
run "IPv6 block 4 MiB" "$B6" -m block -n 4M
run "IPv4 readv/writev" "$B4" -m poll -n 1M --iov
run "IPv4 MSG_PEEK before every read" "$B4" -m block -n 1M --peek
run "IPv4 16 connections, random sizes up to 2 MiB" "$B4" -m epoll -c 16 -n 2M --random-sizes
run "IPv6 64 connections, random sizes up to 64 KiB" "$B6" -m epoll -c 64 -n 64K --random-sizes
run "IPv4 one byte" "$B4" -m block -n 1

# conn show lists a live paired connection, with the bytes it carried.
port=$((port + 1))
ip netns exec pod_b python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); n = 0
while n < 1000:
    n += len(c.recv(4096))
c.sendall(b"x" * 300); time.sleep(20)' $port &
server=$!
wait_until listening pod_b $port
ip netns exec pod_a python3 -c '
import socket, sys, time
c = socket.create_connection(("10.10.0.2", int(sys.argv[1])))
c.sendall(b"y" * 1000); n = 0
while n < 300:
    n += len(c.recv(4096))
print("ready", flush=True); time.sleep(20)' $port >"$TSOR_OUT/conn.$$" &
client=$!
wait_until grep -q ready "$TSOR_OUT/conn.$$"
conn=$("$TSORCTL" -j conn show netns pod_a | jq -c ".[] | select(.peer_port == $port)")
diag "$conn"
check_eq "$path: conn show lists the connection once" 1 "$(jq -s length <<<"$conn")"
check_eq "$path: on the $path path" "$path" "$(jq -r .path <<<"$conn")"
check_eq "$path: with no fallback reason" none "$(jq -r .fallback <<<"$conn")"
check_eq "$path: having sent 1000 bytes" 1000 "$(jq -r .tx_bytes <<<"$conn")"
check_eq "$path: from pod_a's address" 10.10.0.1 "$(jq -r .local <<<"$conn")"
rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$TSORCTL" conn show netns pod_a >/dev/null 2>&1 || rc=$?
check_eq "$path: nobody may not list another namespace's connections (exit 4)" 4 "$rc"
kill "$client" "$server" 2>/dev/null
wait "$client" "$server" 2>/dev/null
rm -f "$TSOR_OUT/conn.$$"

"$TSORCTL" peer del 10.10.0.0/24
"$TSORCTL" peer del fd10::/64
none_active() { [ "$(counter pod_a sock_active)$(counter pod_b sock_active)" = 00 ]; }
wait_until none_active
check_eq "no tsor socket is left in pod_a" 0 "$(counter pod_a sock_active)"
check_eq "no tsor socket is left in pod_b" 0 "$(counter pod_b sock_active)"
delpods
