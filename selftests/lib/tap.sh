# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# TAP for test scripts.  A test script sources this and reports with:
#
#   ok DESC                      a pass
#   fail DESC [REASON]           a failure; REASON becomes '# ' lines
#   skip DESC REASON             a pass that tested nothing
#   check DESC CMD [ARGS...]     passes iff CMD exits 0; else shows its output
#   check_fail DESC CMD [ARGS...] passes iff CMD exits non-zero
#   check_eq DESC EXPECTED ACTUAL
#   check_match DESC REGEX STRING  (bash =~, extended regex)
#   check_ge DESC MIN ACTUAL     integers
#   diag TEXT                    '# TEXT', one per line
#
# Each prints "ok N - NAME: DESC" or "not ok N - NAME: DESC", NAME being the
# script's path under selftests/ without .sh (tests/00-guest), and on a node
# of the two-node topology its number too (tests2/10-rdma-link [node1]).  N
# counts across every script of a run, in $TSOR_OUT/.tap-counter.
#
# They return 1 on a failure and 0 otherwise: under set -e a failed check
# ends the script, as the steps after it usually depend on it; write
# 'check ... || true' to go on, or 'if check ...; then' to branch.  CMD runs
# in a subshell and may be a function, which must return its status itself
# (set -e does not apply inside it).

# Lines that show the kernel in trouble, for grep -E and bash =~.
TSOR_KERNEL_PROBLEMS='Kernel panic|WARNING:|BUG:|Oops|general protection|soft lockup|hard LOCKUP|hung_task|blocked for more than|list_add corruption|list_del corruption|list corruption|refcount_t:|UBSAN|KASAN|Call Trace'

TAP_NAME=$(basename "$(dirname "$0")")/$(basename "$0" .sh)
# A script run by hand, outside any run, numbers from 1 on its own.
TAP_COUNTER=${TSOR_OUT:+$TSOR_OUT/.tap-counter}
TAP_COUNTER=${TAP_COUNTER:-/tmp/tsor-tap-counter.$$}

diag() {
	local line
	while IFS= read -r line; do
		printf '# %s\n' "$line"
	done <<<"$*"
}

# _tap_result "ok"|"not ok" DESC [DIRECTIVE]
_tap_result() {
	local n
	n=$(cat "$TAP_COUNTER" 2>/dev/null || echo 0)
	n=$((n + 1))
	echo "$n" >"$TAP_COUNTER"
	# '#' would start a TAP directive.
	printf '%s %d - %s%s: %s%s\n' "$1" "$n" "$TAP_NAME" \
		"${TSOR_NODE:+ [node$TSOR_NODE]}" "${2//#/\\#}" "${3:+ # $3}"
}

ok() { _tap_result ok "$1"; }

fail() {
	_tap_result "not ok" "$1"
	[ -z "${2:-}" ] || diag "$2"
	return 1
}

skip() { _tap_result ok "$1" "SKIP $2"; }

check() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "$desc"
	else
		fail "$desc" "$(printf '%s: exit status %d' "$*" "$rc"; [ -z "$out" ] || printf '\n%s' "$out")"
	fi
}

check_fail() {
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		ok "$desc"
	else
		fail "$desc" "$(printf '%s: succeeded, expected a failure' "$*"; [ -z "$out" ] || printf '\n%s' "$out")"
	fi
}

check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "$(printf 'expected: %s\n     got: %s' "$2" "$3")"
	fi
}

check_match() {
	if [[ $3 =~ $2 ]]; then
		ok "$1"
	else
		fail "$1" "$(printf '  regex: %s\nnot in: %s' "$2" "$3")"
	fi
}

check_ge() {
	local int='^-?[0-9]+$'
	if ! [[ $2 =~ $int && $3 =~ $int ]]; then
		fail "$1" "not integers: '$2', '$3'"
	elif [ "$3" -ge "$2" ]; then
		ok "$1"
	else
		fail "$1" "expected at least $2, got $3"
	fi
}

# kernel_problems FILE: print FILE's lines that show the kernel in trouble,
# the first 20 of them; false if there are none.
kernel_problems() {
	local lines
	lines=$(grep -aE "$TSOR_KERNEL_PROBLEMS" "$1") || return 1
	head -n 20 <<<"$lines"
	[ "$(wc -l <<<"$lines")" -le 20 ] ||
		echo "... and $(($(wc -l <<<"$lines") - 20)) more lines"
}
