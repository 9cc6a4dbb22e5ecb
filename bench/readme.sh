#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: bench/readme.sh [LATEST.md]
#
# Refreshes README.md's performance section from the benchmark's latest
# results (default bench/results/latest.md, one section per topology):
# everything between the lines '<!-- bench:begin -->' and
# '<!-- bench:end -->' is replaced by that file, its title dropped and its
# headings moved one level down, plus each topology's plots after its
# table.  The rest of README.md is left as it is.
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
dir=$(dirname "$latest")
# plots TOPOLOGY: its plots' lines.
plots() {
	local png
	for png in latency throughput; do
		if [ -f "$dir/$1-$png.png" ]; then
			printf '![%s-node %s](%s)\n\n' "$1" "$png" "${dir#"$repo"/}/$1-$png.png"
		fi
	done
}
{
	topo=''
	while IFS= read -r line; do
		case $line in
		'# '*) continue ;;
		'## '*)
			[ -z "$topo" ] || plots "$topo"
			topo=$(sed -n 's/^## tsor benchmark: \([a-z]*\)-node.*/\1/p' <<<"$line")
			printf '#%s\n' "$line"
			;;
		'### '*) printf '#%s\n' "$line" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$latest"
	[ -z "$topo" ] || plots "$topo"
} >"$body"
awk -v begin="$begin" -v end="$end" -v body="$body" '
	$0 == begin { print; while ((getline line < body) > 0) print line; skip = 1; next }
	$0 == end { skip = 0 }
	!skip { print }' "$readme" >"$readme.tmp"
mv "$readme.tmp" "$readme"
trap - EXIT
rm -f "$body"
echo "readme.sh: README.md's performance section now shows $latest"
