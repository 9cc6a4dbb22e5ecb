#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tsorctl tests that need no tsor module: usage errors, exit codes and
# peer files; then replies, errors and output formats, with
# tests/genl_double.so scripting the netlink replies.  These test tsorctl
# only; tsor.ko itself is tested in a booted guest (selftests/).
#
# Usage: tests/run.sh (from tools/, after make)

set -u
# shellcheck source=tools/tests/lib.sh
source "$(dirname "$0")/lib.sh"
TSORCTL=./tsorctl
BAD_PREFIX="tsorctl "

# run ARGS...: runs tsorctl, leaving $out, $err and $rc.
run() {
	"$TSORCTL" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}



# t RC STDERR ARGS...: exit code and the whole of stderr.
t() {
	local want_rc=$1 want_err=$2
	shift 2
	run "$@"
	if [ "$rc" != "$want_rc" ] || [ "$err" != "$want_err" ]; then
		bad "$*" "rc $rc, want $want_rc" "stderr: $err" \
		    "want:   $want_err"
	else
		ok
	fi
}

# o STDOUT ARGS...: success, nothing on stderr, and the whole of stdout.
o() {
	local want_out=$1
	shift
	run "$@"
	if [ "$rc" != 0 ] || [ -n "$err" ] || [ "$out" != "$want_out" ]; then
		bad "$*" "rc $rc, stderr: $err" "stdout:" "$out" "want:" \
		    "$want_out"
	else
		ok
	fi
}

# same WHAT ACTUAL WANT: a value checked by hand.
same() {
	if [ "$2" = "$3" ]; then
		ok
	else
		bad "$1" "got:  $2" "want: $3"
	fi
}

# j ARGS...: stdout is valid JSON, whatever the exit code.
j() {
	run "$@"
	if ! python3 -m json.tool <"$TMP/out" >/dev/null 2>&1; then
		bad "$*" "stdout is not JSON: $out"
	else
		ok
	fi
}

NOMOD='tsorctl: the tsor kernel module is not loaded (load it with: modprobe tsor)'
PERM='tsorctl: permission denied: changing tsor settings needs CAP_NET_ADMIN in the initial user namespace'

echo "== usage"
t 2 'tsorctl: no object given (try "tsorctl --help")'
t 2 'tsorctl: unknown object "foo" (try "tsorctl --help")' foo
t 2 'tsorctl: unknown option "-x" (try "tsorctl --help")' -x netns
t 2 'tsorctl: unknown option "--bogus" (try "tsorctl --help")' --bogus
t 2 'tsorctl: netns: unknown command "frob" (try "tsorctl netns help")' netns frob
t 2 'tsorctl: peer: "s" is ambiguous (try "tsorctl peer help")' peer s
t 2 'tsorctl: netns show: unknown netns "no-such-ns" (no /run/netns/no-such-ns)' netns show no-such-ns
t 2 'tsorctl: netns enable: cannot open netns "/no/such/file": No such file or directory' netns enable /no/such/file
t 2 'tsorctl: netns show: pid needs a process id' netns show pid
t 2 'tsorctl: netns show: "0" is not a process id' netns show pid 0
t 2 'tsorctl: netns show: "12x" is not a process id' netns show pid 12x
t 2 'tsorctl: netns enable: unexpected argument "b"' netns enable pid 1 b
t 2 'tsorctl: netns enable: exclude needs ports or CIDRs, or none' netns enable pid 1 exclude
t 2 'tsorctl: netns enable: exclude 0: not a port (want 1 to 65535)' netns enable exclude 0
t 2 'tsorctl: netns enable: exclude 65536: not a port (want 1 to 65535)' netns enable exclude 80 65536
t 2 'tsorctl: netns enable: exclude 10.1.2.3/16: host bits set (did you mean 10.1.0.0/16?)' netns enable exclude 10.1.2.3/16
t 2 'tsorctl: netns enable: exclude 10.0.0.0/33: bad prefix length (want 0 to 32)' netns enable exclude 10.0.0.0/33
t 2 'tsorctl: netns enable: exclude pods: not an IPv4 or IPv6 CIDR' netns enable exclude pods
t 2 'tsorctl: netns enable: exclude 5432: given twice' netns enable exclude 5432 10.0.0.0/8 5432
t 2 'tsorctl: netns enable: exclude fd00::/8: given twice' netns enable exclude fd00::/8 fd00:0::/8
t 2 'tsorctl: netns enable: more than 64 exclusions' netns enable exclude $(seq 1 65)
t 2 'tsorctl: netns change: unexpected argument "80" after exclude none' netns change exclude none 80
t 2 'tsorctl: netns change: missing "exclude" (what to change)' netns change pid 1
t 2 'tsorctl: netns change: missing "exclude" (what to change)' netns change
t 2 'tsorctl: netns disable: unexpected argument "exclude"' netns disable pid 1 exclude 80
t 2 'tsorctl: netns change: unexpected argument "b"' netns change pid 1 b exclude 80
t 2 'tsorctl: stats: unknown scope "bogus" (want global, netns, pid or all)' stats bogus
t 2 'tsorctl: stats: unexpected argument "x"' stats all x
t 2 'tsorctl: stats: unknown netns "nope" (no /run/netns/nope)' stats show netns nope
t 2 'tsorctl: version: unexpected argument "x"' version x
t 2 'tsorctl: conn show: unknown argument "x" (want netns NS or pid PID)' conn show x
t 2 'tsorctl: link show: unexpected argument "x"' link show x
t 2 'tsorctl: peer show: unexpected argument "x"' peer show x
t 2 'tsorctl: dev: unknown command "get" (try "tsorctl dev help")' dev get
t 2 'tsorctl: dev set: nothing to set (want ibdev, addr, port or local-path)' dev set
t 2 'tsorctl: dev set: "0" is not a port (want 1 to 65535)' dev set port 0
t 2 'tsorctl: dev set: "65536" is not a port (want 1 to 65535)' dev set port 65536
t 2 'tsorctl: dev set: port given twice' dev set port 1 port 2
t 2 'tsorctl: dev set: ibdev needs a value' dev set ibdev
t 2 'tsorctl: dev set: unknown setting "mtu" (want ibdev, addr, port or local-path)' dev set mtu 9000
t 2 'tsorctl: dev set: local-path "tcp" is not shm or rdma' dev set local-path tcp
t 2 'tsorctl: dev set: 10.0.0: not an IPv4 or IPv6 address' dev set addr 10.0.0
t 2 "tsorctl: dev set: \"$(printf 'x%.0s' {1..64})\" is not an RDMA device name" dev set ibdev "$(printf 'x%.0s' {1..64})"

