#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/inter.sh [options]: the benchmark's inter-node side.  bench/run.sh
# boots two nodes with boot_nodes (selftests/lib/boot.sh), both running
# this script; node 1 runs the clients and conducts, node 2 runs the
# servers when node 1 asks (selftests/lib/nodes.sh's node_put and node_get
# carry the requests and answers).  Node 1 appends one JSON line per cell
# to OUT/raw.jsonl (OUT: its TSOR_OUT) as soon as it is measured.
#
#   --reps N          repetitions of every cell (default 3)
#   --time S          seconds per cell (default 5)
#   --paths LIST      paths, space separated (default "tcp rdma smc")
#   --workloads LIST  workloads (default: all, as bench/guest.sh)
#   --ko-args ARGS    tsor.ko parameters, for diagnosis only
#
# Topology, as flannel's vxlan backend wires pods of two nodes (node N =
# 1, 2; the nodes' eth0 is 192.168.100.N, see nodes.sh):
#
#   flannel.1   VXLAN VNI 1 over eth0 (UDP 8472), 10.244.N.0/32, no
#               learning: the other node's VTEP is a permanent neighbour
#               and forwarding entry; 10.244.P.0/24 (P: the other node)
#               is routed through it
#   cni0        bridge 10.244.N.1/24 (MTU 1450, as flannel's subnet.env)
#   pod         eth0 10.244.N.2/24, a veth to cni0, default via .1
#   rxe0        Soft-RoCE on eth0
#
# Paths: tcp (neither pod enabled: the bytes cross the VXLAN overlay),
# rdma (both pods enabled, tsorctl peer add for both pod CIDRs: the bytes
# cross tsor's RDMA link between the two rxe0), smc (SMC-R between the two
# rxe0, both ends of every program under LD_PRELOAD=bench/smc_preload.so).
# SMC-R runs host-network, between the nodes' own addresses: on 6.1 rxe
# lives in init_net only, so pods cannot use SMC-R (see bench/guest.sh).
# Each path is probed first (one second of sockperf ping-pong, its counters checked
# as a cell's are); a path that cannot be set up on either node, or fails
# its probe, is recorded in env.json as missing, with the reason.
set -uo pipefail

bench=$(cd "$(dirname "$0")" && pwd -P)
REPO=${REPO:-$(cd "$bench/.." && pwd -P)}

reps=3 secs=5 paths="tcp rdma smc" ko_args=''
workloads="sockperf-64 sockperf-4k iperf3-1 iperf3-4 redis-1 redis-50 http connrate"
while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=$2; shift 2 ;;
	--time) secs=$2; shift 2 ;;
	--paths) paths=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--ko-args) ko_args=$2; shift 2 ;;
	*) echo "inter.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
out=${TSOR_OUT:?inter.sh runs in a node booted by boot_nodes}
mkdir -p "$out/logs" || exit 1
RAW=$out/raw.jsonl
: >"$RAW"

# shellcheck source=bench/cells.sh
source "$bench/cells.sh"
# shellcheck source=selftests/lib/nodes.sh
source "$REPO/selftests/lib/nodes.sh"

me=$TSOR_NODE peer=$NODE_PEER
pod_ip() { echo "10.244.$1.2"; }
PNETID=TSORBENCH UEID=TSOR-BENCH
# A request to node 2 may come after a whole cell of node 1's.
WAIT=$((secs * 4 + 300))

if [ "$me" = 1 ]; then
	PROGRESS=''
	say() { printf 'bench: %s%s\n' "$PROGRESS" "$*"; }
else
	say() { printf 'bench(node 2): %s\n' "$*"; }
fi

