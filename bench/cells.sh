# shellcheck shell=bash disable=SC2034,SC2154
# SPDX-License-Identifier: GPL-2.0
#
# What the benchmark's two guest sides share (bench/guest.sh, the
# intra-node topology, and bench/inter.sh, the inter-node one): the
# workloads' servers and clients, the proof of a cell's path from the
# counters, and one JSON line per cell.  Source it after setting:
#
#   bench, REPO, out   bench/, the repository, the run's output directory
#   secs               seconds per cell
#   RAW                where cells go, one JSON line each
#
# and, before each cell, PRE (the command prefix of both ends' programs),
# CNS (how to run a program in the client's namespace) and DST (the
# server's address).

TSORCTL=$REPO/tools/tsorctl
TSOR_KO=$REPO/tsor.ko

# PROGRESS: "[k/n] " while cells run.
PROGRESS=''
say() { printf 'bench: %s%s\n' "$PROGRESS" "$*"; }

modload() { modprobe -d "$GUEST_MODROOT" "$@" 2>&1; }

# missing PATH REASON: the path cannot run (any more) in this boot; its
# cells are skipped.
declare -A MISSING=()
missing() {
	[ -n "${MISSING[$1]:-}" ] || say "path $1 missing: $2"
	MISSING[$1]=$2
}

# missing_json: MISSING as one JSON object.
missing_json() {
	local m='{}' p
	for p in "${!MISSING[@]}"; do
		m=$(jq -c --arg p "$p" --arg r "${MISSING[$p]}" '. + {($p): $r}' <<<"$m")
	done
	echo "$m"
}

# listening PORT PID: PID (in its own namespace) has a TCP listener on PORT,
# from /proc/PID/net/tcp: no process started, as emulated ones are slow.
listening() {
	local hex addr st
	printf -v hex '%04X' "$1"
	while read -r _ addr _ st _; do
		[[ $addr == *:"$hex" && $st == 0A ]] && return 0
	done <"/proc/$2/net/tcp"
	return 1
}

wait_listen() {
	for _ in {1..300}; do
		listening "$1" "$2" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# cpu_jiffies: clock ticks the guest's CPUs spent not idle (user, nice,
# system, irq, softirq, steal), from /proc/stat.
cpu_jiffies() {
	local user nice sys irq softirq steal
	read -r _ user nice sys _ _ irq softirq steal _ </proc/stat
	echo $((user + nice + sys + irq + softirq + steal))
}

# cpu_seconds J0 J1: the ticks between two cpu_jiffies, in seconds (USER_HZ
# is 100).
cpu_seconds() {
	echo "$((($2 - $1) / 100)).$(printf '%02d' $((($2 - $1) % 100)))"
}

# to_us VALUE_WITH_UNIT: wrk's "1.23ms" in microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		m = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1e6 : (u == "m") ? 6e7 : -1
		if (m < 0) exit 1
		printf "%.3f\n", n * m }'
}

# server_cmd WORKLOAD PORT: the server of WORKLOAD, in SRVCMD.
SRVCMD=()
server_cmd() {
	case $1 in
	sockperf-*) SRVCMD=(sockperf server --tcp -i "$DST" -p "$2") ;;
	iperf3-*) SRVCMD=(iperf3 -s -B "$DST" -p "$2") ;;
	redis-*) SRVCMD=(redis-server --bind "$DST" --port "$2" --save ""
			 --appendonly no --protected-mode no --daemonize no) ;;
	http) SRVCMD=(node "$bench/http-server.js" "$DST" "$2" 65536) ;;
	connrate) SRVCMD=("$bench/connrate" server -a "$DST" -p "$2") ;;
	esac
}

# warmup WORKLOAD PORT LOG: Node.js compiles its hot paths only after a
# while, and under emulation that while is long: one second of load
# first, whatever the path, not measured.
warmup() {
	[ "$1" = http ] || return 0
	timeout -k 5 60 "${CNS[@]}" "${PRE[@]}" wrk -t 1 -c 8 -d 1s \
		"http://$DST:$2/" >"$3.warmup" 2>&1
}

