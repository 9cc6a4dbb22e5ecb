#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: selftests/run.sh [options] [TEST...]
#
# The one entry point of the tests ('make check', CI).  Installs what is
# missing, builds, runs the host-side checks (selftests/host/*.sh), then boots
# ONE guest that runs the guest tests (selftests/tests/*.sh), and prints their
# merged TAP, ending with 'N passed, N failed'.  Exits 0 only when every test
# passed and the guest ran to the end.
#
#   TEST, -t TEST  run only these guest tests: a file of selftests/tests,
#                  with or without .sh or its number (00-guest, guest)
#   --no-host      skip the host-side checks
#   --timeout S    time limit of each test file, in seconds (default 300;
#                  the guest as a whole gets at most an hour); with --demo,
#                  of the whole demo (default 900)
#   --demo         boot the guest running selftests/demo.sh instead, and
#                  show its output
#   -v             show the whole guest console, boot included
#   -h, --help     this help
#
# Results go to selftests/out/<time>/ (selftests/out/latest is the last
# run): results.tap, console.log (the guest's serial console), dmesg.txt,
# build.log.
#
# Environment: TSOR_CACHE, where downloads and unpacked files are kept
# (default .cache); TSOR_SKIP_BUILD=1, for developers, skips the build and
# tests what was built before.
set -euo pipefail

selftests=$(cd "$(dirname "$0")" && pwd -P)
usage() { sed -n '4,/^set /s/^# \{0,1\}//p' "$0"; }

tests=() host=1 demo=0 per_test='' console=tests
while [ $# -gt 0 ]; do
	case $1 in
	-t) tests+=("$2"); shift 2 ;;
	--no-host) host=0; shift ;;
	--timeout) per_test=$2; shift 2 ;;
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

# resolve NAME: the test file it names.
resolve() {
	local f n
	n=$(basename "$1")
	for f in "$selftests/tests/$n" "$selftests/tests/$n.sh" \
		 "$selftests"/tests/[0-9][0-9]-"$n".sh; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	echo "run.sh: no test '$1' in selftests/tests" >&2
	return 1
}
if [ ${#tests[@]} -eq 0 ]; then
	tests=("$selftests"/tests/*.sh)
else
	for i in "${!tests[@]}"; do
		tests[i]=$(resolve "${tests[i]}")
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

# Each test file may take its whole time limit, booting takes seconds; but
# never more than an hour, to leave CI (90 minutes in all) time to report.
guest_timeout=$((120 + ${#tests[@]} * ${per_test:-300}))
[ $guest_timeout -le 3600 ] || guest_timeout=3600
echo "==> booting the guest for ${#tests[@]} test file(s)" \
	"(limit ${guest_timeout} s, console: $out/console.log)"
cmd=$(printf '%q ' "$selftests/guest/harness.sh" --no-plan \
	--timeout "${per_test:-300}" "${tests[@]}")
rc=0
BOOT_CONSOLE=$console boot_guest "$out" "$guest_timeout" "$cmd" || rc=$?
# 1 is the harness reporting failed tests: it still ran to the end.
if [ $rc -le 1 ]; then
	TAP_NAME=guest emit ok "ran to the end"
else
	TAP_NAME=guest emit fail "ran to the end" "$BOOT_RESULT"
fi

# The guest checks its dmesg, unless it died first: the console has it too.
if problems=$(tr -d '\r' <"$out/console.log" | grep -aE '^\[ *[0-9]+\.[0-9]+\] ' |
	      kernel_problems /dev/stdin); then
	TAP_NAME=guest emit fail "console shows no kernel problem" "$problems"
else
	TAP_NAME=guest emit ok "console shows no kernel problem"
fi

finish
