#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: bench/run.sh [options]     ('make bench')
#
# Measures tsor against plain TCP and SMC-R with unmodified programs, in
# QEMU guests booted by the test runner's machinery (selftests/lib/boot.sh),
# in two topologies:
#
#   intra  one guest (bench/guest.sh): two pod namespaces on a Linux
#          bridge, as a bridge CNI wires two pods of one node.  Paths: tcp,
#          tsor shm, tsor rdma (Soft-RoCE loopback, `tsorctl dev set
#          local-path rdma`) and SMC-R (over the same rxe0).
#   inter  two guests, nodes joined by a QEMU socket netdev over UDP
#          (boot_nodes; bench/inter.sh): a pod on each, over a VXLAN overlay as
#          flannel's vxlan backend wires them, rxe0 on each node's eth0.
#          Paths: tcp, tsor rdma and SMC-R (host-network, between the two
#          rxe0).  The client runs in node 1's pod, the server in node 2's.
#
# Paths are interleaved cell by cell in the same boot; ratios are only
# computed between paths measured in the same boot.  Every tsor and SMC-R
# cell is checked against the path's own counters: one whose counters say
# its bytes did not go over the path it claims is invalid, not a figure.
# Workloads: sockperf ping-pong 64 B and 4 KiB, iperf3 with 1 and 4
# streams, redis-benchmark SET/GET with 1 and 50 clients, Node.js HTTP
# 64 KiB under wrk, and connection setup rate (bench/connrate).
#
#   --topology T     intra, inter or both (default both)
#   --smoke          a short run for CI: one repetition, 2 s per cell, the
#                    workloads sockperf-64 iperf3-1 redis-1, the
#                    paths tcp shm rdma (SMC-R hangs on this kernel, see
#                    below); results stay in the run's directory
#   --reps N         repetitions of each cell (default 3)
#   --time S         seconds per cell (default 5)
#   --paths LIST     e.g. "tcp shm" (default "tcp shm rdma smc"; inter-node
#                    has no shm path and skips it)
#   --workloads LIST e.g. "sockperf-64 redis-1" (default: all)
#   --try-smc-loopback  try SMC-R over the one rxe device of the intra-node
#                    guest anyway (it hangs Debian's 6.1 kernel, as it
#                    does between the two nodes: the probe's client stays
#                    blocked in smc_wr_drain_cq, the path is marked
#                    missing and the guest reboots instead of powering off)
#   --ko-args ARGS   tsor.ko parameters, for diagnosis only (e.g.
#                    "ring_kb=64"); implies --no-readme
#   --results DIR    where the results go (default bench/results, or the
#                    run's directory with --smoke)
#   --no-readme      do not refresh README.md's performance section
#   -v               show the whole guest console
#   -h, --help       this help
#
# Writes RESULTS/<date>-<topology>.json (every raw figure),
# RESULTS/latest-<topology>.md (medians, spreads, ratios to TCP),
# RESULTS/latest.md (both topologies' latest tables) and
# RESULTS/<topology>-*.png (gnuplot), and after a full run into
# bench/results refreshes README.md (bench/readme.sh).  The run's logs are
# in bench/out/<time>/<topology>/ (bench/out/latest).  A run that fails
# part-way still reports what it measured and marks the rest missing.
#
# Exit status: 0 if every path of tsor's and TCP's could be set up and
# every cell of every path that could was measured and valid (SMC-R, the
# kernel's peer, may be missing: it is reported, not failed; no ratio ever
# fails a run), 1 if not, 2 on usage errors.  TSOR_SKIP_BUILD=1 skips the
# build, as for selftests/run.sh.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd -P)
usage() { sed -n '4,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'; }

smoke=0 reps='' secs='' topology=both'' paths='' workloads='' results='' readme=1 console=tests
ko_args='' guest_opts=()

while [ $# -gt 0 ]; do
	case $1 in
	--topology) topology=$2; shift 2 ;;
	--smoke) smoke=1; shift ;;
	--reps) reps=$2; shift 2 ;;
	--time) secs=$2; shift 2 ;;
	--paths) paths=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--ko-args) ko_args=$2 readme=0; shift 2 ;;
	--try-smc-loopback) guest_opts+=(--try-smc-loopback); shift ;;
	--no-readme) readme=0; shift ;;
	-v) console=all; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
if [ $smoke = 1 ]; then
	reps=${reps:-1} secs=${secs:-2}
	# Not connrate: tsor refuses part of its connections, at times all
	# of a short cell's few (README, Known problems), and its tsor cells
	# take the longest; the full run measures it.
	workloads=${workloads:-sockperf-64 iperf3-1 redis-1}
	# SMC-R hangs on Debian's 6.1 over Soft-RoCE, in either topology:
	# probing it costs a minute and a rebooted guest, and proves nothing.
	paths=${paths:-tcp shm rdma}
fi
reps=${reps:-3} secs=${secs:-5}
paths=${paths:-tcp shm rdma smc}
workloads=${workloads:-sockperf-64 sockperf-4k iperf3-1 iperf3-4 redis-1 redis-50 http connrate}
case $topology in
intra|inter) topologies=$topology ;;
both) topologies="intra inter" ;;
*) usage >&2; exit 2 ;;
esac
for n in "$reps" "$secs"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: not a positive number: $n" >&2; exit 2; }
done

