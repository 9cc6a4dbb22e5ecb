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
# node's local-path set to shm or rdma with `tsorctl dev set local-path`
# before each cell), smc (both ends of every program under
# LD_PRELOAD=bench/smc_preload.so).  Each path is probed first (one second
# of sockperf ping-pong, its counters checked as a cell's are, which also dials the
# RDMA link before anything is measured); a path that cannot be set up or
# fails its probe is recorded in env.json as missing, with the reason, and
# its cells skipped.  Every cell's path is proven from the counters
# (record in bench/cells.sh).
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

# shellcheck source=bench/cells.sh
source "$bench/cells.sh"

NODE=10.244.0.1 CLI=10.244.0.2 SRV=10.244.0.3
PNETID=TSORBENCH UEID=TSOR-BENCH

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

# counters PATH: what proves which path carried a cell, as one JSON object
# {"a": the client's side, "b": the server's} (see record in cells.sh):
# tsor's counters of each pod for shm and rdma, SMC's own counters (SMC-R
# successes and bytes, fallbacks) for smc, whose two ends are both in the
# node's namespace, so "a" has them both.  Read before and after each cell.
counters() {
	case $1 in
	shm|rdma)
		printf '{"a":%s,"b":%s}\n' \
			"$("$TSORCTL" -j stats show netns pod_a 2>/dev/null || echo '{}')" \
			"$("$TSORCTL" -j stats show netns pod_b 2>/dev/null || echo '{}')" ;;
	smc)
		printf '{"a":%s,"b":{}}\n' \
			"$("$bench/smcctl" stats 2>/dev/null || echo '{}')" ;;
	*)
		echo '{"a":{},"b":{}}' ;;
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
		# The first connection over RDMA waits for the loopback link
		# to be dialled, which under emulation on a loaded host may
		# take longer than the default 3 s (as in the two-node tests);
		# the probe dials it before any cell.
		echo 15000 >/sys/module/tsor/parameters/pair_timeout_ms
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
			: # probed with the others
		else
			missing smc "SMC-R over one rxe device to this same node hangs Debian's 6.1 (connect and smc_listen_work blocked in smc_wr_drain_cq; the guest then cannot power off): not tried without --try-smc-loopback"
		fi
	fi
	return 0
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

# cell REP WORKLOAD PATH PORT [FILE]: one cell, appended to FILE (default
# RAW).  Returns 1 if it does not count, 2 if its client hung in the
# kernel: then the path is marked missing, as nothing more can run over it.
cell() {
	local rep=$1 wl=$2 path=$3 port=$4 file=${5:-$RAW} tag="$1.$2.$3"
	local log=$out/logs/$tag spid err='' rc=0
	local s0='{}' s1='{}' c0 c1 cpu=null

	METRICS=null ATTEMPTS=0
	if ! path_on "$path"; then
		err="cannot switch to path $path"
	else
		server_cmd "$wl" "$port"
		"${SNS[@]}" "${PRE[@]}" "${SRVCMD[@]}" >"$log.server" 2>&1 &
		spid=$!
		if ! wait_listen "$port" "$spid"; then
			err="the server never listened: $(tail -n 3 "$log.server" | tr '\n' ' ')"
		else
			warmup "$wl" "$port" "$log"
			s0=$(counters "$path") c0=$(cpu_jiffies)
			measure "$wl" "$port" "$log.client" || rc=$?
			c1=$(cpu_jiffies) s1=$(counters "$path")
			cpu=$(cpu_seconds "$c0" "$c1")
			if [ $rc = 2 ]; then
				err="the client hung in the kernel: $HUNG(see the console)"
				missing "$path" "$tag: $err"
				STUCK=1
			elif [ $rc = 3 ]; then
				err="the client did not finish within its time limit ($((secs * 4 + 60)) s): $(tail -n 3 "$log.client" | tr '\n' ' ')"
			elif [ $rc != 0 ]; then
				err="client failed: $(tail -n 3 "$log.client" | tr '\n' ' ')"
			fi
		fi
		stop_server "$spid"
	fi
	emit "$file" "$(record "$rep" "$wl" "$path" "$METRICS" "$s0" "$s1" "$cpu" "$err")" "$tag" ||
		return $((rc == 2 ? 2 : 1))
}

# probe PATH: one second of sockperf ping-pong over PATH, its counters
# checked as a cell's are; the path is missing if that fails.  It also dials the RDMA
# link (or SMC-R's link group) before any cell is measured.
probe() {
	local secs=1 CLIENT_LIMIT=40
	cell 0 sockperf-64 "$1" $((19900 + ${#PROBED[@]})) "$out/probes.jsonl" && return 0
	missing "$1" "its probe failed: $(jq -r '.error // "?"' <<<"$(tail -n 1 "$out/probes.jsonl")" 2>/dev/null)"
}
PROBED=()

write_env() {
	local m
	m=$(missing_json)
	jq -n --arg kernel "$(uname -r)" --argjson cpus "$(nproc)" \
		--arg date "$STARTED" --argjson reps "$reps" \
		--argjson secs "$secs" --arg paths "$paths" --arg wls "$workloads" \
		--argjson missing "$m" --arg cmdline "$(cat /proc/cmdline)" --arg ko "$ko_args" --arg tsor "$(git -C "$REPO" describe --always --dirty 2>/dev/null)" \
		'{topology: "intra", kernel: $kernel, cpus: $cpus, started: $date,
		  reps: $reps, seconds: $secs, paths: ($paths | split(" ")),
		  workloads: ($wls | split(" ")), missing: $missing, commit: $tsor,
		  cmdline: $cmdline, ko_args: $ko,
		  emulated: true}' >"$out/env.json"
}

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)

main() {
	local run_paths=() p rep wl i k=0 total port=20000
	setup || { write_env; exit 1; }
	for p in $paths; do
		[ -n "${MISSING[$p]:-}" ] || { say "probing path $p"; PROBED+=("$p"); probe "$p"; }
	done
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
				# A path whose client hung is skipped from then on.
				[ -z "${MISSING[$p]:-}" ] || continue
				cell "$rep" "$wl" "$p" "$port" || write_env
			done
		done
	done
	PROGRESS=''
	say "done"
}

# Set when a client got stuck in the kernel: the guest cannot power off.
STUCK=''
main
[ -z "$STUCK" ] || hard_poweroff 0
