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
		# Only the link dies: both ends resume over their TCP
		# connection at the exact byte, and the stream completes.
		desc="rxe0 deleted"
		if start 7634 "$RESUME_BYTES"; then
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
	fi
	rm -f "$log".*
}

data_each_path body