echo "== addresses"
t 2 'tsorctl: peer add: 10.0.0.1/24: host bits set (did you mean 10.0.0.0/24?)' peer add 10.0.0.1/24 via 192.168.0.1
t 2 'tsorctl: peer add: fd00::1/64: host bits set (did you mean fd00::/64?)' peer add fd00::1/64 via fd01::1
t 2 'tsorctl: peer add: 10.0.0.0/33: bad prefix length (want 0 to 32)' peer add 10.0.0.0/33 via 192.168.0.1
t 2 'tsorctl: peer add: fd00::/129: bad prefix length (want 0 to 128)' peer add fd00::/129 via fd01::1
t 2 'tsorctl: peer add: 10.0.0.0/: bad prefix length (want 0 to 32)' peer add 10.0.0.0/ via 192.168.0.1
t 2 'tsorctl: peer add: 10.0.0.0/-1: bad prefix length (want 0 to 32)' peer add 10.0.0.0/-1 via 192.168.0.1
t 2 'tsorctl: peer add: 10.0.0/8: not an IPv4 or IPv6 CIDR' peer add 10.0.0/8 via 192.168.0.1
t 2 'tsorctl: peer add: pods: not an IPv4 or IPv6 CIDR' peer add pods via 192.168.0.1
t 2 'tsorctl: peer add: 192.168.0.1/32: not an IPv4 or IPv6 address' peer add 10.0.0.0/8 via 192.168.0.1/32
t 2 'tsorctl: peer add: 0.0.0.0: not a unicast node address' peer add 10.0.0.0/8 via 0.0.0.0
t 2 'tsorctl: peer add: ff02::1: not a unicast node address' peer add fd00::/8 via ff02::1
t 2 'tsorctl: peer add: expected "CIDR via NODE_ADDR"' peer add 10.0.0.0/8
t 2 'tsorctl: peer add: expected "CIDR via NODE_ADDR"' peer add 10.0.0.0/8 to 192.168.0.1
t 2 'tsorctl: peer del: expected "CIDR"' peer del
t 2 'tsorctl: peer del: 10.1.2.3/16: host bits set (did you mean 10.1.0.0/16?)' peer del 10.1.2.3/16

echo "== peer files"
cat >"$TMP/bad" <<'EOF'
# comment line

