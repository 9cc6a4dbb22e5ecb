#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Paired connections that break mid-stream, over each transport: the end
# that survives must see an error (reset or premature EOF) within a bounded
# time, never hang until its own timeouts fire; no tsor socket may be left.
#   - the server process is SIGKILLed; then the client process
#   - the server's pod is deleted: netns and veth removed under the live
#     process, which is then killed, so the namespace really goes
#   - rdma: rxe0 is deleted (rdma link delete) under both live ends: only
#     the link died, so the stream resumes over TCP and completes
#     byte-exact, counted as conn_resumed on both pods
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

# shellcheck source=selftests/lib/failure.sh
source "$(dirname "$0")/../lib/failure.sh"

# The resumed stream's size each way: enough to be mid-stream when the
# link dies, small enough for TCP to finish it under emulation.
RESUME_BYTES=${RESUME_BYTES:-48M}

# Both pods counted one resume since snap.
resumed() {
	[ "$(delta pod_a conn_resumed)" = 1 ] && [ "$(delta pod_b conn_resumed)" = 1 ]
}

# An idle paired connection whose link dies, its server blocked in recv():
# both ends resume, conn show says tcp/resumed on both pods, and the
# connection then carries a request, its reply and a clean close on TCP.
idle_resume() {
	desc="rxe0 deleted under an idle connection"
	local f=$TSOR_OUT/idle.$$ spid cpid j
	snap
	ip netns exec pod_b python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7635)); s.listen(1)
c, _ = s.accept(); assert c.recv(1) == b"y"; c.sendall(b"x")
d = c.recv(100); c.sendall(d.upper())
print("server ok" if d == b"hello" and c.recv(1) == b"" else "server bad", flush=True)' \
		>"$f.srv" 2>&1 &
	spid=$!
	wait_listen pod_b 7635 || { fail "$desc: server listens" "$(cat "$f.srv")"; return 0; }
	ip netns exec pod_a python3 -c '
import os, socket, sys, time
c = socket.create_connection((sys.argv[1], 7635))
c.sendall(b"y"); assert c.recv(1) == b"x"
print("ready", flush=True)
while not os.path.exists(sys.argv[2]): time.sleep(0.1)
c.sendall(b"hello"); r = c.recv(100); c.close()
print("client ok" if r == b"HELLO" else "client bad %r" % r, flush=True)' \
		$DATA_B4 "$f.go" >"$f.cli" 2>&1 &
	cpid=$!
	wait_until grep -q ready "$f.cli"
	check_eq "$desc: the connection was paired" 1 "$(delta pod_a conn_paired)" || true
	check "$desc: rdma link delete rxe0" rdma link delete rxe0
	check "$desc: conn_resumed counted on both pods" wait_until resumed || true
	for ns in pod_a pod_b; do
		j=$("$TSORCTL" -j conn show netns $ns |
			jq -r '.[] | select(.peer_port == 7635 or .local_port == 7635) | "\(.path) \(.fallback)"')
		check_eq "$desc: conn show in $ns: tcp, resumed" "tcp resumed" "$j" || true
	done
	touch "$f.go"
	wait "$cpid" "$spid" 2>/dev/null
	check_eq "$desc: request, reply and close over TCP after the resume" \
		"client ok server ok" "$(tail -n 1 "$f.cli") $(tail -n 1 "$f.srv")" || true
	check_eq "$desc: no conn_reset" 0 \
		"$(( $(delta pod_a conn_reset) + $(delta pod_b conn_reset) ))" || true
	settle pod_a pod_b
	check "$desc: rxe0 back" data_dev_rdma
	rm -f "$f".*
}

body() {
	desc="server SIGKILLed"
	if start 7631; then
		kill -9 "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null
		survives client "$cpid" $SECONDS
		settle pod_a pod_b
	fi

	desc="client SIGKILLed"
	if start 7632; then
		kill -9 "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null
		survives server "$spid" $SECONDS
		settle pod_a pod_b
	fi

	desc="server pod deleted"
	if start 7633; then
		local t0=$SECONDS
		ip netns del pod_b
		ip link del vb
		# The paired stream does not need the pod network; the process
		# keeps the namespace alive until it dies (or it may fail first:
		# its end of the stream errs too then).
		sleep 1
		kill -9 "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null
		survives client "$cpid" "$t0"
		settle pod_a
		_data_pod pod_b $DATA_B4 $DATA_B6 vb
		"$TSORCTL" netns enable pod_b
	fi

	if [ "$DATA_PATH" = rdma ]; then
		live_resume 7634 block
		# Non-blocking sockets: poll must report each direction as it
		# resumes, and EAGAIN meanwhile.
		live_resume 7636 epoll
		idle_resume
	fi
	rm -f "$log".*
}

# live_resume PORT MODE: rxe0 deleted under a live stream.  Only the link
# dies: both ends resume over their TCP connection at the exact byte, and
# the stream completes.
live_resume() {
	desc="rxe0 deleted ($2)"
	if start "$1" "$RESUME_BYTES" "$2"; then
		local t2=$SECONDS
		check "$desc: rdma link delete rxe0" rdma link delete rxe0
		completes client "$cpid" "$t2"
		completes server "$spid" "$t2"
		check "$desc: both directions byte-exact" same_bytes ||
			diag "client: $(grep -m1 conn= "$log.client")" \
			     "server: $(grep -m1 conn= "$log.server")"
		now
		check_eq "$desc: conn_resumed counted in pod_a" 1 \
			"$(delta pod_a conn_resumed)" || true
		check_eq "$desc: conn_resumed counted in pod_b" 1 \
			"$(delta pod_b conn_resumed)" || true
		check_eq "$desc: no conn_reset" 0 \
			"$(( $(delta pod_a conn_reset) + $(delta pod_b conn_reset) ))" || true
		diag "$desc: resume_tx_bytes pod_a=$(delta pod_a resume_tx_bytes)" \
		     "pod_b=$(delta pod_b resume_tx_bytes)"
		DATA_NOW=()
		settle pod_a pod_b
		check "$desc: rxe0 back" data_dev_rdma
	fi
}

data_each_path body