mkdir -p "$bench/out"
out=$bench/out/$(date +%Y%m%d-%H%M%S)
n=1
while [ -e "$out" ]; do out=${out%.*}.$n n=$((n + 1)); done
mkdir -p "$out"
ln -sfn "$(basename "$out")" "$bench/out/latest"
if [ -z "$results" ]; then
	if [ $smoke = 1 ]; then results=$out; else results=$bench/results; fi
fi
mkdir -p "$results"
results=$(cd "$results" && pwd -P)

say() { printf '==> %s\n' "$*"; }
start=$SECONDS

say "checking packages and the guest kernel"
# shellcheck source=selftests/lib/setup.sh
source "$bench/../selftests/lib/setup.sh"
# shellcheck source=selftests/lib/boot.sh
source "$bench/../selftests/lib/boot.sh"
# What the benchmark runs, on top of what the tests need.
TSOR_PACKAGES=(sockperf iperf3 redis-server redis-tools wrk nodejs
	       gnuplot-nox python3)
tsor_setup_packages

if [ -n "${TSOR_SKIP_BUILD:-}" ]; then
	say "not building (TSOR_SKIP_BUILD is set)"
else
	say "building tsor.ko, tsorctl and bench/ (log: $out/build.log)"
	if ! { make -C "$REPO" -j"$(nproc)" KDIR="$KDIR" module tools &&
	       make -C "$bench"; } >"$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log" >&2
		echo "run.sh: the build failed" >&2
		exit 1
	fi
fi

# idle=halt: with -cpu max the guest idles in MWAIT, and a wake-up that only
# sets need_resched on a CPU polling in MWAIT never reaches an emulated vCPU:
# it sleeps on until its next timer tick (4 ms), which floored every
# ping-pong at a tick whatever the path.  HLT idles take an IPI.
# no_timer_check: on a loaded host an emulated guest may miss the kernel's
# boot-time check of its timer interrupt and panic ("IO-APIC + timer
# doesn't work"), as one smoke did here.
export BOOT_APPEND="idle=halt no_timer_check${BOOT_APPEND:+ $BOOT_APPEND}"
export BOOT_CONSOLE=$console
stamp=$(date -u +%Y-%m-%d-%H%M)
status=0

# limit NCELLS: the guests' time limit.  Each cell: its time, starting the
# server (Node.js takes seconds under emulation) and the tools around it;
# then booting, setting up and probing.
limit() { echo $((300 + $1 * (secs * 2 + 40))); }
words() { wc -w <<<"$1"; }

# report TOPOLOGY DIR GUEST_STATUS GUEST_RESULT
report() {
	local rc=0
	say "$1-node report: $results/latest-$1.md"
	python3 "$bench/report.py" --raw "$2/raw.jsonl" --env "$2/env.json" \
		--topology "$1" --guest-status "$3" --guest-result "$4" \
		--json "$results/$stamp-$1.json" --md "$results/latest-$1.md" \
		--plots "$results" || rc=$?
	[ $rc = 0 ] || status=1
}

run_intra() {
	local dir=$out/intra rc=0 ncells cmd
	mkdir -p "$dir"
	ncells=$((reps * $(words "$paths") * $(words "$workloads")))
	say "intra-node: booting one guest: $ncells cells at most, ${secs} s each, limit $(limit "$ncells") s (console: $dir/console.log)"
	cmd=$(printf '%q ' "$bench/guest.sh" --out "$dir" --reps "$reps" \
		--time "$secs" --paths "$paths" --workloads "$workloads" \
		--ko-args "$ko_args" "${guest_opts[@]}")
	boot_guest "$dir" "$(limit "$ncells")" "$cmd" || rc=$?
	report intra "$dir" "$rc" "${BOOT_RESULT:-}"
}

run_inter() {
	local dir=$out/inter rc=0 ncells cmd p ipaths=''
	for p in $paths; do
		[ "$p" = shm ] || ipaths+="${ipaths:+ }$p"
	done
	mkdir -p "$dir"
	ncells=$((reps * $(words "$ipaths") * $(words "$workloads")))
	say "inter-node: booting two nodes: $ncells cells at most, ${secs} s each, limit $(limit "$ncells") s (consoles: $dir/node1/console.log, $dir/node2/console.log)"
	cmd=$(printf '%q ' "$bench/inter.sh" --reps "$reps" --time "$secs" \
		--paths "$ipaths" --workloads "$workloads" --ko-args "$ko_args")
	# A datagram link: over the default TCP stream, the host's Nagle and
	# delayed ACKs held rxe's small frames back (p50 about 10x higher).
	BOOT_LINK=dgram boot_nodes "$dir" "$(limit "$ncells")" "$cmd" || rc=$?
	report inter "$dir/node1" "$rc" \
		"node 1: ${BOOT_RESULTS[1]}; node 2: ${BOOT_RESULTS[2]}"
}

for t in $topologies; do
	"run_$t"
done

# latest.md: the latest table of each topology, this run's or an earlier
# one's (each says when it was measured).
{
	echo "# tsor benchmark"
	for t in intra inter; do
		[ -f "$results/latest-$t.md" ] || continue
		echo
		sed -e 's/^# /## /' -e 's/^## \([A-Z]\)/### \1/' "$results/latest-$t.md"
	done
} >"$results/latest.md"
if [ $smoke = 0 ] && [ $readme = 1 ] && [ "$results" = "$bench/results" ]; then
	"$bench/readme.sh"
fi
say "finished in $((SECONDS - start)) s"
exit $status
