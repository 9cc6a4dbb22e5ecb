#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: selftests/run.sh [options] [TEST...]
#
# The one entry point of the tests ('make check', CI).  Installs what is
# missing, builds, runs the host-side checks (selftests/host/*.sh), then boots
# ONE guest that runs the guest tests (selftests/tests/*.sh), then two guests
# at once, nodes joined by a network, that both run each two-node test
# (selftests/tests2/*.sh, see selftests/lib/nodes.sh), then one guest
# booted with ipv6.disable=1 (selftests/tests-noipv6/*.sh), and prints their
# merged TAP, ending with 'N passed, N failed'.  Exits 0 only when every test
# passed and every guest ran to the end.
#
#   TEST, -t TEST  run only these guest tests: a file of selftests/tests,
#                  tests2 or tests-noipv6, with or without .sh or its number
#                  (00-guest, guest, tests2/rdma-link)
#   --no-host      skip the host-side checks
#   --timeout S    time limit of each test file, in seconds (default 300;
#                  the guest as a whole gets at most an hour, the two nodes
#                  20 minutes); with --demo, of the whole demo (default 900)
#   --path P       the transports the data-path tests (tests/6x-*.sh,
#                  tests2/2x-*.sh) run over, each file once per transport:
#                  shm, rdma or shm,rdma (default: DATA_PATHS_DEFAULT in
#                  selftests/lib/data.sh)
#   --soak         the long churn, fuzzing and fault runs instead of the
#                  suite: tests/70-churn with 200 namespace cycles and
#                  10,000 connections, tests/80-nlfuzz with 20,000 requests
#                  per case (CHURN_NETNS, CHURN_CONNS, NLFUZZ_ITERATIONS in
#                  the environment override the counts, here or in any
#                  run), and tests2/30-link-flap, which the suite leaves out
#                  (after its 20 s outage RDMA between the two rxe devices
#                  has not come back; README, Known problems)
#   --demo         boot the guest running selftests/demo.sh instead, and
#                  show its output
#   -v             show the whole guest console, boot included
#   -h, --help     this help
#
# Results go to selftests/out/<time>/ (selftests/out/latest is the last
# run): results.tap, console.log (the guest's serial console), dmesg.txt,
# build.log; node1/ and node2/ hold the nodes' own.
#
# Environment: TSOR_CACHE, where downloads and unpacked files are kept
# (default .cache); TSOR_SKIP_BUILD=1, for developers, skips the build and
# tests what was built before.
set -euo pipefail

selftests=$(cd "$(dirname "$0")" && pwd -P)
usage() { sed -n '4,/^set /s/^# \{0,1\}//p' "$0"; }

tests=() host=1 demo=0 per_test='' console=tests data_paths='' soak=0
while [ $# -gt 0 ]; do
	case $1 in
	-t) tests+=("$2"); shift 2 ;;
	--no-host) host=0; shift ;;
	--timeout) per_test=$2; shift 2 ;;
	--path) data_paths=$2; shift 2 ;;
	--soak) soak=1; shift ;;
	--demo) demo=1; shift ;;
	-v) console=all; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) tests+=("$1"); shift ;;
	esac
done
if [ -n "$per_test" ] && ! [[ $per_test =~ ^[1-9][0-9]*$ ]]; then
	echo "run.sh: --timeout wants seconds, not '$per_test'" >&2
	exit 2
fi

if [ -n "$data_paths" ] &&
   ! [[ $data_paths =~ ^(shm|rdma)(,(shm|rdma))*$ ]]; then
	echo "run.sh: --path wants shm, rdma or shm,rdma, not '$data_paths'" >&2
	exit 2