# overlay: this node's side of the flannel-like VXLAN overlay and its pod.
overlay() {
	local m mac
	for m in bridge veth vxlan; do
		modload "$m" >/dev/null || { say "modprobe $m failed"; return 1; }
	done
	sysctl -qw net.ipv4.ip_forward=1 || return 1
	ip link add flannel.1 type vxlan id 1 local "${NODE_IP4[me]}" dev eth0 \
		dstport 8472 nolearning || return 1
	ip addr add "10.244.$me.0/32" dev flannel.1 &&
	ip link set flannel.1 up || return 1
	# The other node's VTEP address, as flannel keeps it in the node's
	# annotations.
	node_put vtep "$(cat /sys/class/net/flannel.1/address)" || return 1

	ip link add cni0 type bridge &&
	ip link set cni0 mtu 1450 &&
	ip addr add "10.244.$me.1/24" dev cni0 &&
	ip link set cni0 up || return 1
	ip netns add pod &&
	ip link add vpod type veth peer name eth0 netns pod &&
	ip link set vpod mtu 1450 master cni0 up &&
	ip -n pod link set lo up &&
	ip -n pod link set eth0 mtu 1450 &&
	ip -n pod addr add "$(pod_ip "$me")/24" dev eth0 &&
	ip -n pod link set eth0 up &&
	ip -n pod route add default via "10.244.$me.1" || return 1
	# connrate opens thousands of connections: room for them, in every
	# path alike (the nodes' own namespace too, for SMC-R).
	local ns
	for ns in pod ''; do
		${ns:+ip netns exec "$ns"} sysctl -qw net.ipv4.tcp_tw_reuse=1 \
			net.ipv4.ip_local_port_range="1024 65000" || return 1
	done

	mac=$(node_get vtep) || return 1
	ip neigh replace "10.244.$peer.0" lladdr "$mac" dev flannel.1 nud permanent &&
	bridge fdb append "$mac" dev flannel.1 dst "${NODE_IP4[peer]}" &&
	ip route add "10.244.$peer.0/24" via "10.244.$peer.0" dev flannel.1 onlink
}

# setup: the overlay, rxe0, tsor, SMC-R on this node.  Returns 1 if the
# overlay cannot be built: then nothing can be measured.
setup() {
	local err
	say "setting up: VXLAN overlay, a pod, rxe0, tsor, smc"
	overlay || { say "error: cannot build the overlay"; return 1; }
	if ! err=$(node_rxe_up 2>&1); then
		missing rdma "node $me: rxe0 did not come up on eth0: $err"
		missing smc "node $me: rxe0 did not come up on eth0: $err"
	fi
	# shellcheck disable=SC2086 # module parameters, one word each
	if ! err=$(insmod "$TSOR_KO" $ko_args 2>&1); then
		missing rdma "node $me: insmod tsor.ko: $err"
	elif [ -z "${MISSING[rdma]:-}" ]; then
		# The first connection to a node waits for its link to be
		# dialled, which under emulation may take longer than the
		# default 3 s (as in selftests/tests2/20-pair-rdma.sh); the
		# probe dials it before any cell.
		echo 15000 >/sys/module/tsor/parameters/pair_timeout_ms
		if ! err=$("$TSORCTL" dev set ibdev rxe0 addr "${NODE_IP4[me]}" 2>&1) ||
		   ! err=$("$TSORCTL" peer add 10.244.1.0/24 via "${NODE_IP4[1]}" 2>&1) ||
		   ! err=$("$TSORCTL" peer add 10.244.2.0/24 via "${NODE_IP4[2]}" 2>&1); then
			missing rdma "node $me: tsorctl: $err"
		fi
	fi
	if [[ " $paths " == *" smc "* ]] && [ -z "${MISSING[smc]:-}" ]; then
		if ! err=$(modload smc) || ! err=$(modload smc_diag); then
			missing smc "node $me: modprobe smc: $err"
		elif ! err=$("$bench/smcctl" ueid add $UEID 2>&1) ||
		     ! err=$("$bench/smcctl" pnet add $PNETID ib rxe0 1 2>&1) ||
		     ! err=$("$bench/smcctl" pnet add $PNETID eth eth0 2>&1); then
			missing smc "node $me: smcctl: $err"
		fi
	fi
	return 0
}

# counters PATH: this node's side of what proves a cell's path (record in
# cells.sh): its pod's tsor counters for rdma, its SMC counters for smc.
counters() {
	case $1 in
	rdma) "$TSORCTL" -j stats show netns pod 2>/dev/null || echo '{}' ;;
	smc) "$bench/smcctl" stats 2>/dev/null || echo '{}' ;;
	*) echo '{}' ;;
	esac
}