10.244.1.1/24 via 192.168.1.11
10.244.2.0/24 via 192.168.1.12 # a comment
10.244.3.0/24 via 192.168.1.13 extra
10.244.4.0/24
10.244.9.0/24 via 192.168.1.2
10.244.9.0/24 via 192.168.1.3
EOF
t 2 "tsorctl: $TMP/bad:3: 10.244.1.1/24: host bits set (did you mean 10.244.1.0/24?)
tsorctl: $TMP/bad:5: expected \"CIDR via NODE_ADDR\"
tsorctl: $TMP/bad:6: expected \"CIDR via NODE_ADDR\"
tsorctl: $TMP/bad:8: duplicate CIDR 10.244.9.0/24 (first on line 7)" peer sync "$TMP/bad"
t 2 'tsorctl: <stdin>:1: 1.2.3.4/8: host bits set (did you mean 1.0.0.0/8?)' peer sync - <<<'1.2.3.4/8 via 1.1.1.1'
t 2 "tsorctl: peer sync: cannot open $TMP/none: No such file or directory" peer sync "$TMP/none"
t 2 'tsorctl: peer sync: expected "FILE" (or - for stdin)' peer sync
seq 1 12 >"$TMP/many"
run peer sync "$TMP/many"
if [ "$rc" = 2 ] && [ "$(wc -l <<<"$err")" = 11 ] &&
   [ "$(tail -1 <<<"$err")" = "tsorctl: $TMP/many: 2 more errors" ]; then
	ok
else
	bad "peer sync $TMP/many" "rc $rc" "$err"
fi

echo "== help"
for args in --help help "netns help" "stats help" "peer add help" "version help"; do
	# shellcheck disable=SC2086
	run $args
	if [ "$rc" = 0 ] && [ -z "$err" ] && grep -q '^Usage: tsorctl' "$TMP/out"; then
		ok
	else
		bad "$args" "rc $rc" "$err"
	fi
done
o "tsorctl 0.1.0" -V

# The real kernel, if it has no tsor family: every request says so.
if [ ! -e /sys/module/tsor ]; then
	echo "== no module (real kernel)"
	t 3 "$NOMOD" version
	same "version (stdout)" "$out" "tsorctl version  0.1.0"
	t 3 "$NOMOD" netns show
	t 3 "$NOMOD" stats
	t 3 "$NOMOD" peer add 10.0.0.0/8 via 192.168.0.1
fi

echo "== scripted netlink replies"
$CC -std=gnu11 -Wall -Wextra -Werror -O2 -shared -fPIC -I../uapi \
	-o "$TMP/genl_double.so" tests/genl_double.c -lmnl || exit 1
export LD_PRELOAD=$TMP/genl_double.so
export FAKE_LOG=$TMP/log
SELF=$(stat -L -c %i /proc/self/ns/net)

o "tsorctl version  0.1.0
module version   0.1.0
genl version     1
protocol         253
features         takeover ipv6 bit9" version
o '{"tsorctl":"0.1.0","module":{"version":"0.1.0","genl_version":1,"protocol":253,"features":["takeover","ipv6","bit9"]}}' -j version
o "- inum $SELF enabled self
- inum 4026532281 nsid 0 enabled exclude 5432 10.96.0.0/12 fd00::/8" netns show
o "- inum $SELF enabled self" netns show pid 1
# "netns change" starts with neither s nor e: "n s" still means show.
o "- inum $SELF enabled self" n s pid 1
o "[{\"name\":null,\"inum\":$SELF,\"nsid\":null,\"enabled\":true,\"self\":true,\"exclude\":[]},{\"name\":null,\"inum\":4026532281,\"nsid\":0,\"enabled\":true,\"self\":false,\"exclude\":[5432,\"10.96.0.0/12\",\"fd00::/8\"]}]" -j netns show
j -p netns show
FAKE_TSOR=excludes o "- inum $SELF enabled self exclude 5432 10.96.0.0/12 fd00::/8" netns show pid 1
# A module without exclusions: none shown, an empty list in JSON.
FAKE_TSOR=noexcludes o "- inum $SELF enabled self" netns show pid 1
FAKE_TSOR=noexcludes o "[{\"name\":null,\"inum\":$SELF,\"nsid\":null,\"enabled\":true,\"self\":true,\"exclude\":[]}]" -j netns show pid 1
o "sock_created              7
sock_accepted             1007
fallback_peer_unknown     2007
a_counter_from_the_future 3007" stats
o '{"scope":"global","stats":{"sock_created":7,"sock_accepted":1007,"fallback_peer_unknown":2007,"a_counter_from_the_future":3007}}' -j stats global
o "netns - inum $SELF
    sock_created              7
    sock_accepted             1007
    fallback_peer_unknown     2007
    a_counter_from_the_future 3007

netns - inum 4026532281
    sock_created              1
    sock_accepted             1001
    fallback_peer_unknown     2001
    a_counter_from_the_future 3001" stats all
j -j stats all
j -p stats netns
o "10.0.2.7/24 via 10.0.1.5
fd00::1/64 via 10.0.1.5" peer show
o "Netns        Local Address:Port    Peer Address:Port     Path Fallback          Tx-Bytes     Rx-Bytes    Credits
$SELF   10.0.1.5:40000        10.0.2.7:80           rdma none             123456789           42      65536
$SELF   [fd00::1]:40000       [fd00::102]:80        tcp  peer-unknown     123456789           42          -" conn show
j -j conn show
o "local 10.0.1.5 remote 10.0.2.7 state up channels 4" link show
o '{"ibdev":"mlx5_0","addr":"10.0.1.5","port":7471,"local_path":"shm"}' -j dev show

