#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad netlink input gets a clear error and changes nothing; only
# CAP_NET_ADMIN in the initial user namespace may change settings.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a exclude 5432 10.0.0.0/8 fd00::/8

state() {
	"$TSORCTL" -j netns show pod_a
	"$TSORCTL" -j netns show pod_b
	"$TSORCTL" -j netns show
}
before=$(state)

# reject DESC ERRNO EXTACK-REGEX NLRAW-ARGS...: the kernel must refuse with
# that errno and an extack message, and leave every setting as it was.
reject() {
	local desc=$1 errno=$2 msg=$3 out rc=0
	shift 3
	out=$("$NLRAW" "$@" 2>&1) || rc=$?
	check_eq "$desc: refused" 1 "$rc"
	check_match "$desc: errno $errno" "^errno=$errno " "$out"
	[ -n "$msg" ] && check_match "$desc: says why" "extack=\".*$msg" "$out"
	check_eq "$desc: nothing changed" "$before" "$(state)"
}

reject "unknown command" 95 "" 200
reject "missing attribute" 22 "missing" NETNS_SET
reject "wrong type (u32 for u8)" 22 "" NETNS_SET ENABLED:u32:1
reject "wrong type (string for u8)" 22 "" NETNS_SET ENABLED:str:yes
reject "value out of range" 34 "out of range" NETNS_SET ENABLED:u8:2
reject "oversize RDMA device name" 22 "" DEV_SET \
	"DEV:nest:[IBDEV:str:$(printf 'x%.0s' $(seq 100))]"
reject "address of 3 bytes" 22 "4 or 16 bytes" PEER_ADD \
	"PEER:nest:[PREFIX:bin:0a0000,PREFIXLEN:u8:8]"
reject "unknown attribute" 22 "" NETNS_SET ENABLED:u8:1 60:u32:1
reject "attribute of another command" 22 "" NETNS_SET ENABLED:u8:1 GLOBAL:flag:
reject "attribute on a command that takes none" 22 "" VERSION_GET ENABLED:u8:1
reject "netns fd that is not a netns" 22 "not a network namespace" \
	NETNS_SET ENABLED:u8:1 NETNS_FD:u32:fd:/dev/null
reject "netns fd that is not open" 9 "not an open file" \
	NETNS_SET ENABLED:u8:1 NETNS_FD:u32:9999
reject "both fd and pid" 22 "not both" \
	NETNS_SET ENABLED:u8:0 NETNS_FD:u32:fd:/run/netns/pod_a NETNS_PID:u32:1
reject "pid that does not exist" 3 "no process" \
	NETNS_SET ENABLED:u8:1 NETNS_PID:u32:4000000
reject "dump with a selector" 22 "selector" --dump NETNS_GET NETNS_PID:u32:1
reject "global stats with a selector" 22 "selector" \
	STATS_GET GLOBAL:flag: NETNS_PID:u32:1
reject "connection dump of a pid that does not exist" 3 "no process" \
	--dump CONN_GET NETNS_PID:u32:4000000
reject "dev set with nothing to set" 22 "nothing to set" DEV_SET "DEV:nest:[]"
reject "local path out of range" 34 "out of range" DEV_SET \
	"DEV:nest:[LOCAL_PATH:u8:2]"
reject "listener port 0" 34 "" DEV_SET "DEV:nest:[PORT:u16:0]"
reject "peer without a node" 22 "node" PEER_ADD \
	"PEER:nest:[PREFIX:bin:0a000000,PREFIXLEN:u8:8]"
reject "peer prefix longer than its address" 22 "longer" PEER_ADD \
	"PEER:nest:[PREFIX:bin:0a000000,PREFIXLEN:u8:33,NODE:bin:c0a80001]"

