#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: tsor-agent.sh [--once]
#        tsor-agent.sh --render < NODES.json
#
# Keeps this node's tsor peer table (pod CIDR -> node address) in step with
# the cluster's nodes.  Every TSOR_AGENT_INTERVAL seconds it lists the nodes
# ('kubectl get nodes -o json'), renders the peer file, and when that
# differs from the one last applied, applies it with 'tsorctl peer sync'
# (one atomic replace of the whole table) and only then renames it over
# TSOR_PEER_FILE, which so always holds what the kernel was last given.
# It also syncs when the kernel's table no longer has as many entries as
# that file (the module was reloaded, or the table was edited by hand).
# A failed round leaves the table as it was; TSOR_AGENT_RETRIES failed
# rounds in a row end the agent with status 1.
#
#   --once     one round that syncs in any case, then exit: 0 if it
#              synced
#   --render   print the peer file for the NodeList on standard input, and
#              exit 1, printing nothing, if it holds invalid data
#   -h, --help this help
#
# Each node gives one line per pod CIDR (.spec.podCIDRs, or the older
# .spec.podCIDR), "CIDR via ADDR  # NODE", ADDR being the node's
# TSOR_RDMA_ADDR_ANNOTATION annotation, or else its first InternalIP.  A
# node without either is skipped, as its pods then cannot be paired; an
# address or CIDR that does not parse, or a CIDR claimed by two nodes, fails
# the whole round.
#
# Environment (defaults):
#   TSOR_AGENT_INTERVAL        seconds between rounds (30)
#   TSOR_AGENT_RETRIES         failed rounds in a row before exiting (5)
#   TSOR_PEER_FILE             the peer file last applied (/run/tsor/peers)
#   TSOR_RDMA_ADDR_ANNOTATION  node annotation with its RDMA address
#                              (tsor.io/rdma-addr)
#   TSOR_NODE_SELECTOR         label selector of the nodes running tsor
#                              (tsor.io/enabled=true; empty: every node)
set -euo pipefail

interval=${TSOR_AGENT_INTERVAL:-30}
retries=${TSOR_AGENT_RETRIES:-5}
peer_file=${TSOR_PEER_FILE:-/run/tsor/peers}
annotation=${TSOR_RDMA_ADDR_ANNOTATION:-tsor.io/rdma-addr}
selector=${TSOR_NODE_SELECTOR-tsor.io/enabled=true}

usage() { sed -n '4,/^set /s/^# \{0,1\}//p' "$0"; }
log() { printf 'tsor-agent: %s\n' "$*" >&2; }

valid_ip4() {
	local octet='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
	[[ $1 =~ ^($octet\.){3}$octet$ ]]
}

