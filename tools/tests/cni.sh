#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tests of the CNI plugin (cni/tsor) that need no tsor module: the CNI
# protocol (environment, configuration, error codes, VERSION), then what
# it asks the kernel and how it takes the answers, with tests/genl_double.so
# scripting the netlink replies.  The plugin chained after the reference
# plugins, against the real module, is selftests/tests/50-cni.sh.
#
# Usage: tests/cni.sh (from tools/, after make)

set -u
# shellcheck source=tools/tests/lib.sh
source "$(dirname "$0")/lib.sh"
PLUGIN=./cni/tsor



# The environment of a valid invocation; callers override or unset.
ENV=(CNI_CONTAINERID=c-1 CNI_NETNS=/proc/self/ns/net CNI_IFNAME=eth0
     CNI_PATH=/usr/lib/cni)

# run CMD CONF [ENV...]: the plugin with CNI_COMMAND=CMD, CONF on stdin and
# $ENV changed by ENV (NAME=VALUE sets, "-u NAME" unsets); leaves $out,
# $err and $rc.
run() {
	local cmd=$1 conf=$2 v vars=()
	local -A set=()
	shift 2
	for v in "${ENV[@]}"; do
		set[${v%%=*}]=${v#*=}
	done
	while [ $# -gt 0 ]; do
		if [ "$1" = -u ]; then
			unset "set[$2]"
			shift 2
		else
			set[${1%%=*}]=${1#*=}
			shift
		fi
	done
	for v in "${!set[@]}"; do
		vars+=("$v=${set[$v]}")
	done
	env -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME -u CNI_PATH \
		-u CNI_ARGS "${vars[@]}" CNI_COMMAND="$cmd" "$PLUGIN" \
		<<<"$conf" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

# e CODE MSG_REGEX CMD CONF [ENV...]: fails with that CNI error, as JSON on
# stdout with the configuration's version (1.0.0 when it has none usable).
e() {
	local code=$1 re=$2 what="$3 $4"
	shift 2
	run "$@"
	if [ "$rc" = 0 ] ||
	   [ "$(jq -r .code <<<"$out" 2>/dev/null)" != "$code" ] ||
	   ! [[ "$(jq -r '.msg + " / " + (.details // "")' <<<"$out")" =~ $re ]] ||
	   [ "$(jq -r .cniVersion <<<"$out")" != "${VER:-1.0.0}" ]; then
		bad "$what" "rc $rc, want code $code matching: $re" "stdout: $out" \
		    "stderr: $err"
	else
		ok
	fi
}

# s STDOUT CMD CONF [ENV...]: succeeds, printing exactly STDOUT.
s() {
	local want=$1 what="$2 $3"
	shift
	run "$@"
	if [ "$rc" != 0 ] || [ "$out" != "$want" ]; then
		bad "$what" "rc $rc" "stdout: $out" "want:   $want" "stderr: $err"
	else
		ok
	fi
}

same() {
	if [ "$2" = "$3" ]; then
		ok
	else
		bad "$1" "got:  $2" "want: $3"
	fi
}

C='{"cniVersion":"1.0.0","name":"pods","type":"tsor"}'
# conf JSON: $C with these keys added or replaced.
conf() { jq -c ". + $1" <<<"$C"; }

echo "== VERSION"
s '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}' VERSION ""
s '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}' VERSION \
	'{"cniVersion":"0.4.0"}' -u CNI_CONTAINERID -u CNI_NETNS

echo "== environment"
e 4 'required env variables \[CNI_COMMAND\] missing' "" "$C"
e 4 'unknown CNI_COMMAND / .*"STATUS"' STATUS "$C"
e 4 'required env variables \[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH\] missing' \
	ADD "$C" -u CNI_CONTAINERID -u CNI_NETNS -u CNI_IFNAME -u CNI_PATH
e 4 '\[CNI_NETNS\] missing' ADD "$C" -u CNI_NETNS
e 4 '\[CNI_NETNS\] missing' CHECK "$C" CNI_NETNS=
e 4 '\[CNI_IFNAME\] missing' DEL "$C" -u CNI_NETNS -u CNI_IFNAME
e 4 'invalid characters in CNI_CONTAINERID / _c' ADD "$C" CNI_CONTAINERID=_c
e 4 'invalid characters in CNI_CONTAINERID' ADD "$C" "CNI_CONTAINERID=a b"
e 4 'invalid characters in CNI_CONTAINERID / a\?b$' ADD "$C" $'CNI_CONTAINERID=a\xffb'
e 4 'invalid CNI_IFNAME / interface name is too long' ADD "$C" CNI_IFNAME=eth0123456789012
e 4 'invalid CNI_IFNAME / .*contains /' DEL "$C" CNI_IFNAME=a/b
e 4 'invalid CNI_IFNAME / .* \. or \.\.' CHECK "$C" CNI_IFNAME=..
e 3 'namespace not found / CNI_NETNS /no/such/ns' ADD "$C" CNI_NETNS=/no/such/ns
e 3 'namespace not found' CHECK "$C" CNI_NETNS=/no/such/ns
e 4 'CNI_NETNS is not a network namespace / /proc/self/ns/uts' ADD "$C" CNI_NETNS=/proc/self/ns/uts
e 4 'CNI_NETNS is not a network namespace / /dev/null' CHECK "$C" CNI_NETNS=/dev/null
# DEL succeeds when there is nothing to undo, without asking the kernel.
s "" DEL "$C" -u CNI_NETNS
s "" DEL "$C" CNI_NETNS=/no/such/ns
s "" DEL "$C" CNI_NETNS=/dev/null

echo "== configuration"
e 6 'cannot decode the network configuration / line [0-9]+, column [0-9]+: ' ADD '{"cniVersion":'
e 6 'cannot decode' ADD ''
e 6 'not a JSON object' ADD '["cniVersion"]'
e 6 'cannot decode' DEL 'cniVersion=1.0.0'
e 7 'required field "cniVersion" missing' ADD '{"name":"pods","type":"tsor"}'
e 7 '"cniVersion" must be a non-empty string' ADD "$(conf '{"cniVersion":1}')"
e 1 'incompatible CNI versions / config is "0.2.0", plugin supports \["0.3.0" "0.3.1" "0.4.0" "1.0.0"\]' \
	ADD "$(conf '{"cniVersion":"0.2.0"}')"
VER=0.3.1 e 1 'CHECK needs cniVersion 0.4.0 or later' CHECK "$(conf '{"cniVersion":"0.3.1"}')"
e 1 'incompatible CNI versions / config is "2.0.0"' CHECK "$(conf '{"cniVersion":"2.0.0"}')"
e 1 'incompatible CNI versions' DEL "$(conf '{"cniVersion":"0.2.0"}')"
e 7 'required field "name" missing' ADD '{"cniVersion":"1.0.0","type":"tsor"}'
e 7 'invalid characters in the network name "my net"' ADD "$(conf '{"name":"my net"}')"
e 7 'required field "type" missing' ADD '{"cniVersion":"1.0.0","name":"pods"}'
e 7 '"type" must be a non-empty string' ADD "$(conf '{"type":""}')"
e 7 '"prevResult" must be a JSON object' ADD "$(conf '{"prevResult":[1]}')"
e 1 'prevResult is "0.4.0", config is "1.0.0"' ADD \
	"$(conf '{"prevResult":{"cniVersion":"0.4.0"}}')"
e 7 '"enable" must be true or false' ADD "$(conf '{"enable":"yes"}')"
e 7 '"enable" must be true or false' CHECK "$(conf '{"enable":1}')"
e 7 '"exclude" must be a list' ADD "$(conf '{"exclude":"10.0.0.0/8"}')"
e 7 'entry 2: 10.1.2.3/16: host bits set' ADD "$(conf '{"exclude":[80,"10.1.2.3/16"]}')"
e 7 'entry 1: 0: not a port' ADD "$(conf '{"exclude":[0]}')"
e 7 'entry 1: 65536: not a port' ADD "$(conf '{"exclude":["65536"]}')"
e 7 'entry 1: pods: not an IPv4 or IPv6 CIDR' ADD "$(conf '{"exclude":["pods"]}')"
e 7 'entry 1: entries are ports or CIDR strings' CHECK "$(conf '{"exclude":[{}]}')"
e 7 'entry 3: 5432: given twice' ADD "$(conf '{"exclude":[5432,"10.0.0.0/8","5432"]}')"
e 7 'entry 2: fd00::/8: given twice' CHECK "$(conf '{"exclude":["fd00::/8","fd00:0::/8"]}')"
e 7 '"exclude" has 65 entries, at most 64 are allowed' ADD \
	"$(conf "{\"exclude\":[$(seq -s, 1 65)]}")"
VER=0.4.0 e 7 'entry 1: 70000: not a port' ADD "$(conf '{"cniVersion":"0.4.0","exclude":[70000]}')"
VER=0.4.0 e 7 'required field "name" missing' ADD '{"cniVersion":"0.4.0","type":"tsor"}'

# The real kernel, if it has no tsor family.
if [ ! -e /sys/module/tsor ]; then
	echo "== no module (real kernel)"
	e 100 'tsor module not loaded / enabling tsor in /proc/self/ns/net: .*modprobe tsor' ADD "$C"
	e 100 'tsor module not loaded' ADD "$(conf '{"exclude":[]}')"
	e 100 'tsor module not loaded / reading tsor' CHECK "$C"
	s "" DEL "$C"
	# Options do not matter to DEL: an ADD refused for them can be undone.
	s "" DEL "$(conf '{"exclude":[1],"enable":"no"}')"
fi

echo "== scripted netlink replies"
$CC -std=gnu11 -Wall -Wextra -Werror -O2 -shared -fPIC -I../uapi \
	-o "$TMP/genl_double.so" tests/genl_double.c -lmnl || exit 1
export LD_PRELOAD=$TMP/genl_double.so
export FAKE_LOG=$TMP/log

# log: the requests sent, minus the fd number, which varies.
log() { sed -E 's/^(  attr 5 len 4) .*/\1 FD/' "$FAKE_LOG" 2>/dev/null; rm -f "$FAKE_LOG"; }

PREV='{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"0a:58:0a:58:00:02","sandbox":"/run/netns/p"}],"ips":[{"address":"10.88.0.2/24","gateway":"10.88.0.1","interface":0}],"dns":{},"x-future":[1.5,null,true]}'
log >/dev/null
run ADD "$(conf "{\"prevResult\":$PREV}")"
same "ADD: exit status" "$rc" 0
same "ADD: prevResult is the result, unchanged" "$(jq -S . <<<"$out")" "$(jq -S . <<<"$PREV")"
same "ADD: one NETNS_SET by fd, enabled, no exclusions" "$(log)" "cmd 3 ack
  attr 5 len 4 FD
  attr 9 len 1 01
  attr 17 len 0"
# The exclusions go with the enable, in one request.
s '{"cniVersion":"1.0.0"}' ADD "$(conf '{"exclude":[5432,"10.0.0.0/8","fd00::/8"]}')"
same "ADD with exclusions: in the same NETNS_SET" "$(log)" "cmd 3 ack
  attr 5 len 4 FD
  attr 9 len 1 01
  attr 17 len 64
    attr 18 len 8
      attr 1 len 2 3815
    attr 18 len 16
      attr 2 len 4 0a000000
      attr 3 len 1 08
    attr 18 len 28
      attr 2 len 16 fd000000000000000000000000000000
      attr 3 len 1 08"
s '{"cniVersion":"1.0.0"}' ADD "$(conf "{\"exclude\":[$(seq -s, 1 64)]}")"
same "ADD with 64 exclusions: all of them" "$(log | grep -c '^    attr 18')" 64
s '{"cniVersion":"1.0.0"}' ADD "$C"
s '{"cniVersion":"0.4.0"}' ADD "$(conf '{"cniVersion":"0.4.0"}')"
s '{"cniVersion":"0.3.1"}' ADD "$(conf '{"cniVersion":"0.3.1"}')"
s '{"cniVersion":"1.0.0"}' ADD "$(conf '{"exclude":[]}')"
s '{"cniVersion":"1.0.0"}' ADD "$(conf '{"exclude":null}')"
# A prevResult without a version gets the configuration's.
s '{"ips":[],"cniVersion":"1.0.0"}' ADD "$(conf '{"prevResult":{"ips":[]}}')"
log >/dev/null
s '{"cniVersion":"1.0.0"}' ADD "$(conf '{"enable":false}')"
same "ADD enable=false: NETNS_SET, disabled" "$(log)" "cmd 3 ack
  attr 5 len 4 FD
  attr 9 len 1 00
  attr 17 len 0"
s "" DEL "$(conf "{\"prevResult\":$PREV,\"exclude\":[80]}")"
same "DEL: NETNS_SET, disabled, exclusions left alone" "$(log)" "cmd 3 ack
  attr 5 len 4 FD
  attr 9 len 1 00"
s "" DEL "$C" CNI_NETNS=/no/such/ns
same "DEL of a deleted namespace asks nothing" "$(log)" ""
# The double reports every namespace enabled.
s "" CHECK "$(conf "{\"prevResult\":$PREV}")"
same "CHECK: one NETNS_GET by fd" "$(log)" "cmd 2 ack
  attr 5 len 4 FD"
e 103 'tsor state differs from the configuration / /proc/self/ns/net: tsor is enabled there, the configuration wants it disabled' \
	CHECK "$(conf '{"enable":false}')"
# Exclusions: CHECK wants the same set, in whatever order.
e 103 'tsor state differs from the configuration / /proc/self/ns/net: tsor excludes none there, the configuration wants 5432 10.0.0.0/8' \
	CHECK "$(conf '{"exclude":[5432,"10.0.0.0/8"]}')"
FAKE_TSOR=excludes s "" CHECK "$(conf '{"exclude":["fd00::/8",5432,"10.96.0.0/12"]}')"
FAKE_TSOR=excludes e 103 '/proc/self/ns/net: tsor excludes 5432 10.96.0.0/12 fd00::/8 there, the configuration wants none' \
	CHECK "$C"
FAKE_TSOR=excludes e 103 'tsor excludes 5432 10.96.0.0/12 fd00::/8 there, the configuration wants 5432 10.96.0.0/12' \
	CHECK "$(conf '{"exclude":["5432","10.96.0.0/12"]}')"
FAKE_TSOR=excludes e 103 'the configuration wants 5433 10.96.0.0/12 fd00::/8' \
	CHECK "$(conf '{"exclude":[5433,"10.96.0.0/12","fd00::/8"]}')"
# A module without exclusions has none: right for a configuration with none.
FAKE_TSOR=noexcludes s "" CHECK "$C"
FAKE_TSOR=noexcludes e 103 'tsor excludes none there, the configuration wants 80' \
	CHECK "$(conf '{"exclude":[80]}')"

echo "== scripted netlink replies: errors"
FAKE_TSOR=nomodule e 100 'tsor module not loaded' ADD "$C"
FAKE_TSOR=nomodule e 100 'tsor module not loaded' CHECK "$C"
FAKE_TSOR=nomodule s "" DEL "$C"
FAKE_TSOR=eperm e 101 'permission denied / enabling tsor in /proc/self/ns/net: tsor needs CAP_NET_ADMIN' ADD "$C"
FAKE_TSOR=eperm e 101 'permission denied / disabling tsor' DEL "$C"
FAKE_TSOR=einval e 102 'tsor refused the request / enabling tsor in /proc/self/ns/net: netns fd is not a network namespace: Invalid argument' ADD "$C"
FAKE_TSOR=einval VER=0.4.0 e 102 'tsor refused the request' DEL "$(conf '{"cniVersion":"0.4.0"}')"
FAKE_TSOR=malformed e 102 'reading tsor.s state of /proc/self/ns/net: malformed reply from the kernel: Bad message' CHECK "$C"
FAKE_TSOR=warn run ADD "$C"
same "a warning goes to stderr" "$rc: $out: $err" \
	'0: {"cniVersion":"1.0.0"}: tsor: enabling tsor in /proc/self/ns/net: something to know'
# Whatever the kernel's answer, a clean success or a CNI error.
for seed in $(seq 1 50); do
	FAKE_TSOR=fuzz FAKE_SEED=$seed run CHECK "$C"
	if ! { [ "$rc" = 0 ] && [ -z "$out" ]; } &&
	   ! { [ "$rc" = 1 ] && jq -e '(.code | numbers) and (.msg | strings)' \
			<<<"$out" >/dev/null 2>&1; }; then
		bad "CHECK, fuzzed replies (seed $seed)" "rc $rc" "stdout: $out"
		break
	fi
done
[ "$seed" = 50 ] && ok

summary