# Exclusions: the whole list is checked before anything changes, the
# enabled flag sent with it included.
A_FD=NETNS_FD:u32:fd:/run/netns/pod_a
ex() { local e out=""; for e; do out+=${out:+,}"EXCLUDE:nest:[$e]"; done; echo "EXCLUDES:nest:[$out]"; }
ports() { local p; for p in $(seq "$1" "$2"); do echo "PORT:u16:$p"; done; }
# shellcheck disable=SC2046 # one argument per port
reject "65 exclusions" 7 "too many exclusions" NETNS_SET ENABLED:u8:0 $A_FD \
	"$(ex $(ports 1 65))"
reject "excluded port 0" 34 "out of range" NETNS_SET $A_FD \
	"$(ex PORT:u16:80 PORT:u16:0)"
reject "excluded prefix of 3 bytes" 22 "4 or 16 bytes" NETNS_SET $A_FD \
	"$(ex PREFIX:bin:0a0000,PREFIXLEN:u8:8)"
reject "excluded prefix with host bits" 22 "host bits" NETNS_SET \
	ENABLED:u8:0 $A_FD "$(ex PORT:u16:80 PREFIX:bin:0a000001,PREFIXLEN:u8:8)"
reject "excluded prefix longer than its address" 22 "longer" NETNS_SET \
	$A_FD "$(ex PREFIX:bin:0a000000,PREFIXLEN:u8:33)"
reject "excluded prefix without its length" 22 "its length" NETNS_SET \
	$A_FD "$(ex PREFIX:bin:0a000000)"
reject "exclusion with a port and a prefix" 22 "either a port or a prefix" \
	NETNS_SET $A_FD "$(ex PORT:u16:80,PREFIX:bin:0a000000,PREFIXLEN:u8:8)"
reject "empty exclusion" 22 "either a port or a prefix" NETNS_SET $A_FD \
	"$(ex PORT:u16:80 "")"
reject "duplicate exclusion" 22 "duplicate" NETNS_SET ENABLED:u8:0 $A_FD \
	"$(ex PORT:u16:80 PREFIX:bin:0a000000,PREFIXLEN:u8:8 PORT:u16:80)"
# (A peer nest whose content would pass as an exclusion: 1 is PORT.)
reject "a peer among the exclusions" 22 "only exclude entries" NETNS_SET \
	$A_FD "EXCLUDES:nest:[PEER:nest:[1:u16:80]]"
reject "unknown attribute in an exclusion" 22 "" NETNS_SET $A_FD \
	"$(ex PORT:u16:80,9:u8:1)"
reject "exclusions on NETNS_GET" 22 "" NETNS_GET $A_FD "$(ex PORT:u16:80)"
reject "exclusions for a pid that does not exist" 3 "no process" NETNS_SET \
	NETNS_PID:u32:4000000 "$(ex PORT:u16:80)"

check "a well-formed request is accepted" "$NLRAW" NETNS_SET ENABLED:u8:1 \
	NETNS_FD:u32:fd:/run/netns/pod_b
check_eq "and takes effect" true "$("$TSORCTL" -j netns show pod_b | jq -r '.[0].enabled')"
"$TSORCTL" netns disable pod_b

# Well-formed exclusions: 64 at most, replacing the list; absent, it stays.
excl() { "$TSORCTL" -j netns show "$1" | jq -c '[.[0].enabled, .[0].exclude]'; }
# shellcheck disable=SC2046 # one argument per port
check "64 exclusions are accepted" "$NLRAW" NETNS_SET \
	NETNS_FD:u32:fd:/run/netns/pod_b "$(ex $(ports 1 62) \
	PREFIX:bin:0a000000,PREFIXLEN:u8:8 \
	PREFIX:bin:fd000000000000000000000000000001,PREFIXLEN:u8:128)"
check_eq "and listed, leaving the namespace disabled" \
	"[false,[$(seq -s, 1 62),\"10.0.0.0/8\",\"fd00::1/128\"]]" "$(excl pod_b)"
"$TSORCTL" netns enable pod_b
check_eq "enable without exclude keeps them" 64 \
	"$("$TSORCTL" -j netns show pod_b | jq '.[0].exclude | length')"
