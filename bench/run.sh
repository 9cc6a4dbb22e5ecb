#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: bench/run.sh [options]     ('make bench')
#
# Measures tsor against plain TCP and SMC-R with unmodified programs, in one
# QEMU guest booted by the test runner's machinery (selftests/lib/boot.sh):
# two pod namespaces on a Linux bridge, as a bridge CNI wires two pods of
# one node (bench/guest.sh).  Paths, interleaved cell by cell in the same
# boot: tcp, tsor shm, tsor rdma (Soft-RoCE loopback) and SMC-R (over the
# same rxe0, driven by bench/smc_preload.so).  Workloads: sockperf
# ping-pong 64 B and 4 KiB, iperf3 with 1 and 4 streams, redis-benchmark
# SET/GET with 1 and 50 clients, Node.js HTTP 64 KiB under wrk, and
# connection setup rate (bench/connrate).
#
#   --smoke          a short run for CI: one repetition, 3 s per cell;
#                    results stay in the run's directory
#   --reps N         repetitions of each cell (default 3)
#   --time S         seconds per cell (default 5)
#   --paths LIST     e.g. "tcp shm" (default "tcp shm rdma smc")
#   --workloads LIST e.g. "sockperf-64 redis-1" (default: all)
#   --try-smc-loopback  try SMC-R over the one rxe device anyway (it hangs
#                    Debian's 6.1 kernel, and the guest then runs into its
#                    time limit instead of powering off)
#   --ko-args ARGS   tsor.ko parameters, for diagnosis only (e.g.
#                    "ring_kb=64"); implies --no-readme
#   --results DIR    where the results go (default bench/results, or the
#                    run's directory with --smoke)
#   --no-readme      do not refresh README.md's performance section
#   -v               show the whole guest console
#   -h, --help       this help
#
# Writes RESULTS/<date>-intra.json (every raw figure), RESULTS/latest.md
# (medians, spreads, ratios to TCP) and RESULTS/*.png (gnuplot), and after a
# full run into bench/results refreshes README.md (bench/readme.sh).  The
# run's logs are in bench/out/<time>/ (bench/out/latest).  A run that fails
# part-way still reports what it measured and marks the rest missing.
#
# Exit status: 0 if every cell of every path the guest could set up was
# measured (a path it could not set up is reported, not failed), 1 if not,
# 2 on usage errors.  TSOR_SKIP_BUILD=1 skips the build, as for
# selftests/run.sh.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd -P)
usage() { sed -n '4,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'; }

smoke=0 reps='' secs='' paths='' workloads='' results='' readme=1 console=tests
ko_args='' guest_opts=()

while [ $# -gt 0 ]; do
	case $1 in
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
	reps=${reps:-1} secs=${secs:-3}
fi
reps=${reps:-3} secs=${secs:-5}
paths=${paths:-tcp shm rdma smc}
workloads=${workloads:-sockperf-64 sockperf-4k iperf3-1 iperf3-4 redis-1 redis-50 http connrate}
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

# Each cell: its time, starting the server (Node.js takes seconds under
# emulation) and the tools around it; then booting and setting up.
ncells=$((reps * $(wc -w <<<"$paths") * $(wc -w <<<"$workloads")))
limit=$((300 + ncells * (secs * 2 + 30)))
say "booting the guest: $ncells cells at most, ${secs} s each, limit $limit s (console: $out/console.log)"
cmd=$(printf '%q ' "$bench/guest.sh" --out "$out" --reps "$reps" \
	--time "$secs" --paths "$paths" --workloads "$workloads" \
	--ko-args "$ko_args" "${guest_opts[@]}")
rc=0
# idle=halt: with -cpu max the guest idles in MWAIT, and a wake-up that only
# sets need_resched on a CPU polling in MWAIT never reaches an emulated vCPU:
# it sleeps on until its next timer tick (4 ms), which floored every
# ping-pong at a tick whatever the path.  HLT idles take an IPI.
BOOT_APPEND="idle=halt${BOOT_APPEND:+ $BOOT_APPEND}" BOOT_CONSOLE=$console \
	boot_guest "$out" "$limit" "$cmd" || rc=$?

say "report: $results"
stamp=$(date -u +%Y-%m-%d-%H%M)
report_rc=0
python3 "$bench/report.py" --raw "$out/raw.jsonl" --env "$out/env.json" \
	--guest-status "$rc" --guest-result "${BOOT_RESULT:-}" \
	--json "$results/$stamp-intra.json" --md "$results/latest.md" \
	--plots "$results" || report_rc=$?
if [ $smoke = 0 ] && [ $readme = 1 ] && [ "$results" = "$bench/results" ]; then
	"$bench/readme.sh"
fi
say "finished in $((SECONDS - start)) s"
[ "$rc" = 0 ] && [ "$report_rc" = 0 ]
