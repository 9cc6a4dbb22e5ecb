#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh: the module's static checks.
#
#   checkpatch  checkpatch.pl --strict over kmod/ and uapi/
#   W=1         a W=1 build shows no compiler warning
#   sparse      a C=2 build shows no sparse warning
#
# Run directly (make lint) it prints a report and exits non-zero on any
# finding.  Sourced (selftests/host/00-lint.sh) it only defines lint_checkpatch,
# lint_w1 and lint_sparse, which print their findings and return non-zero on
# any, to be run with tap.sh's check.
#
# The builds happen in a scratch copy of the tree: a fresh copy compiles
# every file, so no warning hides behind an up-to-date object, and the
# repo's own tsor.ko is left as 'make' built it.
set -euo pipefail

# shellcheck source=selftests/lib/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/setup.sh"

# checkpatch.pl and the two files it reads come from the packaged kernel
# source; unpacking them takes a while, so once per source version.
lint_checkpatch_script() {
	local ver dir tarball=/usr/src/linux-source-6.1.tar.xz
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1) || return 1
	dir=$TSOR_CACHE/checkpatch/$ver
	if [ ! -f "$dir/scripts/const_structs.checkpatch" ]; then
		mkdir -p "$dir" &&
		tar -xJf "$tarball" -C "$dir" --strip-components=1 \
			linux-source-6.1/scripts/checkpatch.pl \
			linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch ||
			return 1
	fi
	echo "$dir/scripts/checkpatch.pl"
}

lint_checkpatch() {
	local script files
	script=$(lint_checkpatch_script) || { echo "cannot unpack checkpatch.pl"; return 1; }
	files=$(cd "$REPO" && shopt -s nullglob && echo kmod/*.c kmod/*.h uapi/linux/*.h)
	[ -n "$files" ] || { echo "no source files"; return 1; }
	# checkpatch's own exit status would count the findings we keep on
	# purpose (selftests/checkpatch.allow); judge its findings instead.
	local out findings
	# shellcheck disable=SC2086 # the file names have no blanks
	out=$(cd "$REPO" && perl "$script" --no-tree --strict --terse -f $files) || true
	findings=$(grep -E '^[^ ]+:[0-9]+: (ERROR|WARNING|CHECK):' <<<"$out" |
		grep -vEf <(grep -v '^#' "$REPO/selftests/checkpatch.allow") || true)
	if [ -n "$findings" ]; then
		echo "$findings"
		return 1
	fi
	grep -c . <<<"$out" >/dev/null || { echo "checkpatch printed nothing"; return 1; }
}

# lint_build MAKE-ARGS...: build a scratch copy; print the build's output
# with the scratch path turned back into the repo's.
lint_build() {
	local tree rc=0
	tree=$(mktemp -d) || return 1
	tsor_copy_tree "$tree" &&
		make -C "$KDIR" M="$tree" "$@" modules 2>&1 | sed "s|$tree/||g" ||
		rc=1
	rm -rf "$tree"
	return $rc
}

# lint_findings REGEX: the build output on stdin must match no line;
# print the lines that do, and what the build said around them.
lint_findings() {
	local out
	out=$(cat)
	if grep -qiE "$1" <<<"$out"; then
		grep -vE '^  (CC|LD|MODPOST|CHECK|BTF)|^make' <<<"$out"
		return 1
	fi
}

lint_w1() {
	local out
	out=$(lint_build W=1) || { echo "$out"; return 1; }
	lint_findings 'warning:' <<<"$out"
}

lint_sparse() {
	local out
	out=$(lint_build C=2) || { echo "$out"; return 1; }
	lint_findings ': (warning|error):' <<<"$out"
}

lint_main() {
	local name fn out failed=0
	for name in checkpatch:lint_checkpatch W=1:lint_w1 sparse:lint_sparse; do
		fn=${name#*:}
		if out=$("$fn" 2>&1); then
			echo "${name%%:*}: ok"
		else
			echo "${name%%:*}: FAILED"
			echo "    ${out//$'\n'/$'\n    '}"
			failed=1
		fi
	done
	return $failed
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	lint_main
fi