"$TSORCTL" netns enable pod_b exclude 7000 fd10::/64
check_eq "enable with exclude replaces them" '[true,[7000,"fd10::/64"]]' "$(excl pod_b)"
"$TSORCTL" netns disable pod_b
check_eq "disable keeps them" '[false,[7000,"fd10::/64"]]' "$(excl pod_b)"
check "an empty list is accepted" "$NLRAW" NETNS_SET NETNS_FD:u32:fd:/run/netns/pod_b \
	EXCLUDES:nest:[]
check_eq "and clears them" '[false,[]]' "$(excl pod_b)"
check_match "netns show prints them" \
	"^pod_a inum [0-9]+ enabled exclude 5432 10.0.0.0/8 fd00::/8$" \
	"$("$TSORCTL" netns show pod_a)"

# Unprivileged callers: nobody, and root of a fresh user namespace.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
rc=0; err=$(nobody "$TSORCTL" netns enable pod_b 2>&1) || rc=$?
check_eq "nobody cannot enable a namespace (exit 4)" 4 "$rc"
check_match "nobody is told why" "permission denied" "$err"
rc=0; nobody "$NLRAW" NETNS_SET ENABLED:u8:0 >/dev/null 2>&1 || rc=$?
check_eq "nobody cannot disable one either" 1 "$rc"
rc=0; nobody "$TSORCTL" netns change pod_a exclude none >/dev/null 2>&1 || rc=$?
check_eq "nobody cannot change exclusions (exit 4)" 4 "$rc"
rc=0; out=$(nobody "$NLRAW" NETNS_SET EXCLUDES:nest:[] 2>&1) || rc=$?
check_match "nor clear its own namespace's" "^errno=1 " "$out"
rc=0; err=$(unshare -U -r -n "$TSORCTL" netns change exclude 80 2>&1) || rc=$?
check_eq "root of a user namespace cannot set its own netns's exclusions" 4 "$rc" || diag "$err"
rc=0; err=$(unshare -U -r -n "$TSORCTL" netns enable 2>&1) || rc=$?
check_eq "root of a user namespace cannot enable its own netns" 4 "$rc" || diag "$err"
check_eq "nothing changed for unprivileged callers" "$before" "$(state)"
check "nobody may read global counters" nobody "$TSORCTL" stats show global
check "nobody may read its own namespace" nobody "$TSORCTL" netns show pid $$
rc=0; nobody "$TSORCTL" stats show netns pod_a >/dev/null 2>&1 || rc=$?
check_eq "nobody may not read another namespace's counters" 4 "$rc"
check_eq "nobody's dump hides other namespaces" 0 \
	"$(nobody "$TSORCTL" -j netns show | jq length)"

# tsorctl's own argument checks.
cli_rc() { local rc=0; "$TSORCTL" "$@" >/dev/null 2>&1 || rc=$?; echo $rc; }
check_eq "unknown object: exit 2" 2 "$(cli_rc frobnicate)"
check_eq "unknown command: exit 2" 2 "$(cli_rc netns frobnicate)"
check_eq "bad pid: exit 2" 2 "$(cli_rc netns enable pid abc)"
check_eq "excluded port 0: exit 2" 2 "$(cli_rc netns enable pod_b exclude 0)"
check_eq "exclusion with host bits: exit 2" 2 "$(cli_rc netns change pod_b exclude 10.0.0.1/8)"
check_eq "65 exclusions: exit 2" 2 "$(cli_rc netns change pod_b exclude $(seq 1 65))"
check_eq "nothing changed for bad command lines" "$before" "$(state)"
check_eq "CIDR with host bits: exit 2" 2 "$(cli_rc peer add 10.0.0.1/8 via 192.168.0.1)"
check_eq "kernel refusal: exit 1" 1 "$(cli_rc peer del 10.99.0.0/16)"
check_match "kernel's reason is printed" "no such prefix" \
	"$("$TSORCTL" peer del 10.99.0.0/16 2>&1)"
check "JSON output parses" sh -c "'$TSORCTL' -j stats show global | jq -e .stats.sock_created"
delpods
