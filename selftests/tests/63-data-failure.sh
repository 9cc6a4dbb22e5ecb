#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Paired connections that break mid-stream, over each transport: the end
# that survives must see an error (reset or premature EOF) within a bounded
# time, never hang until its own timeouts fire; no tsor socket may be left.
#   - the server process is SIGKILLed; then the client process
#   - the server's pod is deleted: netns and veth removed under the live
#     process, which is then killed, so the namespace really goes
#   - rdma: rxe0 is deleted (rdma link delete) under both live ends
#   - rdma: the node bridge's MAC changes, which replaces rxe0's GIDs
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

# shellcheck source=selftests/lib/failure.sh
source "$(dirname "$0")/../lib/failure.sh"

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
		desc="rxe0 deleted"
		if start 7634; then
			local t1=$SECONDS
			check "$desc: rdma link delete rxe0" rdma link delete rxe0
			survives client "$cpid" "$t1"
			survives server "$spid" "$t1"
			check_ge "$desc: conn_reset counted" 1 \
				"$(( $(delta pod_a conn_reset) + $(delta pod_b conn_reset) ))" || true
			settle pod_a pod_b
			check "$desc: rxe0 back" data_dev_rdma
		fi

		# A bridge's MAC follows its ports unless set: the GIDs of an
		# rxe on it are deleted and re-added, and the QP fails.
		desc="node bridge's MAC changed"
		if start 7635; then
			local t2=$SECONDS d0
			d0=$(counter global link_down)
			check "$desc: br0 gets a new MAC" \
				ip link set br0 address 02:74:73:ff:00:02
			survives client "$cpid" "$t2"
			survives server "$spid" "$t2"
			check_ge "$desc: its links were taken down" 2 \
				$(( $(counter global link_down) - d0 )) || true
			settle pod_a pod_b
			ip link set br0 address $DATA_BR_MAC
		fi
	fi
	rm -f "$log".*
}

data_each_path body
