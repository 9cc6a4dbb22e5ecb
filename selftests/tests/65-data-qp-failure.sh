#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rdma: a link whose QP fails half-way under a live stream.  Changing br0's
# MAC makes the core re-make rxe0's GIDs; rxe then fails sends of existing
# QPs ('Failed allocating skb', local QP operation error) and may still carry
# later ones.  The link goes down; the pod network does not (pods talk
# across br0's ports), so both ends resume over their TCP connection at the
# exact byte: the stream completes byte-exact, counted as conn_resumed on
# both pods, never a clean end of stream short of the data.
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

# shellcheck source=selftests/lib/failure.sh
source "$(dirname "$0")/../lib/failure.sh"

body() {
	if [ "$DATA_PATH" != rdma ]; then
		skip "br0 MAC change" "rdma only"
		return 0
	fi
	desc="br0 MAC change (rxe0 GIDs re-made)"
	# Small enough for TCP to finish it under emulation.
	if start 7640 48M; then
		local t1=$SECONDS first d0
		d0=$(counter global link_down)
		check "$desc: ip link set br0 address" \
			ip link set br0 address 02:77:00:00:00:99
		# Both ends of the loopback link lost their source GID: taken
		# down on the GID-change event, not 30 s later by the watchdog.
		links_down() { [ $(( $(counter global link_down) - d0 )) -ge 2 ]; }
		check "$desc: both link ends were taken down at once" \
			wait_until links_down
		completes client "$cpid" "$t1"
		completes server "$spid" "$t1"
		check "$desc: both directions byte-exact" same_bytes || true
		now
		check_eq "$desc: conn_resumed counted in pod_a" 1 \
			"$(delta pod_a conn_resumed)" || true
		check_eq "$desc: conn_resumed counted in pod_b" 1 \
			"$(delta pod_b conn_resumed)" || true
		diag "$desc: resume_tx_bytes pod_a=$(delta pod_a resume_tx_bytes)" \
		     "pod_b=$(delta pod_b resume_tx_bytes)"
		DATA_NOW=()
		diag "client: $(grep -h FAIL "$log.client" | head -n 2)"
		diag "server: $(grep -h FAIL "$log.server" | head -n 2)"
		# Each end's first failure (a failing end shuts its socket down,
		# so its other direction may read an EOF after it).
		first=$(grep -h 'first:' "$log.client" "$log.server")
		if [[ $first == *"premature EOF"* ]]; then
			fail "$desc: no clean EOF short of the data" "$first"
		else
			ok "$desc: no clean EOF short of the data"
		fi
		diag "$(dmesg | grep -E 'rdma_rxe|tsor' | tail -n 8)"
		settle pod_a pod_b
	fi
	rm -f "$log".*
}

data_each_path body
