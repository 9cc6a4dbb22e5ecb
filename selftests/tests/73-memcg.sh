#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A pod under a memory cgroup limit.  Rings are charged to the cgroup of
# the socket that owns them, so a pod cannot take node memory past its
# limit through tsor; and since rings are pinned, a ring takes at most a
# quarter of the cgroup's room and leaves 8 MiB of it, or is made smaller,
# or the connection stays TCP: never an OOM kill or a broken stream.
# pod_a's processes run in the cgroup tsor_pod_a (cgroup v2), 4 MiB rings:
#   - a held connection: the cgroup's usage holds its ring
#   - 14 MiB of room: the next held connection gets a smaller ring (or
#     none)
#   - a byte-exact stream from the pod under that limit, no OOM kill
#   - 6 MiB of room: a held connection stays TCP (fallback_nomem)
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

CG_ROOT=/sys/fs/cgroup
CG=$CG_ROOT/tsor_pod_a
RING_KB=/sys/module/tsor/parameters/ring_kb
log=$TSOR_OUT/memcg.$$
holds=()

cg_event() { awk -v k="$1" '$1 == k { print $2 }' "$CG/memory.events"; }
ring_bytes() { counter pod_a ring_bytes; }

# in_pod CMD...: runs CMD in pod_a's netns and cgroup.
# shellcheck disable=SC2016 # expanded by the inner shell
IN_POD='echo $$ >"$0/cgroup.procs" && exec ip netns exec pod_a "$@"'
in_pod() { bash -c "$IN_POD" "$CG" "$@"; }

cleanup() {
	[ ${#holds[@]} = 0 ] || kill "${holds[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	holds=()
	rmdir "$CG" 2>/dev/null || true
}

# hold PORT: a held connection from pod_a (in the cgroup) to pod_b.
hold() {
	ip netns exec pod_b "$STREAM" hold --listen -p "$1" --until-signal \
		--timeout 300 >"$log.hs$1" 2>&1 &
	holds+=($!)
	wait_listen pod_b "$1"
	# Not through in_pod: $! must be the holding process itself.
	bash -c "$IN_POD" "$CG" "$STREAM" hold -a $DATA_B4 -p "$1" \
		--until-signal --timeout 300 >"$log.hc$1" 2>&1 &
	holds+=($!)
}

body() {
	local r1 cur paired0 nomem0 ring2
	trap cleanup EXIT
	mkdir "$CG"
	echo max >"$CG/memory.max"
	[ ! -e "$CG/memory.swap.max" ] || echo 0 >"$CG/memory.swap.max"
	echo 4096 >$RING_KB

	paired0=$(counter pod_a conn_paired) nomem0=$(counter pod_a fallback_nomem)
	hold 7731
	one_paired() { [ $(($(counter pod_a conn_paired) - paired0)) -ge 1 ]; }
	check "a held connection from the cgroup paired" wait_until one_paired
	r1=$(ring_bytes) cur=$(cat "$CG/memory.current")
	diag "cgroup usage $cur bytes, pod_a's rings $r1 bytes"
	check_eq "its ring is 4 MiB" $((4 << 20)) "$r1"
	check_ge "the cgroup's usage holds the ring" "$r1" "$cur"

	# 14 MiB of room, some of it for the new process: a ring may take a
	# quarter of what is left when it is made, and leave 8 MiB.
	echo $((cur + (14 << 20))) >"$CG/memory.max"
	hold 7732
	settled() {
		[ $(($(counter pod_a conn_paired) + $(counter pod_a fallback_nomem) -
		     paired0 - nomem0)) -ge "$1" ]
	}
	check "the next held connection settled" wait_until settled 2
	ring2=$(( $(ring_bytes) - r1 ))
	diag "its ring: $ring2 bytes; fallback_nomem +$(( $(counter pod_a fallback_nomem) - nomem0 ))"
	check "it got a smaller ring, or stayed TCP" test "$ring2" -lt $((4 << 20))

	# A stream from the pod under that limit.
	ip netns exec pod_b "$STREAM" server -p 7733 -c 4 -m epoll -n 4M \
		--timeout 120 >"$log.srv" 2>&1 &
	local spid=$! crc=0 src=0
	wait_listen pod_b 7733
	in_pod "$STREAM" client -a $DATA_B4 -p 7733 -c 4 -m epoll -n 4M \
		--timeout 120 >"$log.cli" 2>&1 || crc=$?
	wait "$spid" || src=$?
	check_eq "a 4-connection stream from the pod under its limit is byte-exact" \
		"0 0" "$crc $src" || diag "$(tail -n 3 "$log.cli" "$log.srv")"
	check_eq "no OOM kill in the cgroup" 0 "$(cg_event oom_kill)"
	diag "paired $(( $(counter pod_a conn_paired) - paired0 )), fallback_nomem $(( $(counter pod_a fallback_nomem) - nomem0 )), the cgroup at its limit $(cg_event max) times"

	# 6 MiB of room: less than tsor leaves a pod, so no ring at all.
	cur=$(cat "$CG/memory.current")
	echo $((cur + (6 << 20))) >"$CG/memory.max"
	nomem0=$(counter pod_a fallback_nomem) paired0=$(counter pod_a conn_paired)
	hold 7734
	check "with 6 MiB of room a held connection settles" wait_until settled 1
	check_eq "it stayed TCP for memory" "0 1" \
		"$(( $(counter pod_a conn_paired) - paired0 )) $(( $(counter pod_a fallback_nomem) - nomem0 ))"
	check_eq "no OOM kill in the cgroup" 0 "$(cg_event oom_kill)"

	kill "${holds[@]}" 2>/dev/null || true
	wait "${holds[@]}" 2>/dev/null || true
	holds=()
	no_rings() { [ "$(ring_bytes)$(counter pod_a channel_active)" = 00 ]; }
	check "every channel of pod_a is gone" wait_until no_rings
	echo 512 >$RING_KB
	gone() { [ ! -s "$CG/cgroup.procs" ]; }
	check "no process is left in the cgroup" wait_until gone
	rmdir "$CG"
	rm -f "$log".*
}

if ! mountpoint -q $CG_ROOT; then
	mount -t cgroup2 none $CG_ROOT
fi
if ! grep -qw memory $CG_ROOT/cgroup.controllers 2>/dev/null; then
	skip "the memory cgroup controller" "not in this kernel's cgroup v2"
	exit 0
fi
echo +memory >$CG_ROOT/cgroup.subtree_control
data_each_path body
