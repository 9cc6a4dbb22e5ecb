#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Sockets are taken over in enabled namespaces only, and still look like TCP.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a

for fam in 4 6; do
	opt=(); [ $fam = 6 ] && opt=(-6)
	a0=$(counter pod_a sock_created) b0=$(counter pod_b sock_created) g0=$(counter global sock_created)
	check_match "IPv$fam socket in an enabled netns says SO_PROTOCOL 6" "proto=6" \
		"$(ip netns exec pod_a "$STREAM" sockinfo "${opt[@]}")"
	check_eq "IPv$fam socket in an enabled netns is taken over" $((a0 + 1)) \
		"$(counter pod_a sock_created)"
	check_eq "the global counter follows" $((g0 + 1)) "$(counter global sock_created)"
	check_match "IPv$fam socket in a disabled netns says SO_PROTOCOL 6" "proto=6" \
		"$(ip netns exec pod_b "$STREAM" sockinfo "${opt[@]}")"
	check_eq "IPv$fam socket in a disabled netns is not taken over" "$b0" \
		"$(counter pod_b sock_created)"
done

# /proc/net/protocols counts hashed sockets per namespace and protocol: a
# listener in pod_a is a TSOR socket, one in pod_b is TCP.
for ns in pod_a pod_b; do
	for fam in "" -6; do
		ip netns exec $ns "$STREAM" hold --listen $fam -p 7001 \
			--until-signal --timeout 60 >/dev/null &
	done
done
wait_listen pod_a 7001 2 && wait_listen pod_b 7001 2
check_eq "pod_a: IPv4 listener counted as TSOR" 1 "$(inuse pod_a TSOR)"
check_eq "pod_a: IPv6 listener counted as TSORv6" 1 "$(inuse pod_a TSORv6)"
check_eq "pod_a: no plain TCP socket" 0 "$(inuse pod_a TCP)"
check_eq "pod_b: listeners counted as TCP" 1 "$(inuse pod_b TCP)"
check_eq "pod_b: no TSOR socket" 0 "$(inuse pod_b TSOR)"
check_eq "pod_a: two tsor sockets alive" 2 "$(counter pod_a sock_active)"
jobs -p | xargs -r kill; wait

# Asking for the private protocol directly is only honoured where enabled.
r0=$(counter pod_b sock_refused)
check_match "protocol 253 refused in a disabled netns" "errno=93 " \
	"$(ip netns exec pod_b "$STREAM" sockinfo --proto 253 2>&1)"
check_eq "the refusal is counted" $((r0 + 1)) "$(counter pod_b sock_refused)"
check_match "protocol 253 in an enabled netns reports TCP" "proto=6" \
	"$(ip netns exec pod_a "$STREAM" sockinfo --proto 253)"
check_match "explicit IPPROTO_TCP is taken over too" "proto=6" \
	"$(ip netns exec pod_a "$STREAM" sockinfo --proto 6)"
check_eq "sock_active returns to zero once all are closed" 0 "$(counter pod_a sock_active)"

# Addresses are the real ones: the client's local end is the server's peer.
"$TSORCTL" netns enable pod_b
for addr in $B4 $B6; do
	check "short stream to $addr between enabled pods" \
		stream pod_b pod_a 7003 "$addr" -n 1K
done
ip netns exec pod_b "$STREAM" server -p 7004 -n 1K --print-addrs >"$TSOR_OUT/srv.$$" &
wait_listen pod_b 7004
cline=$(ip netns exec pod_a "$STREAM" client -a $B4 -p 7004 -n 1K --print-addrs | grep 'conn=')
wait
sline=$(grep 'conn=' "$TSOR_OUT/srv.$$"); rm -f "$TSOR_OUT/srv.$$"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
check_eq "client's getsockname is the server's getpeername" \
	"$(field local "$cline")" "$(field peer "$sline")"
check_eq "client's getpeername is the server's getsockname" \
	"$(field peer "$cline")" "$(field local "$sline")"
check_match "client's peer is the address it dialled" "^$B4:7004$" "$(field peer "$cline")"
delpods