# Groups of 1 to 4 hex digits: 8 of them, or at most 7 around one "::";
# an IPv4 tail stands for the last two.
valid_ip6() {
	local a=${1,,} n=0 part g groups halves
	if [[ $a == *.* ]]; then
		valid_ip4 "${a##*:}" || return 1
		a=${a%:*}:0:0
	fi
	halves=("$a")
	if [[ $a == *::* ]]; then
		halves=("${a%%::*}" "${a#*::}")
		[[ ${halves[1]} != *::* ]] || return 1
	fi
	for part in "${halves[@]}"; do
		[ -n "$part" ] || continue
		[[ $part != :* && $part != *: ]] || return 1
		IFS=: read -r -a groups <<<"$part"
		for g in "${groups[@]}"; do
			[[ $g =~ ^[0-9a-f]{1,4}$ ]] || return 1
			n=$((n + 1))
		done
	done
	if [ ${#halves[@]} -eq 2 ]; then
		[ $n -le 7 ]
	else
		[ $n -eq 8 ]
	fi
}

valid_addr() { valid_ip4 "$1" || valid_ip6 "$1"; }

# ADDR/LEN; host bits are left to tsorctl, which refuses them.
valid_cidr() {
	local addr=${1%/*} len=${1##*/}
	[[ $1 == */* && $len =~ ^(0|[1-9][0-9]{0,2})$ ]] || return 1
	if valid_ip4 "$addr"; then
		[ "$len" -le 32 ]
	else
		valid_ip6 "$addr" && [ "$len" -le 128 ]
	fi
}

# The peer file for the NodeList on stdin, on stdout; notes on stderr.
render() {
	local records kind name addr cidr out=''
	local -A owner=()
	# Records "skip NODE WHY" and "peer NODE ADDR CIDR", tab-separated, by
	# node name so that the same nodes always give the same file.
	records=$(jq -r --arg ann "$annotation" '
		if (.items | type) != "array" then error("not a list of nodes") else . end
		| .items | sort_by(.metadata.name)[]
		| .metadata.name as $name
		| ([.metadata.annotations[$ann]?,
		    (.status.addresses[]? | select(.type == "InternalIP") | .address)]
		   | map(select(. != null and . != "")) | first) as $addr
		| (.spec.podCIDRs // [.spec.podCIDR // empty]) as $cidrs
		| if ($cidrs | length) == 0 then ["skip", $name, "no pod CIDR yet"]
		  elif $addr == null then
			["skip", $name, "no \($ann) annotation and no InternalIP"]
		  else $cidrs[] | ["peer", $name, $addr, .] end
		| @tsv') || { log "cannot read the node list"; return 1; }
	while IFS=$'\t' read -r kind name addr cidr; do
		case $kind in
		# A skip record has the reason where a peer has its address.
		skip) log "node $name: $addr, skipped"; continue ;;
		# No node at all still reads one empty line.
		'') continue ;;
		esac
		if ! valid_addr "$addr"; then
			log "node $name: '$addr' is not an IP address"
			return 1
		fi
		if ! valid_cidr "$cidr"; then
			log "node $name: pod CIDR '$cidr' is not ADDR/LEN"
			return 1
		fi
		if [ -n "${owner[$cidr]:-}" ]; then
			log "node $name: pod CIDR $cidr is node ${owner[$cidr]}'s too"
			return 1
		fi
		owner[$cidr]=$name
		out+="$cidr via $addr  # $name"$'\n'
	done <<<"$records"
	printf '%s' "$out"
}

# One round; returns non-zero, the table untouched, on any failure.  The
# render's notes (skipped nodes) show when the table changes or the round
# fails, not every round.
sync_once() {
	local new=$peer_file.new nodes notes table
	nodes=$(kubectl get nodes -o json --request-timeout=20s ${selector:+-l "$selector"}) ||
		{ log "cannot list the nodes"; return 1; }
	if ! notes=$(render <<<"$nodes" 2>&1 >"$new"); then
		printf '%s\n' "$notes" >&2
		log "invalid node data: the peer table is left as it was"
		rm -f "$new"
		return 1
	fi
	if ! table=$(tsorctl peer show); then
		log "cannot read the peer table"
		rm -f "$new"
		return 1
	fi
	# In step: the same file, and the kernel has as many entries.
	if [ -z "$force" ] && cmp -s "$new" "$peer_file" &&
	   [ "$(grep -c ' via ' <<<"$table")" = "$(grep -c ' via ' "$new")" ]; then
		rm -f "$new"
		return 0
	fi
	[ -z "$notes" ] || printf '%s\n' "$notes" >&2
	if ! tsorctl peer sync "$new"; then
		log "tsorctl peer sync failed: the peer table is left as it was"
		rm -f "$new"
		return 1
	fi
	mv -f "$new" "$peer_file"
	force=''
	log "peer table synced: $(grep -c ' via ' "$peer_file") entries"
}

valid_count() { [[ $2 =~ ^[0-9]+$ ]] || { log "$1 must be a number, not '$2'"; exit 2; }; }

case ${1:-} in
--render) render; exit ;;
--once|'') ;;
-h|--help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac
valid_count TSOR_AGENT_INTERVAL "$interval"
valid_count TSOR_AGENT_RETRIES "$retries"
mkdir -p "$(dirname "$peer_file")"
# The kernel's table may differ from a file left by an earlier agent.
force=1
if [ "${1:-}" = --once ]; then
	sync_once
	exit
fi

# As PID 1 of its container, bash would ignore SIGTERM: trap it, and sleep
# in the background so that the trap runs at once, ending the sleep too.
# A signal during a round finds no job: kill's usage error must not make
# set -e end the agent with status 2.
# shellcheck disable=SC2046 # one word per job
trap 'kill $(jobs -p) 2>/dev/null || true; exit 0' TERM INT
log "syncing every ${interval}s, nodes: ${selector:-all}, peer file $peer_file"
failures=0
while :; do
	if sync_once; then
		failures=0
	elif [ $((++failures)) -ge "$retries" ]; then
		log "giving up: $failures failed rounds in a row"
		exit 1
	fi
	sleep "$interval" &
	wait $!
done
