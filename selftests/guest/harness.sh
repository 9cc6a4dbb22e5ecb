#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# harness.sh [--timeout S] [--no-dmesg] [--no-plan] [TEST.sh...]
#
# Runs each test script (default: selftests/tests/*.sh, in order) as
# 'bash TEST.sh' under a timeout (default 300 s each), and appends their TAP
# to $TSOR_OUT/results.tap (TSOR_OUT: a new /tmp/tsor-out.* if unset) while
# showing it.  A script that times out, or
# exits non-zero without having failed a test, or runs no test, counts as
# one more failure.  Then checks that dmesg shows no kernel problem, saving
# it to $TSOR_OUT/dmesg.txt (--no-dmesg: skip that, for host-side checks),
# and ends with '1..N' and 'N passed, N failed' (--no-plan: leave that to
# the caller, who merges more TAP).  Exits non-zero on any failure.
#
# On a node of the two-node topology (TSOR_NODE set: selftests/lib/nodes.sh)
# both nodes run the same list: each test file starts when both reached it,
# each node tells the other when it left one, and the dmesg check waits
# until both finished them all (or the other node stopped its guest on
# purpose: node_expect_down in selftests/lib/nodes.sh).
#
# Meant for the guest (selftests/run.sh boots one, or two nodes, to run it);
# run.sh also runs the host-side checks with it.
set -euo pipefail

selftests=$(cd "$(dirname "$0")/.." && pwd -P)
per_test=300 dmesg=1 plan=1
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) per_test=$2; shift 2 ;;
	--no-dmesg) dmesg=0; shift ;;
	--no-plan) plan=0; shift ;;
	-h|--help) sed -n '4,/^set /s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) echo "harness.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
if [ $# -eq 0 ]; then
	set -- "$selftests"/tests/*.sh
fi

if [ -z "${TSOR_OUT:-}" ]; then
	TSOR_OUT=$(mktemp -d /tmp/tsor-out.XXXXXX)
	export TSOR_OUT
fi
# shellcheck source=selftests/lib/tap.sh
source "$selftests/lib/tap.sh"
if [ -n "${TSOR_NODE:-}" ]; then
	# shellcheck source=selftests/lib/nodes.sh
	source "$selftests/lib/nodes.sh"
	# How long a node waits for the other to join it: that one may still
	# be in the test file before, until its time limit.
	join_timeout=$((per_test + 60))
fi
TAP_NAME=harness
passed=0 failed=0

# Report a point of the harness's own (ok/fail/skip ...) and count it.
point() {
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}

# run_test FILE SCOPE: SCOPE names it in the nodes' exchange.
run_test() {
	local f=$1 name log rc points fails err
	name=$(basename "$(dirname "$f")")/$(basename "$f" .sh)
	diag "$name"
	if [ -n "${TSOR_NODE:-}" ]; then
		export NODE_SCOPE=$2
		if ! err=$(node_barrier start "$join_timeout" 2>&1); then
			TAP_NAME=$name point fail "both nodes start it" "$err"
			node_exit "not started" || true
			return
		fi
	fi
	log=$(mktemp)
	# Non-TAP output becomes diagnostics, so results.tap stays TAP.
	{
		rc=0
		timeout -k 10 "$per_test" bash "$f" </dev/null 2>&1 || rc=$?
		echo "$rc" >"$log.rc"
	} | sed -u -E '/^(ok|not ok) [0-9]|^#/!s/^/# /' | tee "$log"
	rc=$(cat "$log.rc")
	[ -z "${TSOR_NODE:-}" ] || node_exit "status $rc" || true
	points=$(grep -cE '^(ok|not ok) [0-9]' "$log" || true)
	fails=$(grep -c '^not ok ' "$log" || true)
	rm -f "$log" "$log.rc"
	passed=$((passed + points - fails))
	failed=$((failed + fails))

	TAP_NAME=$name
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		point fail "timed out after $per_test s"
	elif [ "$rc" != 0 ] && [ "$fails" = 0 ]; then
		point fail "exited with status $rc"
	elif [ "$rc" != 0 ]; then
		diag "$name exited with status $rc"
	elif [ "$points" = 0 ]; then
		point fail "ran no test"
	fi
	TAP_NAME=harness
}

main() {
	local f i=0 problems err
	for f in "$@"; do
		i=$((i + 1))
		run_test "$f" "$i.$(basename "$f" .sh)"
	done
	# Neither node powers off while the other may still need it; a node
	# that stopped its guest on purpose (node_expect_down) needs nothing.
	if [ -n "${TSOR_NODE:-}" ]; then
		export NODE_SCOPE=harness
		if node_peer_down_expected; then
			diag "node $NODE_PEER stopped its guest on purpose in" \
				"$(cat "$TSOR_EXCHANGE/expected-down.node$NODE_PEER")"
		else
			err=$(node_barrier end "$join_timeout" 2>&1) ||
				point fail "both nodes reach the end" "$err"
		fi
	fi
	if [ $dmesg = 1 ]; then
		dmesg >"$TSOR_OUT/dmesg.txt"
		if problems=$(kernel_problems "$TSOR_OUT/dmesg.txt"); then
			point fail "dmesg clean" "$problems"
		else
			point ok "dmesg clean"
		fi
	fi
	if [ $plan = 1 ]; then
		echo "1..$(cat "$TAP_COUNTER" 2>/dev/null || echo 0)"
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" = 0 ]
}

main "$@" | tee -a "$TSOR_OUT/results.tap"
