#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad netlink input gets a clear error and changes nothing; only
# CAP_NET_ADMIN in the initial user namespace may change settings.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a

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

check "a well-formed request is accepted" "$NLRAW" NETNS_SET ENABLED:u8:1 \
	NETNS_FD:u32:fd:/run/netns/pod_b
check_eq "and takes effect" true "$("$TSORCTL" -j netns show pod_b | jq -r '.[0].enabled')"
"$TSORCTL" netns disable pod_b

# Unprivileged callers: nobody, and root of a fresh user namespace.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
rc=0; err=$(nobody "$TSORCTL" netns enable pod_b 2>&1) || rc=$?
check_eq "nobody cannot enable a namespace (exit 4)" 4 "$rc"
check_match "nobody is told why" "permission denied" "$err"
rc=0; nobody "$NLRAW" NETNS_SET ENABLED:u8:0 >/dev/null 2>&1 || rc=$?
check_eq "nobody cannot disable one either" 1 "$rc"
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
check_eq "CIDR with host bits: exit 2" 2 "$(cli_rc peer add 10.0.0.1/8 via 192.168.0.1)"
check_eq "kernel refusal: exit 1" 1 "$(cli_rc peer del 10.99.0.0/16)"
check_match "kernel's reason is printed" "no such prefix" \
	"$("$TSORCTL" peer del 10.99.0.0/16 2>&1)"
check "JSON output parses" sh -c "'$TSORCTL' -j stats show global | jq -e .stats.sock_created"
delpods
