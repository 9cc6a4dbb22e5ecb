#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Memory pressure: a connection made while its socket is under memory
# pressure stays TCP (fallback_nomem), byte-exact; once the pressure is
# gone, connections pair again.  tsor asks what TCP asks before it grows
# a buffer, tcp_under_memory_pressure(): the socket's memory cgroup under
# socket pressure, or TCP's own pressure.  The memory cgroup's pressure
# comes from reclaim efficiency (vmpressure), which nothing here can make
# happen on cue, so this test brings on TCP's own: net.ipv4.tcp_mem set
# low while a connection in the initial namespace holds 1 MiB it never
# reads; /proc/net/protocols shows the pressure.
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

tcp_mem0=$(cat /proc/sys/net/ipv4/tcp_mem)
hog=()
unhog() {
	local p
	# Limits first: TCP leaves pressure only when a socket frees memory
	# below tcp_mem's low mark, so the hogs' memory must go after it.
	echo "$tcp_mem0" >/proc/sys/net/ipv4/tcp_mem
	for p in "${hog[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	hog=()
}
trap unhog EXIT

# pressure: TCP's memory pressure flag, as /proc/net/protocols shows it.
pressure() { awk '$1 == "TCP" { print $5 }' /proc/net/protocols; }
under() { [ "$(pressure)" = yes ]; }
relieved() { [ "$(pressure)" = no ]; }
hog_listening() { [ -n "$(ss -Hltn "sport = :7799")" ]; }

body() {
	data_stream "no pressure" pod_b pod_a 7721 $DATA_B4 -n 256K

	# TCP's global count moves in per-CPU batches of up to 1 MiB (6.x),
	# so the hog holds several MiB unread to be sure it shows.
	echo "16 32 1000000" >/proc/sys/net/ipv4/tcp_mem
	python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7799)); s.listen(1)
c, _ = s.accept(); time.sleep(600)' &
	hog+=("$!")
	wait_until hog_listening
	python3 -c '
import socket, time
c = socket.create_connection(("127.0.0.1", 7799)); c.setblocking(False)
n = 0
while n < (1 << 23):
    try:
        n += c.send(b"x" * 65536)
    except BlockingIOError:
        time.sleep(0.05)
print("held", n, flush=True); time.sleep(600)' >"$TSOR_OUT/hog.$$" 2>&1 &
	hog+=("$!")
	check "TCP is under memory pressure (/proc/net/protocols)" wait_until under ||
		diag "pressure: $(pressure); $(cat "$TSOR_OUT/hog.$$"); $(cat /proc/net/sockstat)"

	snap
	local log=$TSOR_OUT/press.$$ rc=0 sent
	TSOR_KEEP_LOGS=1 check "under pressure: byte-exact" \
		stream pod_b pod_a 7722 $DATA_B4 -n 256K || rc=1
	now
	sent=$(sum_field sent "$TSOR_OUT/stream.$$.cli")
	check_eq "under pressure: not paired" 0 "$(delta pod_a conn_paired)"
	check_eq "under pressure: fallback_nomem counted it" 1 "$(delta pod_a fallback_nomem)"
	check_eq "under pressure: TCP carried what the client sent" "$sent" \
		"$(delta pod_a tcp_tx_bytes)"
	check_eq "under pressure: no ring was made" 0 "$(delta pod_a "${DATA_PATH}_tx_bytes")"
	rm -f "$TSOR_OUT"/stream.$$.* "$log"

	unhog
	check "the pressure is gone" wait_until relieved || diag "pressure: $(pressure)"
	data_stream "pressure gone" pod_b pod_a 7723 $DATA_B4 -n 256K
	rm -f "$TSOR_OUT/hog.$$"
	return $rc
}

data_each_path body
