#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The node-wide peer table: pod CIDR -> node, edited one entry at a time or
# replaced whole, atomically.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
"$TSORCTL" peer sync - </dev/null
peers() { "$TSORCTL" -j peer show | jq -c '[.[] | "\(.prefix) \(.node)"]'; }

check_eq "the table starts empty" "[]" "$(peers)"
check "add an IPv4 route" "$TSORCTL" peer add 10.244.1.0/24 via 192.168.1.11
check "add a wider IPv4 route" "$TSORCTL" peer add 10.244.0.0/16 via 192.168.1.10
check "add an IPv6 route via an IPv4 node" "$TSORCTL" peer add fd00:244:1::/64 via 192.168.1.11
check_eq "longest prefix first" \
	'["fd00:244:1::/64 192.168.1.11","10.244.1.0/24 192.168.1.11","10.244.0.0/16 192.168.1.10"]' \
	"$(peers)"
rc=0; err=$("$TSORCTL" peer add 10.244.1.0/24 via 192.168.1.99 2>&1) || rc=$?
check_eq "a duplicate prefix is refused" 1 "$rc"
check_match "and says so" "twice|exists" "$err"
check "delete a route" "$TSORCTL" peer del 10.244.1.0/24
check_eq "it is gone" '["fd00:244:1::/64 192.168.1.11","10.244.0.0/16 192.168.1.10"]' "$(peers)"
check_match "text output lists routes" "10.244.0.0/16 via 192.168.1.10" \
	"$("$TSORCTL" peer show)"

before=$(peers)
f=$TSOR_OUT/peers.$$
printf '# node-1\n10.1.0.0/24 via 10.0.0.1\n\n10.1.1.0/24 via 10.0.0.2\n10.1.2.1/24 via 10.0.0.3\n' >"$f"
rc=0; err=$("$TSORCTL" peer sync "$f" 2>&1) || rc=$?
check_eq "sync with a bad line is a usage error" 2 "$rc"
check_match "naming the line" ":5:" "$err"
check_eq "and changes nothing" "$before" "$(peers)"

# The kernel itself rejects a replace whose second entry is bad, keeping
# the old table: tsorctl's own checks are bypassed with tsor_nlraw.
reject_replace() {
	local rc=0
	"$NLRAW" PEER_REPLACE \
		"PEER:nest:[PREFIX:bin:0a010000,PREFIXLEN:u8:24,NODE:bin:0a000001]" \
		"PEER:nest:[$1]" >/dev/null 2>&1 || rc=$?
	check_eq "kernel refuses a replace with $2" 1 "$rc"
	check_eq "the table is untouched after $2" "$before" "$(peers)"
}
reject_replace "PREFIX:bin:0a010101,PREFIXLEN:u8:24,NODE:bin:0a000001" "host bits set"
reject_replace "PREFIX:bin:0a010000,PREFIXLEN:u8:24,NODE:bin:0a000002" "a duplicate"
reject_replace "PREFIX:bin:0a010000,PREFIXLEN:u8:24" "a missing node"

printf '10.1.0.0/24 via 10.0.0.1\n10.1.1.0/24 via 10.0.0.2\nfd01::/48 via fd00::2\n' >"$f"
check "sync replaces the table" "$TSORCTL" peer sync "$f"
check_eq "with exactly the file's routes" \
	'["fd01::/48 fd00::2","10.1.0.0/24 10.0.0.1","10.1.1.0/24 10.0.0.2"]' "$(peers)"
rm -f "$f"

rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$TSORCTL" peer add 10.9.0.0/16 via 10.0.0.9 >/dev/null 2>&1 || rc=$?
check_eq "nobody cannot add a route" 4 "$rc"
check "nobody can read the table" setpriv --reuid=65534 --regid=65534 \
	--clear-groups --inh-caps=-all "$TSORCTL" peer show
check "sync from empty stdin clears the table" sh -c "'$TSORCTL' peer sync - </dev/null"
check_eq "the table is empty" "[]" "$(peers)"