# What the requests carry.
rm -f "$FAKE_LOG"
o "" netns disable pid 42
run stats
o "" peer sync - <<<'10.1.0.0/16 via 192.168.0.9  # node-b'
o "" dev set port 7000 local-path rdma
want="cmd 3 ack
  attr 6 len 4 2a000000
  attr 9 len 1 00
cmd 4 ack
  attr 10 len 0 
cmd 8 ack
  attr 13 len 24
    attr 1 len 4 0a010000
    attr 2 len 1 10
    attr 3 len 4 c0a80009
cmd 12 ack
  attr 16 len 16
    attr 3 len 2 581b
    attr 4 len 1 01"
same "(requests sent)" "$(cat "$FAKE_LOG")" "$want"

# Exclusions: with enable in one request, or alone with set; none
# sends an empty list, which clears it; disable leaves them alone.
rm -f "$FAKE_LOG"
o "" netns enable pid 42 exclude 5432 10.0.0.0/8 fd00::/8
o "" netns change exclude none
o "" netns change pid 42 exclude 80
want="cmd 3 ack
  attr 6 len 4 2a000000
  attr 9 len 1 01
  attr 17 len 64
    attr 18 len 8
      attr 1 len 2 3815
    attr 18 len 16
      attr 2 len 4 0a000000
      attr 3 len 1 08
    attr 18 len 28
      attr 2 len 16 fd000000000000000000000000000000
      attr 3 len 1 08
cmd 3 ack
  attr 17 len 0
cmd 3 ack
  attr 6 len 4 2a000000
  attr 17 len 12
    attr 18 len 8
      attr 1 len 2 5000"
same "(exclusions sent)" "$(cat "$FAKE_LOG")" "$want"
# 64 is the most, and all of them go in one request.
rm -f "$FAKE_LOG"
o "" netns enable exclude $(seq 1 62) 10.0.0.0/8 fd00::/8
same "64 exclusions: entries" "$(grep -c '^    attr 18' "$FAKE_LOG")" 64

# A big table goes out as one request.
for i in $(seq 0 4999); do
	printf 'fd%02x:%x::/64 via fd00::%x\n' $((i >> 16)) $((i & 0xffff)) $((i + 1))
done >"$TMP/big"
rm -f "$FAKE_LOG"
o "" peer sync "$TMP/big"
same "peer sync (5000 entries): requests" "$(grep -c '^cmd' "$FAKE_LOG")" 1
same "peer sync (5000 entries): entries" "$(grep -c '^  attr 13' "$FAKE_LOG")" 5000

echo "== scripted netlink replies: errors"
FAKE_TSOR=nomodule t 3 "$NOMOD" version
same "version (stdout)" "$out" "tsorctl version  0.1.0"
FAKE_TSOR=nomodule t 3 "$NOMOD" -j version
same "-j version (stdout)" "$out" '{"tsorctl":"0.1.0","module":null}'
FAKE_TSOR=eperm t 4 "$PERM" netns enable
FAKE_TSOR=einval t 1 'tsorctl: netns enable: netns fd is not a network namespace (Invalid argument)' netns enable
FAKE_TSOR=warn t 0 'tsorctl: warning: something to know' netns disable
for cmd in "peer show:" "conn show:" "link show:" "dev show:" "dev set:port 1" \
	   "peer add:10.0.0.0/8 via 10.1.1.1" "peer del:10.0.0.0/8"; do
	# "what:arguments after it"
	# shellcheck disable=SC2086
	FAKE_TSOR=unsupported t 1 "tsorctl: ${cmd%%:*}: this tsor module has no RDMA data path yet (Operation not supported)" ${cmd%%:*} ${cmd#*:}
done
FAKE_TSOR=unsupported t 1 'tsorctl: peer sync: this tsor module has no RDMA data path yet (Operation not supported)' peer sync /dev/null
FAKE_TSOR=malformed t 1 'tsorctl: netns show: malformed reply from the kernel (Bad message)' netns show
FAKE_TSOR=malformed t 1 'tsorctl: stats: malformed reply from the kernel (Bad message)' stats pid 1
FAKE_TSOR=dumpfail t 1 'tsorctl: netns show: dump buffer exhausted (No buffer space available)' netns show
FAKE_TSOR=dumpfail j -j netns show
FAKE_TSOR=empty o "" netns show
FAKE_TSOR=empty o "[]" -j conn show
FAKE_TSOR=empty o "[]" -j stats all

summary
