#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/guest.sh [options]: the benchmark's guest side (bench/run.sh boots a
# guest running it).  Builds the intra-node topology, then measures every
# cell of the matrix, interleaving the paths, and appends one JSON line per
# cell to OUT/raw.jsonl as soon as it is measured.
#
#   --out DIR         where raw.jsonl, env.json and logs/ go (required)
#   --reps N          repetitions of every cell (default 3)
#   --time S          seconds per cell (default 5)
#   --paths LIST      paths, space separated (default "tcp shm rdma smc")
#   --workloads LIST  workloads (default: all, see WORKLOADS below)
#   --try-smc-loopback  try SMC-R (a probe first) although it hangs here
#   --ko-args ARGS    tsor.ko parameters, for diagnosis only (e.g.
#                     "ring_kb=64"); published runs use the defaults
#
# Topology (as a bridge CNI wires two pods of one node):
#
#   init_net (the node)   br0 10.244.0.1/24, rxe0 on br0
#   pod_a (client)        eth0 10.244.0.2/24, veth to br0, default via .1
#   pod_b (server)        eth0 10.244.0.3/24, veth to br0, default via .1
#
# Paths: tcp (neither pod enabled), shm and rdma (both pods enabled, the
# node's local-path set to shm or rdma), smc (both ends of every program
# under LD_PRELOAD=bench/smc_preload.so).  A path that cannot be set up is
# recorded in env.json as missing, with the reason, and its cells skipped.
#
# SMC-R runs as host-network pods do, both ends in the node's namespace on
# the node's address (10.244.0.1), its TCP handshake over lo: on 6.1 rxe
# lives in init_net only, Soft-RoCE has RoCEv2 GIDs only, so only SMC-Rv2
# applies, and SMC-Rv2's server looks its route up in the RDMA device's
# namespace from its own address, which fails for a pod's address.  So the
# pods cannot use SMC-R over rxe0 on this kernel.
set -uo pipefail

bench=$(cd "$(dirname "$0")" && pwd -P)
REPO=${REPO:-$(cd "$bench/.." && pwd -P)}
TSORCTL=$REPO/tools/tsorctl
TSOR_KO=$REPO/tsor.ko

WORKLOADS="sockperf-64 sockperf-4k iperf3-1 iperf3-4 redis-1 redis-50 http connrate"
out='' reps=3 secs=5 paths="tcp shm rdma smc" workloads=$WORKLOADS ko_args='' try_smc=0
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--time) secs=$2; shift 2 ;;
	--paths) paths=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--ko-args) ko_args=$2; shift 2 ;;
	--try-smc-loopback) try_smc=1; shift ;;
	*) echo "guest.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "guest.sh: --out DIR is required" >&2; exit 2; }
mkdir -p "$out/logs" || exit 1
RAW=$out/raw.jsonl
: >"$RAW"

NODE=10.244.0.1 CLI=10.244.0.2 SRV=10.244.0.3
PNETID=TSORBENCH UEID=TSOR-BENCH

# PROGRESS: "[k/n] " while cells run.
PROGRESS=''
say() { printf 'bench: %s%s\n' "$PROGRESS" "$*"; }

modload() { modprobe -d "$GUEST_MODROOT" "$@" 2>&1; }

# missing PATH REASON: the path cannot run in this boot.
declare -A MISSING=()
missing() {
	MISSING[$1]=$2
	say "path $1 missing: $2"
}

topology() {
	modload bridge >/dev/null
	ip link add br0 type bridge || return 1
	ip addr add $NODE/24 dev br0 && ip link set br0 up || return 1
	local p addr
	for p in a b; do
		if [ $p = a ]; then addr=$CLI; else addr=$SRV; fi
		ip netns add pod_$p &&
		ip link add veth_$p type veth peer name eth0 netns pod_$p &&
		ip link set veth_$p master br0 up &&
		ip -n pod_$p link set lo up &&
		ip -n pod_$p addr add $addr/24 dev eth0 &&
		ip -n pod_$p link set eth0 up &&
		ip -n pod_$p route add default via $NODE || return 1
		# connrate opens thousands of connections: room for them, in
		# every path alike.
		ip netns exec pod_$p sysctl -qw net.ipv4.tcp_tw_reuse=1 \
			net.ipv4.ip_local_port_range="1024 65000" || return 1
	done
	ip netns exec pod_a ping -c 1 -W 5 $SRV >/dev/null
}