# path_on PATH: make this node's new sockets take PATH; PRE, SNS, CNS and
# DST as in bench/guest.sh.
PRE=() SNS=() CNS=() DST=''
path_on() {
	PRE=(env) SNS=(ip netns exec pod) CNS=(ip netns exec pod) DST=$(pod_ip 2)
	case $1 in
	tcp|smc)
		if [ -d /sys/module/tsor ]; then
			"$TSORCTL" netns disable pod || return 1
		fi
		if [ "$1" = smc ]; then
			SNS=() CNS=() DST=${NODE_IP4[2]}
			PRE=(env "LD_PRELOAD=$bench/smc_preload.so")
		fi
		;;
	rdma)
		"$TSORCTL" netns enable pod || return 1
		;;
	esac
}

# Node 2: serve node 1's requests until it says "end" or is gone.  Each
# request K is "cmd.K" put by node 1, answered by "res.K":
#   missing              this node's missing paths, as JSON
#   start PATH WL PORT   switch to PATH, start WL's server: "ok COUNTERS"
#                        or "error WHY"
#   stop                 stop it: "ok COUNTERS"
#   end [stuck]          leave (stuck: as hard_poweroff, see cells.sh)
SPID=''
serve() {
	local k=1 req res
	while req=$(node_get "cmd$k" "$WAIT"); do
		# shellcheck disable=SC2086 # a request is words
		set -- $req
		case $1 in
		missing) res=$(missing_json) ;;
		start)
			local log=$out/logs/$k.$3.$2
			res=''
			path_on "$2" || res="error node 2 cannot switch to path $2"
			if [ -z "$res" ]; then
				server_cmd "$3" "$4"
				"${SNS[@]}" "${PRE[@]}" "${SRVCMD[@]}" >"$log.server" 2>&1 &
				SPID=$!
				if wait_listen "$4" "$SPID"; then
					res="ok $(counters "$2")"
				else
					res="error the server never listened: $(tail -n 3 "$log.server" | tr '\n' ' ')"
				fi
			fi
			;;
		stop)
			res="ok $(counters "$2")"
			[ -z "$SPID" ] || stop_server "$SPID"
			SPID=''
			;;
		end)
			node_put "res$k" ok
			# Node 1's client got stuck in SMC-R: so did, as a
			# rule, this node's side of the connection.
			[ "${2:-}" != stuck ] || hard_poweroff 0
			return 0
			;;
		*) res="error unknown request $1" ;;
		esac
		node_put "res$k" "$res" || return 1
		k=$((k + 1))
	done
	say "node 1 stopped asking: $req"
	return 1
}

# Node 1: ask node 2 (see serve), the answer in ANSWER.
K=1 ANSWER=''
ask() {
	node_put "cmd$K" "$*" || return 1
	ANSWER=$(node_get "res$K" "$WAIT")
	local rc=$?
	K=$((K + 1))
	return $rc
}