fi
# Test files only --soak (or naming them) runs.
soak_only=(tests2/30-link-flap)
if [ $soak = 1 ]; then
	: "${CHURN_NETNS:=200}" "${CHURN_CONNS:=10000}" "${NLFUZZ_ITERATIONS:=20000}"
	[ ${#tests[@]} -gt 0 ] || tests=(70-churn 80-nlfuzz "${soak_only[@]}")
	host=0 per_test=${per_test:-7200}
fi
# What the guests' commands start with: the data paths when asked for,
# and the scale of the churn and fuzzing tests when set.
guest_env=''
[ -z "$data_paths" ] || guest_env="TSOR_DATA_PATHS=$data_paths "
for v in CHURN_NETNS CHURN_CONNS NLFUZZ_ITERATIONS; do
	if [ -n "${!v:-}" ]; then
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || {
			echo "run.sh: $v wants a positive count, not '${!v}'" >&2
			exit 2
		}
		guest_env+="$v=${!v} "
	fi
done

# resolve NAME: the test file it names, in the directory it names if any.
resolve() {
	local d f n dirs=(tests tests2 tests-noipv6)
	n=$(basename "$1")
	d=$(basename "$(dirname "$1")")
	[[ " ${dirs[*]} " != *" $d "* ]] || dirs=("$d")
	for d in "${dirs[@]}"; do
		for f in "$selftests/$d/$n" "$selftests/$d/$n.sh" \
			 "$selftests/$d"/[0-9][0-9]-"$n".sh; do
			[ -f "$f" ] && { echo "$f"; return 0; }
		done
	done
	echo "run.sh: no test '$1' in selftests/tests, tests2 or tests-noipv6" >&2
	return 1
}
# tests: the single guest's; tests2: the two nodes'; tests_noipv6: a
# guest booted with ipv6.disable=1.
tests2=() tests_noipv6=()
if [ ${#tests[@]} -eq 0 ]; then
	tests=("$selftests"/tests/*.sh)
	tests2=()
	for f in "$selftests"/tests2/*.sh; do
		[ -f "$f" ] || continue
		[[ " ${soak_only[*]} " == *" tests2/$(basename "$f" .sh) "* ]] ||
			tests2+=("$f")
	done
	tests_noipv6=("$selftests"/tests-noipv6/*.sh)
	[ -f "${tests_noipv6[0]}" ] || tests_noipv6=()
else
	names=("${tests[@]}") tests=()
	for name in "${names[@]}"; do
		f=$(resolve "$name")
		case $f in
		"$selftests"/tests2/*) tests2+=("$f") ;;
		"$selftests"/tests-noipv6/*) tests_noipv6+=("$f") ;;
		*) tests+=("$f") ;;
		esac
	done
fi

# One directory per run, named by its start time.
mkdir -p "$selftests/out"
base=$selftests/out/$(date +%Y%m%d-%H%M%S) out=$base n=1
while [ -e "$out" ]; do
	out=$base.$n n=$((n + 1))
done
mkdir "$out"
ln -sfn "$(basename "$out")" "$selftests/out/latest"
export TSOR_OUT=$out
results=$out/results.tap

echo "==> checking packages and the guest kernel"
# shellcheck source=selftests/lib/setup.sh
source "$selftests/lib/setup.sh"
# shellcheck source=selftests/lib/boot.sh
source "$selftests/lib/boot.sh"

# emit TAPFN ARGS...: a test point of run.sh's own, shown and kept; the
# final count has it, so a failure does not stop the run here.
emit() { "$@" | tee -a "$results" || true; }

# The plan and the closing line, over everything results.tap holds.
finish() {
	local passed failed
	passed=$(grep -c '^ok ' "$results" || true)
	failed=$(grep -c '^not ok ' "$results" || true)
	echo "==> results in $out"
	{
		echo "1..$(cat "$TAP_COUNTER" 2>/dev/null || echo 0)"
		echo "$passed passed, $failed failed"
	} | tee -a "$results"
	[ "$failed" = 0 ]
}

if [ -n "${TSOR_SKIP_BUILD:-}" ]; then
	echo "==> not building (TSOR_SKIP_BUILD is set)"
else
	echo "==> building: make KDIR=$KDIR (log: $out/build.log)"
	if make -C "$REPO" -j"$(nproc)" KDIR="$KDIR" >"$out/build.log" 2>&1; then
		TAP_NAME=build emit ok "make"
	else
		TAP_NAME=build emit fail "make" "$(tail -n 40 "$out/build.log")"
		finish || exit 1
	fi
fi

if [ $demo = 1 ]; then
	echo "==> booting the guest for selftests/demo.sh (console: $out/console.log)"
	BOOT_CONSOLE="command" boot_guest "$out" "${per_test:-900}" \
		"$(printf '%q' "$selftests/demo.sh")"
	exit
fi

if [ $host = 1 ]; then
	echo "==> host checks: selftests/host"
	"$selftests/guest/harness.sh" --no-dmesg --no-plan --timeout "${per_test:-300}" \
		"$selftests"/host/*.sh || true
fi

# guest_limit N CAP: time for a guest running N test files.  Each file may
# take its whole time limit, booting takes seconds; but never more than CAP,
# to leave CI (90 minutes in all) time to report.
guest_limit() {
	local t=$((120 + $1 * ${per_test:-300}))
	echo $((t < $2 ? t : $2))
}

# merge_tap FILE: a guest's TAP, numbered from 1 there, renumbered after
# what results.tap holds and appended to it.
merge_tap() {
	[ -f "$1" ] || return 0
	awk -v n="$(cat "$TAP_COUNTER" 2>/dev/null || echo 0)" \
	    -v counter="$TAP_COUNTER" '
		/^(ok|not ok) [0-9]+ / { sub(/[0-9]+/, ++n) }
		{ print }
		END { print n >counter }' "$1" | tee -a "$results"
}

# guest_end RC RESULT CONSOLE: run.sh's own points on a guest that stopped
# (boot_guest's status and BOOT_RESULT), as guest [nodeN] on a node.
guest_end() {
	local problems
	# 1 is the harness reporting failed tests: it still ran to the end.
	if [ "$1" -le 1 ]; then
		TAP_NAME=guest emit ok "ran to the end"
	else
		TAP_NAME=guest emit fail "ran to the end" "$2"
	fi
	# The guest checks its dmesg, unless it died first: the console has it too.
	if problems=$(tr -d '\r' <"$3" | grep -aE '^\[ *[0-9]+\.[0-9]+\] ' |
		      kernel_problems /dev/stdin); then
		TAP_NAME=guest emit fail "console shows no kernel problem" "$problems"
	else
		TAP_NAME=guest emit ok "console shows no kernel problem"
	fi
}

if [ ${#tests[@]} -gt 0 ]; then
	guest_timeout=$(guest_limit ${#tests[@]} $((soak ? 14400 : 3600)))
	echo "==> booting the guest for ${#tests[@]} test file(s)" \
		"(limit ${guest_timeout} s, console: $out/console.log)"
	cmd=$guest_env$(printf '%q ' "$selftests/guest/harness.sh" --no-plan \
		--timeout "${per_test:-300}" "${tests[@]}")
	rc=0
	BOOT_CONSOLE=$console boot_guest "$out" "$guest_timeout" "$cmd" || rc=$?
	guest_end "$rc" "$BOOT_RESULT" "$out/console.log"
fi

if [ ${#tests2[@]} -gt 0 ]; then
	guest_timeout=$(guest_limit ${#tests2[@]} 1200)
	echo "==> booting two nodes for ${#tests2[@]} two-node test file(s)" \
		"(limit ${guest_timeout} s, consoles: $out/node[12]/console.log)"
	cmd=$guest_env$(printf '%q ' "$selftests/guest/harness.sh" --no-plan \
		--timeout "${per_test:-300}" "${tests2[@]}")
	BOOT_CONSOLE=$console boot_nodes "$out" "$guest_timeout" "$cmd" || true
	echo "==> two-node results"
	for n in 1 2; do
		merge_tap "$out/node$n/results.tap"
		TSOR_NODE=$n guest_end "${BOOT_RCS[n]}" "${BOOT_RESULTS[n]}" \
			"$out/node$n/console.log"
	done
fi

# Some clusters boot their nodes with IPv6 disabled: tsor must load there
# and take over IPv4 alone.
if [ ${#tests_noipv6[@]} -gt 0 ]; then
	o=$out/noipv6
	mkdir -p "$o"
	echo "==> booting a guest with ipv6.disable=1 for ${#tests_noipv6[@]}" \
		"test file(s) (console: $o/console.log)"
	cmd=$guest_env$(printf '%q ' "$selftests/guest/harness.sh" --no-plan \
		--timeout "${per_test:-300}" "${tests_noipv6[@]}")
	rc=0
	BOOT_APPEND=ipv6.disable=1 BOOT_CONSOLE=$console \
		boot_guest "$o" "$(guest_limit ${#tests_noipv6[@]} 900)" "$cmd" || rc=$?
	merge_tap "$o/results.tap"
	guest_end "$rc" "$BOOT_RESULT" "$o/console.log"
fi

finish