rxe_up() {
	local m
	for m in crc32_generic rdma_rxe rdma_ucm; do
		modload "$m" >/dev/null || return 1
	done
	rdma link add rxe0 type rxe netdev br0 || return 1
	for _ in {1..300}; do
		[[ $(rdma link show rxe0/1) == *" state ACTIVE "* ]] && return 0
		sleep 0.1
	done
	return 1
}

# counters PATH: what proves which path carried a cell, as one JSON object:
# tsor's counters of the client pod for shm and rdma, SMC's own counters of
# both pods (SMC-R successes and bytes, fallbacks) for smc.  Read before
# and after each cell; one process or two, as emulated processes are slow.
counters() {
	case $1 in
	shm|rdma)
		"$TSORCTL" -j stats show netns pod_a 2>/dev/null || echo '{}' ;;
	smc)
		# Both ends are in the node's namespace: its counters have
		# the client's and the server's side.
		printf '{"a":%s,"b":{}}\n' \
			"$("$bench/smcctl" stats 2>/dev/null || echo '{}')" ;;
	*)
		echo '{}' ;;
	esac
}

setup() {
	say "setting up: bridge, two pods, rxe0, tsor, smc"
	topology || { say "error: cannot build the topology"; return 1; }
	rxe_up || { missing rdma "rxe0 did not come up on br0"; missing smc "rxe0 did not come up on br0"; }

	# shellcheck disable=SC2086 # module parameters, one word each
	if ! insmod "$TSOR_KO" $ko_args; then
		missing shm "insmod tsor.ko failed"
		missing rdma "insmod tsor.ko failed"
	else
		"$TSORCTL" peer add 10.244.0.0/24 via $NODE >/dev/null || {
			missing shm "tsorctl peer add failed"
			missing rdma "tsorctl peer add failed"
		}
		if [ -z "${MISSING[rdma]:-}" ] && [[ " $paths " == *" rdma "* ]]; then
			local err
			if ! err=$("$TSORCTL" dev set ibdev rxe0 addr $NODE local-path rdma 2>&1); then
				missing rdma "tsorctl dev set ibdev rxe0 addr $NODE local-path rdma: $err"
			elif ! err=$("$TSORCTL" dev set local-path shm 2>&1); then
				missing shm "tsorctl dev set local-path shm: $err"
			else
				DEV_SET=1
			fi
		fi
	fi

	if [[ " $paths " != *" smc "* ]]; then
		: # not asked for
	elif [ -z "${MISSING[smc]:-}" ]; then
		local err
		if ! err=$(modload smc) || ! modload smc_diag >/dev/null; then
			missing smc "modprobe smc: $err"
		elif ! err=$("$bench/smcctl" ueid add $UEID 2>&1) ||
		     ! err=$("$bench/smcctl" pnet add $PNETID ib rxe0 1 2>&1) ||
		     ! err=$("$bench/smcctl" pnet add $PNETID eth lo 2>&1) ||
		     ! err=$("$bench/smcctl" pnet add $PNETID eth br0 2>&1); then
			missing smc "smcctl: $err"
		elif [ "$try_smc" = 1 ]; then
			smc_probe
		else
			missing smc "SMC-R over one rxe device to this same node hangs Debian's 6.1 (connect and smc_listen_work blocked in smc_wr_drain_cq; the guest then cannot power off): not tried without --try-smc-loopback"
		fi
	fi
	return 0
}