# cell REP WORKLOAD PATH PORT [FILE]: as bench/guest.sh's, the server on
# node 2.  Returns 1 if the cell does not count, 2 if its client hung in
# the kernel (then the path is missing from then on), 3 if it ran out of
# time, 4 if node 2 stopped answering.
cell() {
	local rep=$1 wl=$2 path=$3 port=$4 file=${5:-$RAW} tag="$1.$2.$3"
	local log=$out/logs/$tag err='' rc=0
	local a0='{}' a1='{}' b0='{}' b1='{}' c0 c1 cpu=null

	METRICS=null ATTEMPTS=0
	if ! path_on "$path"; then
		err="node 1 cannot switch to path $path"
	elif ! ask start "$path" "$wl" "$port"; then
		err="node 2 did not answer"
		rc=4
	elif [[ $ANSWER != ok* ]]; then
		err=${ANSWER#error }
	else
		b0=${ANSWER#ok }
		warmup "$wl" "$port" "$log"
		a0=$(counters "$path") c0=$(cpu_jiffies)
		measure "$wl" "$port" "$log.client" || rc=$?
		c1=$(cpu_jiffies) a1=$(counters "$path")
		cpu=$(cpu_seconds "$c0" "$c1")
		if [ $rc = 2 ]; then
			err="the client hung in the kernel: $HUNG(see node 1's console)"
			missing "$path" "$tag: $err"
			STUCK=1
		elif [ $rc = 3 ]; then
			err="the client did not finish within its time limit ($((secs * 4 + 60)) s): $(tail -n 3 "$log.client" | tr '\n' ' ')"
		elif [ $rc != 0 ]; then
			err="client failed: $(tail -n 3 "$log.client" | tr '\n' ' ')"
		fi
		if ! ask stop "$path"; then
			[ -n "$err" ] || err="node 2 did not answer"
			rc=4
		else
			b1=${ANSWER#ok }
		fi
	fi
	[[ $b0 == \{* ]] || b0='{}'
	[[ $b1 == \{* ]] || b1='{}'
	emit "$file" "$(record "$rep" "$wl" "$path" "$METRICS" \
		"{\"a\":$a0,\"b\":$b0}" "{\"a\":$a1,\"b\":$b1}" "$cpu" "$err")" "$tag" ||
		return $((rc > 1 ? rc : 1))
}

probe() {
	local secs=1 CLIENT_LIMIT=40 rc=0
	cell 0 sockperf-64 "$1" $((19900 + PROBES)) "$out/probes.jsonl" || rc=$?
	PROBES=$((PROBES + 1))
	[ $rc = 0 ] && return 0
	missing "$1" "its probe failed: $(jq -r '.error // "?"' <<<"$(tail -n 1 "$out/probes.jsonl")" 2>/dev/null)"
	return $rc
}
PROBES=0

STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
write_env() {
	jq -n --arg kernel "$(uname -r)" --argjson cpus "$(nproc)" \
		--arg date "$STARTED" --argjson reps "$reps" \
		--argjson secs "$secs" --arg paths "$paths" --arg wls "$workloads" \
		--argjson missing "$(missing_json)" --arg cmdline "$(cat /proc/cmdline)" \
		--arg ko "$ko_args" --arg tsor "$(git -C "$REPO" describe --always --dirty 2>/dev/null)" \
		'{topology: "inter", kernel: $kernel, cpus: $cpus, nodes: 2,
		  started: $date, reps: $reps, seconds: $secs,
		  paths: ($paths | split(" ")),
		  workloads: ($wls | split(" ")), missing: $missing, commit: $tsor,
		  cmdline: $cmdline, ko_args: $ko, emulated: true}' >"$out/env.json"
}

# rxe_stats WHEN: rxe0's counters (packets, retries, sequence errors...)
# into the logs, to tell where time went on the RDMA path.
rxe_stats() {
	rdma statistic show link rxe0/1 >"$out/logs/rxe0-stats.$1" 2>&1
}

node2() {
	local rc=0
	setup || rc=1
	node_barrier setup "$WAIT" || return 1
	[ $rc = 0 ] || return 1
	rxe_stats before
	serve
	rc=$?
	rxe_stats after
	return $rc
}

node1() {
	local run_paths=() p rep wl i k=0 total port=20000 rc=0 m
	setup || rc=1
	node_barrier setup "$WAIT" || { write_env; return 1; }
	[ $rc = 0 ] || { write_env; ask end; return 1; }
	if ! ip netns exec pod ping -c 2 -i 0.3 -W 5 "$(pod_ip 2)" >"$out/logs/ping" 2>&1; then
		say "error: node 1's pod cannot reach node 2's over the overlay"
		write_env
		ask end
		return 1
	fi
	if ask missing && m=$(jq -c . <<<"$ANSWER" 2>/dev/null); then
		for p in $(jq -r 'keys[]' <<<"$m"); do
			missing "$p" "$(jq -r --arg p "$p" '.[$p]' <<<"$m")"
		done
	else
		say "error: node 2 did not say what it set up"
		write_env
		return 1
	fi
	rxe_stats before
	for p in $paths; do
		[ -n "${MISSING[$p]:-}" ] && continue
		say "probing path $p"
		probe "$p" || [ $? != 4 ] || { write_env; return 1; }
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
			for i in "${!run_paths[@]}"; do
				p=${run_paths[$(((i + rep - 1) % ${#run_paths[@]}))]}
				k=$((k + 1)) port=$((port + 1))
				PROGRESS="[$k/$total] "
				[ -z "${MISSING[$p]:-}" ] || continue
				rc=0
				cell "$rep" "$wl" "$p" "$port" || rc=$?
				[ $rc = 0 ] || write_env
				if [ $rc = 4 ]; then
					say "error: node 2 stopped answering"
					return 1
				fi
			done
		done
	done
	PROGRESS=''
	say "done"
	rxe_stats after
	ask end ${STUCK:+stuck}
	[ -z "$STUCK" ] || hard_poweroff 0
}
STUCK=''


if [ "$me" = 1 ]; then node1; else node2; fi
