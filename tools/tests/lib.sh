# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# What tools/tests/run.sh and cni.sh share: run from tools/, a scratch
# directory, and pass/fail counting.  BAD_PREFIX names the program in
# failure lines.

cd "$(dirname "$0")/.." || exit 1
CC=${CC:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

ok() {
	pass=$((pass + 1))
}

# bad WHAT [DETAIL...]: one failed check.
bad() {
	fail=$((fail + 1))
	echo "FAIL: ${BAD_PREFIX:-}$1"
	shift
	printf '  %s\n' "$@"
}

# summary: the counts; succeeds only when nothing failed.
summary() {
	echo "== $pass passed, $fail failed"
	[ "$fail" = 0 ]
}