# smc_probe: one second of connrate over SMC on the node's address, under
# a time limit: SMC-R counts as missing unless its counters show SMC-R
# connections.  Over one rxe device talking to itself, Debian's 6.1 hangs
# SMC-R's link setup (the connect and smc_listen_work blocked in
# smc_wr_drain_cq): better one probe than every SMC cell hanging.
smc_probe() {
	local spid cpid before after n pre=(env "LD_PRELOAD=$bench/smc_preload.so")
	before=$("$bench/smcctl" stats 2>/dev/null) || before='{}'
	"${pre[@]}" "$bench/connrate" server -a $NODE -p 19999 >"$out/logs/smc-probe.server" 2>&1 &
	spid=$!
	if ! wait_listen 19999 "$spid"; then
		missing smc "the SMC probe's server never listened"
		kill "$spid" 2>/dev/null
		return
	fi
	# Not under timeout(1): a task blocked in the kernel cannot be killed,
	# and timeout would wait for it forever.
	"${pre[@]}" "$bench/connrate" client -a $NODE -p 19999 -t 1 \
		>"$out/logs/smc-probe.client" 2>&1 &
	cpid=$!
	local end=$((SECONDS + 40))
	while [ $SECONDS -lt $end ] && kill -0 "$cpid" 2>/dev/null; do
		sleep 0.2
	done
	if kill -0 "$cpid" 2>/dev/null; then
		missing smc "one SMC connection over rxe0 to this same node hung for 40 s (Debian's 6.1: connect blocked in smc_wr_drain_cq, see the console)"
		kill -9 "$cpid" "$spid" 2>/dev/null
		return
	fi
	after=$("$bench/smcctl" stats 2>/dev/null) || after='{}'
	n=$(jq -n --argjson a "$before" --argjson b "$after" \
		'($b.smcr_clnt_succ // 0) - ($a.smcr_clnt_succ // 0)')
	if [ "${n:-0}" -le 0 ]; then
		missing smc "SMC fell back to TCP in a probe: $after"
	fi
	kill "$spid" 2>/dev/null
}

# Whether tsorctl dev set works here: then each cell sets local-path.
DEV_SET=0

# path_on PATH: make new sockets of both ends take PATH.  PRE: the command
# prefix of both ends' programs; SNS, CNS: how to run a program in the
# server's and the client's namespace; DST: the server's address.
PRE=() SNS=() CNS=() DST=''
path_on() {
	PRE=(env) SNS=(ip netns exec pod_b) CNS=(ip netns exec pod_a) DST=$SRV
	if [ "$1" = smc ]; then
		SNS=() CNS=() DST=$NODE
	fi
	case $1 in
	tcp|smc)
		if [ -d /sys/module/tsor ]; then
			"$TSORCTL" netns disable pod_a && "$TSORCTL" netns disable pod_b ||
				return 1
		fi
		[ "$1" = smc ] && PRE=(env "LD_PRELOAD=$bench/smc_preload.so")
		;;
	shm|rdma)
		if [ "$DEV_SET" = 1 ]; then
			"$TSORCTL" dev set local-path "$1" >/dev/null || return 1
		fi
		"$TSORCTL" netns enable pod_a && "$TSORCTL" netns enable pod_b ||
			return 1
		;;
	esac
	return 0
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

# client WORKLOAD PORT LOG: runs the client, its output in LOG; prints the
# metrics as a JSON object, or fails.
client() {
	local wl=$1 port=$2 log=$3 limit=$((secs * 4 + 60)) n
	local run=(timeout -k 5 "$limit" "${CNS[@]}" "${PRE[@]}")
	case $wl in
	sockperf-*)
		local size=64
		[ "$wl" = sockperf-4k ] && size=4096
		"${run[@]}" sockperf ping-pong --tcp -i "$DST" -p "$port" -m $size \
			-t "$secs" --mps=max >"$log" 2>&1 || return 1
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
			>"$log" 2>&1 || return 1
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
		[ "$reqs" -ge 200 ] || reqs=200
		"${run[@]}" redis-benchmark -h "$DST" -p "$port" -c "$n" -P 1 \
			-n "$reqs" -t set,get --csv >"$log" 2>&1 || return 1
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
			"http://$DST:$port/" >"$log" 2>&1 || return 1
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
			>"$log" 2>&1 || return 1
		awk '/^connrate / {
			for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "{\"conn_s\":%s,\"conns\":%s,\"errors\":%s}\n", v["rate"], v["conns"], v["errors"]
			found = 1 }
			END { exit !found }' "$log"
		;;
	esac
}

