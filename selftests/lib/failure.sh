# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Breaking a paired stream mid-way, for the failure tests (63, 65): start
# one, then check that the end that survives sees an error of its own in
# bounded time.  Sourced after tap.sh, tsor.sh and data.sh; the test sets
# desc, what it is breaking, before each start.
desc=''

# How long a survivor may take to notice.
BOUND=15
# The programs' own limit on any wait: an error only after this long is a
# hang that the kernel never reported.
PROG_TIMEOUT=40

log=$TSOR_OUT/fail.$$
spid='' cpid=''

progressed() {
	[ "$(delta pod_a "${DATA_PATH}_tx_bytes")" -ge $((1 << 20)) ]
}

# ended PID: the process is gone (a zombie of ours counts as gone).
ended() {
	! kill -0 "$1" 2>/dev/null ||
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# survives NAME PID T0: NAME ended by itself within BOUND s of T0, with an
# error of its own (not a timeout of the program: that is a hang).
survives() {
	local name=$1 pid=$2 t0=$3 rc=0 out
	while ! ended "$pid" && [ $((SECONDS - t0)) -lt $((BOUND + 1)) ]; do
		sleep 0.1
	done
	if ! ended "$pid"; then
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "$desc: the $name noticed within $BOUND s" \
			"still running after $BOUND s: $(tail -n 3 "$log.$name")"
		return 1
	fi
	wait "$pid" || rc=$?
	ok "$desc: the $name noticed within $BOUND s ($((SECONDS - t0)) s)"
	out=$(grep -h 'FAIL' "$log.$name" | head -n 3)
	if [ "$rc" = 0 ]; then
		fail "$desc: the $name saw an error" "it exited 0: $(tail -n 3 "$log.$name")"
	elif [[ $out == *watchdog* || $out == *expired* || $out == *"timed out"* ]]; then
		fail "$desc: the $name saw an error" "only its own timeout ended it: $out"
	else
		ok "$desc: the $name saw an error"
		diag "$name: $(head -n 1 <<<"$out")"
	fi
}

# start PORT [BYTES [MODE]]: a long stream from pod_a to pod_b (BYTES each
# way, 1G by default; MODE one of tsor_stream's -m, block by default),
# until 1 MiB crossed.
start() {
	local port=$1 n=${2:-1G} mode=${3:-block}
	snap
	ip netns exec pod_b "$STREAM" server -p "$port" -n "$n" -m "$mode" \
		--timeout $PROG_TIMEOUT >"$log.server" 2>&1 &
	spid=$!
	wait_listen pod_b "$port" || { fail "$desc: server listens" "$(cat "$log.server")"; return 1; }
	ip netns exec pod_a "$STREAM" client -a $DATA_B4 -p "$port" -n "$n" -m "$mode" \
		--timeout $PROG_TIMEOUT >"$log.client" 2>&1 &
	cpid=$!
	if ! wait_until progressed; then
		fail "$desc: 1 MiB crossed the channel" "$(counters_diag)
client: $(tail -3 "$log.client")
server: $(tail -3 "$log.server")
pod_a: $(ip netns exec pod_a ss -tni 2>&1 | tail -4)
$(ip -n pod_a neigh 2>&1)"
		kill -9 "$spid" "$cpid" 2>/dev/null
		wait "$spid" "$cpid" 2>/dev/null
		return 1
	fi
	check_eq "$desc: the stream was paired" 1 "$(delta pod_a conn_paired)"
}

# completes NAME PID T0: NAME ended by itself with every check passed (exit
# 0, every byte it received verified, EOF right after the last one).
completes() {
	local name=$1 pid=$2 t0=$3 rc=0
	# The stream tool is CPU-bound under emulation (a few MB/s).
	while ! ended "$pid" && [ $((SECONDS - t0)) -lt 150 ]; do
		sleep 0.2
	done
	if ! ended "$pid"; then
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "$desc: the $name completed" "still running: $(tail -n 3 "$log.$name")"
		return 1
	fi
	wait "$pid" || rc=$?
	check_eq "$desc: the $name completed byte-exact (exit 0)" 0 "$rc" ||
		diag "$name: $(tail -n 3 "$log.$name")"
}

# same_bytes: what each end sent is what the other received (SHA-256 and
# byte counts of both directions).
same_bytes() {
	local f
	for f in sha_tx sent; do
		local r=${f/tx/rx}
		[ "$f" = sent ] && r=recv
		[ -n "$(digests "$f" "$log.client")" ] || return 1
		[ "$(digests "$f" "$log.client")" = "$(digests "$r" "$log.server")" ] || return 1
		[ "$(digests "$r" "$log.client")" = "$(digests "$f" "$log.server")" ] || return 1
	done
}

none_left() {
	local ns
	for ns in "$@"; do
		[ "$(counter "$ns" sock_active)" = 0 ] || return 1
	done
}

# settle NS...: no tsor socket is left in these pods.
settle() {
	check "$desc: no tsor socket left in $*" wait_until none_left "$@" ||
		diag "$(counters_diag)"
}