# failed: the status of a client that failed: 3 if its time limit killed
# it, 1 otherwise.
failed() {
	case $? in
	124|137) return 3 ;;
	*) return 1 ;;
	esac
}

# client WORKLOAD PORT LOG: runs the client, its output in LOG; prints the
# metrics as a JSON object, or fails (status 3: it ran out of time).
client() {
	local wl=$1 port=$2 log=$3 limit=${CLIENT_LIMIT:-$((secs * 4 + 60))} n
	local run=(timeout -k 5 "$limit" "${CNS[@]}" "${PRE[@]}")
	case $wl in
	sockperf-*)
		local size=64
		[ "$wl" = sockperf-4k ] && size=4096
		"${run[@]}" sockperf ping-pong --tcp -i "$DST" -p "$port" -m $size \
			-t "$secs" --mps=max >"$log" 2>&1 || { failed; return; }
		awk '
			/---> percentile 50.000 =/ { p50 = $NF }
			/---> percentile 99.000 =/ { p99 = $NF }
			/---> percentile 99.900 =/ { p999 = $NF }
			/Summary: Latency is/ { avg = $(NF - 1) }
			END {
				if (p50 == "" || p99 == "" || p999 == "") exit 1
				printf "{\"p50_us\":%s,\"p99_us\":%s,\"p999_us\":%s,\"avg_us\":%s}\n",
					p50, p99, p999, avg == "" ? "null" : avg
			}' "$log"
		;;
	iperf3-*)
		n=${wl#iperf3-}
		"${run[@]}" iperf3 -c "$DST" -p "$port" -t "$secs" -P "$n" -J \
			>"$log" 2>&1 || { failed; return; }
		jq -ce 'if .error then error(.error) else
			{ gbit_s: (.end.sum_received.bits_per_second / 1e9),
			  bytes: .end.sum_received.bytes,
			  retransmits: (.end.sum_sent.retransmits // null) } end' "$log"
		;;
	redis-*)
		n=${wl#redis-}
		# redis-benchmark runs a number of requests, not a time: SECS
		# times the geometric mean of the slowest and the fastest rate
		# measured so far in this boot (a guess at first), so that
		# neither the slow paths' cells nor the fast ones' stray far
		# from SECS.
		local rate=$out/.redis-rate.$n lo=500 hi=500 reqs m
		[ -f "$rate" ] && read -r lo hi <"$rate"
		reqs=$(awk -v s="$secs" -v lo="$lo" -v hi="$hi" \
			'BEGIN { printf "%d\n", s * sqrt(lo * hi) }')
		[ "$reqs" -ge 100 ] || reqs=100
		"${run[@]}" redis-benchmark -h "$DST" -p "$port" -c "$n" -P 1 \
			-n "$reqs" -t set,get --csv >"$log" 2>&1 || { failed; return; }
		m=$(awk -F, '
			{ gsub(/"/, "") }
			$1 == "SET" { set = $2; setp50 = $5 }
			$1 == "GET" { get = $2; getp50 = $5 }
			END {
				if (set == "" || get == "") exit 1
				printf "{\"set_rps\":%s,\"get_rps\":%s,\"set_p50_us\":%.1f,\"get_p50_us\":%.1f,\"requests\":%d}\n",
					set, get, setp50 * 1000, getp50 * 1000, n
			}' n="$reqs" "$log") || return 1
		[ -f "$rate" ] || lo='' hi=0
		awk -F, -v lo="$lo" -v hi="$hi" '{ gsub(/"/, "") }
			$1 == "SET" || $1 == "GET" {
				if (lo == "" || $2 < lo) lo = $2
				if ($2 > hi) hi = $2 }
			END { printf "%d %d\n", lo, hi }' "$log" >"$rate.new" &&
			mv "$rate.new" "$rate"
		echo "$m"
		;;
	http)
		"${run[@]}" wrk -t 1 -c 8 -d "${secs}s" --latency \
			"http://$DST:$port/" >"$log" 2>&1 || { failed; return; }
		local rps p50 p99 mb errs
		rps=$(awk '/^Requests\/sec:/ { print $2 }' "$log")
		p50=$(awk '$1 == "50%" { print $2 }' "$log")
		p99=$(awk '$1 == "99%" { print $2 }' "$log")
		# "123 requests in 5.00s, 7.73MB read"
		mb=$(awk '/requests in .* read$/ { print $(NF - 1) }' "$log")
		errs=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$log")
		[ -n "$rps" ] && [ -n "$p50" ] && [ -n "$p99" ] || return 1
		# No request completed: no figure (wrk then prints zeros).
		grep -q '^ *0 requests in' "$log" && return 1
		p50=$(to_us "$p50") && p99=$(to_us "$p99") || return 1
		mb=$(awk -v v="$mb" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
			m = (u == "B") ? 1 : (u == "KB") ? 1024 : (u == "MB") ? 1048576 : (u == "GB") ? 1073741824 : 0
			printf "%.0f\n", n * m }')
		printf '{"req_s":%s,"p50_us":%s,"p99_us":%s,"bytes":%s,"socket_errors":%s}\n' \
			"$rps" "$p50" "$p99" "${mb:-0}" "${errs:-0}"
		;;
	connrate)
		"${run[@]}" "$bench/connrate" client -a "$DST" -p "$port" -t "$secs" \
			>"$log" 2>&1 || { failed; return; }
		awk '/^connrate / {
			for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "{\"conn_s\":%s,\"conns\":%s,\"errors\":%s}\n", v["rate"], v["conns"], v["errors"]
			found = 1 }
			END { exit !found }' "$log"
		;;
	esac
}

# run_client WORKLOAD PORT LOG: client, watched: its metrics in METRICS.
# Returns 1 if it failed, 3 if it ran out of time, 2 if it hung in the
# kernel: a client program
# left in uninterruptible sleep once its time limit killed it, or the
# client still there well after that limit (timeout(1) may wait for such
# a task forever, and so would a command substitution).
METRICS=null HUNG=''
run_client() {
	local mf=$3.metrics pid end rc=0
	end=$((SECONDS + ${CLIENT_LIMIT:-$((secs * 4 + 60))} + 20))
	METRICS=null HUNG=''
	client "$@" >"$mf" 2>/dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		pkill -9 -P "$pid" 2>/dev/null
		kill -9 "$pid" 2>/dev/null
		new_stuck
		HUNG=${HUNG:-the client, still there after its time limit }
		return 2
	fi
	wait "$pid" || rc=$?
	if [ $rc != 0 ]; then
		new_stuck
		[ -z "$HUNG" ] || return 2
		[ $rc = 3 ] || rc=1
		return $rc
	fi
	METRICS=$(<"$mf")
	[ -n "$METRICS" ] || { METRICS=null; return 1; }
}

# new_stuck: the benchmark's client programs in uninterruptible sleep
# (state D) that were not before, as "NAME[PID] in WCHAN ", in HUNG.
declare -A STUCK_PIDS=()
new_stuck() {
	local f stat comm st pid
	HUNG=''
	for f in /proc/[0-9]*/stat; do
		stat=$(<"$f") 2>/dev/null || continue
		comm=${stat#*(} comm=${comm%%)*} st=${stat##*) } st=${st%% *}
		pid=${f#/proc/} pid=${pid%/stat}
		[ "$st" = D ] && [ -z "${STUCK_PIDS[$pid]:-}" ] || continue
		case $comm in
		connrate|sockperf|iperf3|redis-benchmark|wrk)
			STUCK_PIDS[$pid]=1
			HUNG+="${comm}[$pid] in $(cat "/proc/$pid/wchan" 2>/dev/null) " ;;
		esac
	done
}

# measure WORKLOAD PORT LOG: run_client, once more if the client failed
# (not if it ran out of time or hung): under emulation on a loaded host a short run now and
# then ends without a figure (sockperf: "No valid observations found"),
# whatever the path.  ATTEMPTS says how many runs it took.
ATTEMPTS=0
measure() {
	local rc=0
	ATTEMPTS=1
	run_client "$@" || rc=$?
	if [ $rc = 1 ]; then
		say "the client failed ($(tail -n 1 "$3" 2>/dev/null)): once more"
		mv -f "$3" "$3.1" 2>/dev/null
		ATTEMPTS=2 rc=0
		run_client "$@" || rc=$?
	fi
	return $rc
}

# stop_server PID: kill it and reap it, unless it is stuck in the kernel.
stop_server() {
	kill "$1" 2>/dev/null
	for _ in {1..100}; do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null || wait "$1" 2>/dev/null
}

# hard_poweroff STATUS: end the boot as the guest's init would after the
# command (its status where boot.sh's verdict reads it), but without the
# kernel's orderly power-off, which a task stuck in SMC-R's
# smc_wr_drain_cq keeps from ever finishing on Debian's 6.1: an immediate
# reboot, which QEMU's -no-reboot turns into exiting.  Everything written
# to the output directory (9p) is on the host already.
hard_poweroff() {
	say "a task is stuck in the kernel: rebooting at once (sysrq b), not powering off"
	echo "$1" >"$TSOR_OUT/.guest/status"
	echo "tsor-guest: the command exited with status $1"
	sync
	echo b >/proc/sysrq-trigger
	sleep 60
}

# record REP WORKLOAD PATH METRICS BEFORE AFTER CPU_S ERROR: the cell as
# one JSON line, with the proof of its path computed from the counters
# BEFORE and AFTER it: {"a": the client's side, "b": the server's}, each
# what `tsorctl -j stats show netns POD` (shm, rdma) or `smcctl stats`
# (smc) printed, {} when not read.  "ok" is false, with the error, when
# the cell does not count, for a tsor path when:
#   - no connection was paired;
#   - any connection fell back to TCP (a fallback_* counter grew), but
#     for connrate: a connection it opens moves no byte, and some may
#     fall back (tsor's own behaviour under that load); the share paired
#     is reported with its rate (report.py);
#   - the client sent nothing over the claimed path (connrate moves no
#     byte: there connections alone count);
#   - the other tsor path carried bytes;
#   - TCP carried any byte of a taken-over socket on either side (every
#     workload here has the client speak first, which a paired connection
#     never does over TCP).
# Such a cell is "invalid": it measured, but not the path it claims.
# For smc, likewise: no SMC-R connection succeeded, a connection fell back
# to TCP (but for connrate), or no byte went over SMC-R.
record() {
	jq -nc --argjson rep "$1" --arg wl "$2" --arg path "$3" \
		--argjson m "$4" --argjson a "$5" --argjson b "$6" \
		--argjson cpu "$7" --arg err "$8" --argjson secs "$secs" \
		--argjson attempts "${ATTEMPTS:-1}" '
		def d(s; k): (($b[s].stats[k] // 0) - ($a[s].stats[k] // 0));
		def s(p; k): (($b[p][k] // 0) - ($a[p][k] // 0));
		def tfb(s): [($b[s].stats // {}) | to_entries[] |
			     select(.key | startswith("fallback_")) |
			     {key: "\(s):\(.key)", value: (.value - ($a[s].stats[.key] // 0))} |
			     select(.value > 0)] | from_entries;
		def fb(p): [($b[p].fallbacks // {}) | to_entries[] |
			    {key: "\(p):\(.key)", value: (.value - ($a[p].fallbacks[.key] // 0))} |
			    select(.value > 0)] | from_entries;
		def side(s): { shm_tx: d(s; "shm_tx_bytes"), shm_rx: d(s; "shm_rx_bytes"),
			       rdma_tx: d(s; "rdma_tx_bytes"), rdma_rx: d(s; "rdma_rx_bytes"),
			       tcp_tx: d(s; "tcp_tx_bytes"), tcp_rx: d(s; "tcp_rx_bytes") };
		($path == "shm" or $path == "rdma") as $tsor |
		(if $path == "shm" then "rdma" else "shm" end) as $other |
				(if $tsor then
			{ conn_paired: d("a"; "conn_paired"),
			  shm_bytes: (d("a"; "shm_tx_bytes") + d("a"; "shm_rx_bytes")),
			  rdma_bytes: (d("a"; "rdma_tx_bytes") + d("a"; "rdma_rx_bytes")),
			  tcp_bytes: (d("a"; "tcp_tx_bytes") + d("a"; "tcp_rx_bytes")),
			  client: side("a"),
			  server: (if (($b.b // {}) | has("stats")) then side("b") else null end),
			  fallbacks: (tfb("a") + tfb("b")),
			  server_denied: ([($b.b.stats // {}) | to_entries[] |
					   select(.key | startswith("pair_deny_")) |
					   {key, value: (.value - ($a.b.stats[.key] // 0))} |
					   select(.value > 0)] | from_entries) }
		 elif $path == "smc" then
			{ smcr_conns: s("a"; "smcr_clnt_succ"),
			  smcr_bytes: (s("a"; "smcr_tx_bytes") + s("a"; "smcr_rx_bytes")),
			  fallbacks: (fb("a") + fb("b")) }
		 else {} end) as $proof |
		(($proof.server // {}) as $srv |
		 if $err != "" then $err
		 elif $tsor and $proof.conn_paired <= 0 then
			"no connection was paired: \($proof.fallbacks | tojson)"
		 elif $tsor and $wl != "connrate" and ($proof.fallbacks | length) > 0 then
			"connections fell back to TCP: \($proof.fallbacks | tojson)"
		 elif $tsor and $wl != "connrate" and $proof.client[$path + "_tx"] <= 0 then
			"the client sent no byte over the \($path) path"
		 elif $tsor and ($proof[$other + "_bytes"] + ($srv[$other + "_tx"] // 0) +
				($srv[$other + "_rx"] // 0)) > 0 then
			"bytes went over \($other), not \($path): \($proof | tojson)"
		 elif $tsor and ($proof.tcp_bytes + ($srv.tcp_tx // 0) + ($srv.tcp_rx // 0)) > 0 then
			"TCP carried bytes of taken-over sockets: \($proof | tojson)"
		 elif $path == "smc" and $proof.smcr_conns <= 0 then
			"SMC fell back to TCP: \($proof.fallbacks | tojson)"
		 elif $path == "smc" and $wl != "connrate" and ($proof.fallbacks | length) > 0 then
			"SMC connections fell back to TCP: \($proof.fallbacks | tojson)"
		 elif $path == "smc" and $wl != "connrate" and $proof.smcr_bytes <= 0 then
			"no byte went over SMC-R: \($proof.fallbacks | tojson)"
		 else null end) as $e |
		{rep: $rep, workload: $wl, path: $path, ok: ($e == null),
		 attempts: $attempts,
		 invalid: ($err == "" and $e != null),
		 seconds: $secs, metrics: $m, proof: $proof, cpu_busy_s: $cpu,
		 error: $e}'
}

# emit FILE LINE TAG: appends the cell's LINE to FILE and says how it went.
# Returns 1 if the cell does not count.
emit() {
	local line=$2 err=''
	echo "$line" >>"$1"
	if [[ $line == *'"ok":true'* ]]; then
		say "$3: $(jq -r '.metrics | to_entries | map("\(.key)=\(.value)") | join(" ")' <<<"$line" 2>/dev/null)"
		return 0
	fi
	err=$(jq -r '.error // empty' <<<"$line" 2>/dev/null)
	say "$3: FAILED (${err:-cannot record the cell})"
	return 1
}