# record REP WORKLOAD PATH METRICS BEFORE AFTER CPU_S ERROR: the cell as
# one JSON line, with the proof of its path computed from the counters
# BEFORE and AFTER it, and "ok" false with an error when it does not count:
# a tsor cell that paired no connection or whose bytes did not cross tsor,
# an SMC cell none of whose connections or bytes used SMC-R did not measure
# its path (connrate moves no byte: there connections alone count).
record() {
	jq -nc --argjson rep "$1" --arg wl "$2" --arg path "$3" \
		--argjson m "$4" --argjson a "$5" --argjson b "$6" \
		--argjson cpu "$7" --arg err "$8" --argjson secs "$secs" '
		def d(k): (($b.stats[k] // 0) - ($a.stats[k] // 0));
		def s(p; k): (($b[p][k] // 0) - ($a[p][k] // 0));
		def fb(p): [($b[p].fallbacks // {}) | to_entries[] |
			    {key: "\(p):\(.key)", value: (.value - ($a[p].fallbacks[.key] // 0))} |
			    select(.value > 0)] | from_entries;
		(if $path == "shm" or $path == "rdma" then
			{ conn_paired: d("conn_paired"),
			  shm_bytes: (d("shm_tx_bytes") + d("shm_rx_bytes")),
			  rdma_bytes: (d("rdma_tx_bytes") + d("rdma_rx_bytes")),
			  tcp_bytes: (d("tcp_tx_bytes") + d("tcp_rx_bytes")),
			  fallbacks: ([$b.stats // {} | to_entries[] |
				       select(.key | startswith("fallback_")) |
				       {key, value: (.value - ($a.stats[.key] // 0))} |
				       select(.value > 0)] | from_entries) }
		 elif $path == "smc" then
			{ smcr_conns: s("a"; "smcr_clnt_succ"),
			  smcr_bytes: (s("a"; "smcr_tx_bytes") + s("a"; "smcr_rx_bytes")),
			  fallbacks: (fb("a") + fb("b")) }
		 else {} end) as $proof |
		(if $err != "" then $err
		 elif ($path == "shm" or $path == "rdma") and $proof.conn_paired <= 0 then
			"no connection was paired: \($proof.fallbacks | tojson)"
		 elif ($path == "shm" or $path == "rdma") and $wl != "connrate" and
		      $proof[$path + "_bytes"] <= 0 then
			"no byte crossed the \($path) path: \($proof.fallbacks | tojson)"
		 elif $path == "smc" and $proof.smcr_conns <= 0 then
			"SMC fell back to TCP: \($proof.fallbacks | tojson)"
		 elif $path == "smc" and $wl != "connrate" and $proof.smcr_bytes <= 0 then
			"SMC fell back to TCP: \($proof.fallbacks | tojson)"
		 else null end) as $e |
		{rep: $rep, workload: $wl, path: $path, ok: ($e == null),
		 seconds: $secs, metrics: $m, proof: $proof, cpu_busy_s: $cpu,
		 error: $e}'
}

# One-line summary of METRICS (a flat JSON object) for the progress line.
summary() {
	local m=${1//[\{\}\"]/}
	m=${m//:/=}
	echo "${m//,/ }"
}

# cell REP WORKLOAD PATH PORT
cell() {
	local rep=$1 wl=$2 path=$3 port=$4 tag="$1.$2.$3"
	local log=$out/logs/$tag spid metrics=null err='' line
	local s0='{}' s1='{}' c0 c1 cpu=null

	if ! path_on "$path"; then
		err="cannot switch to path $path"
	else
		server_cmd "$wl" "$port"
		"${SNS[@]}" "${PRE[@]}" "${SRVCMD[@]}" >"$log.server" 2>&1 &
		spid=$!
		if ! wait_listen "$port" "$spid"; then
			err="the server never listened: $(tail -n 3 "$log.server" | tr '\n' ' ')"
		else
			# Node.js compiles its hot paths only after a while, and
			# under emulation that while is long: one second of load
			# first, whatever the path, not measured.
			if [ "$wl" = http ]; then
				timeout -k 5 60 "${CNS[@]}" "${PRE[@]}" wrk -t 1 -c 8 -d 1s \
					"http://$DST:$port/" >"$log.warmup" 2>&1
			fi
			s0=$(counters "$path") c0=$(cpu_jiffies)
			if ! metrics=$(client "$wl" "$port" "$log.client"); then
				metrics=null
				err="client failed: $(tail -n 3 "$log.client" | tr '\n' ' ')"
			fi
			c1=$(cpu_jiffies) s1=$(counters "$path")
			# In seconds, from USER_HZ (100) ticks.
			cpu=$(((c1 - c0) / 100)).$(printf '%02d' $(((c1 - c0) % 100)))
		fi
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
	fi
	line=$(record "$rep" "$wl" "$path" "$metrics" "$s0" "$s1" "$cpu" "$err")
	echo "$line" >>"$RAW"
	if [[ $line == *'"ok":true'* ]]; then
		say "$tag: $(summary "$metrics")"
	else
		[[ $line =~ \"error\":\"(.*)\"\} ]] && err=${BASH_REMATCH[1]//\\\"/\"}
		say "$tag: FAILED (${err:-cannot record the cell})"
	fi
}

write_env() {
	local m='{}' p
	for p in "${!MISSING[@]}"; do
		m=$(jq -c --arg p "$p" --arg r "${MISSING[$p]}" '. + {($p): $r}' <<<"$m")
	done
	jq -n --arg kernel "$(uname -r)" --argjson cpus "$(nproc)" \
		--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson reps "$reps" \
		--argjson secs "$secs" --arg paths "$paths" --arg wls "$workloads" \
		--argjson missing "$m" --arg cmdline "$(cat /proc/cmdline)" --arg ko "$ko_args" --arg tsor "$(git -C "$REPO" describe --always --dirty 2>/dev/null)" \
		'{topology: "intra", kernel: $kernel, cpus: $cpus, started: $date,
		  reps: $reps, seconds: $secs, paths: ($paths | split(" ")),
		  workloads: ($wls | split(" ")), missing: $missing, commit: $tsor,
		  cmdline: $cmdline, ko_args: $ko,
		  emulated: true}' >"$out/env.json"
}

main() {
	local run_paths=() p rep wl i k=0 total port=20000
	setup || { write_env; exit 1; }
	for p in $paths; do
		[ -n "${MISSING[$p]:-}" ] || run_paths+=("$p")
	done
	write_env
	# shellcheck disable=SC2086 # lists of words
	total=$((reps * $(set -- $workloads; echo $#) * ${#run_paths[@]}))
	say "measuring $total cells: ${run_paths[*]:-no path} x {$workloads} x $reps, $secs s each"
	for rep in $(seq "$reps"); do
		for wl in $workloads; do
			# Rotate the paths' order every repetition, so no path
			# always runs first or right after another.
			for i in "${!run_paths[@]}"; do
				p=${run_paths[$(((i + rep - 1) % ${#run_paths[@]}))]}
				k=$((k + 1)) port=$((port + 1))
				PROGRESS="[$k/$total] "
				cell "$rep" "$wl" "$p" "$port"
			done
		done
	done
	PROGRESS=''
	say "done"
}

main
