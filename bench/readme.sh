#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: bench/readme.sh [LATEST.md]
#
# Refreshes README.md's performance section from the benchmark's latest
# results (default bench/results/latest.md): everything between the lines
# '<!-- bench:begin -->' and '<!-- bench:end -->' is replaced by that file,
# its title dropped and its headings moved two levels down, plus a pointer
# to the plots.  The rest of README.md is left as it is.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd -P)
latest=${1:-$repo/bench/results/latest.md}
readme=$repo/README.md
begin='<!-- bench:begin -->' end='<!-- bench:end -->'

[ -f "$latest" ] || { echo "readme.sh: no $latest (run bench/run.sh first)" >&2; exit 1; }
if [ "$(grep -cxF "$begin" "$readme")" != 1 ] || [ "$(grep -cxF "$end" "$readme")" != 1 ]; then
	echo "readme.sh: README.md must hold each marker line once: $begin $end" >&2
	exit 1
fi

body=$(mktemp)
trap 'rm -f "$body" "$readme.tmp"' EXIT
{
	sed -e '1{/^# /d}' -e 's/^## /#### /' "$latest"
	dir=$(dirname "$latest")
	for png in latency throughput; do
		if [ -f "$dir/$png.png" ]; then
			printf '![%s](%s)\n' "$png" "${dir#"$repo"/}/$png.png"
		fi
	done
} >"$body"
awk -v begin="$begin" -v end="$end" -v body="$body" '
	$0 == begin { print; while ((getline line < body) > 0) print line; skip = 1; next }
	$0 == end { skip = 0 }
	!skip { print }' "$readme" >"$readme.tmp"
mv "$readme.tmp" "$readme"
trap - EXIT
rm -f "$body"
echo "readme.sh: README.md's performance section now shows $latest"
