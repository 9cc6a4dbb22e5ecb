#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# UDP sockets and kernel sockets are never taken over, even where enabled.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
"$TSORCTL" netns enable pod_a

c0=$(counter pod_a sock_created)
check_match "UDP socket in an enabled netns" "proto=17" \
	"$(ip netns exec pod_a "$STREAM" sockinfo --udp)"
check_match "UDPv6 socket in an enabled netns" "proto=17" \
	"$(ip netns exec pod_a "$STREAM" sockinfo -6 --udp)"
check_eq "no UDP socket was taken over" "$c0" "$(counter pod_a sock_created)"

# rds_tcp opens a kernel TCP listener (port 16385) in every namespace,
# pod_a included; it must stay TCP.
if modprobe -d "$GUEST_MODROOT" rds_tcp 2>/dev/null; then
	wait_listen pod_a 16385
	check_match "rds_tcp's kernel listener exists in pod_a" "16385" \
		"$(ip netns exec pod_a ss -Hltn)"
	check_eq "it is counted as TCP, not TSOR" 0 "$(inuse pod_a TSOR)"
	check_eq "kernel sockets do not count as taken over" "$c0" \
		"$(counter pod_a sock_created)"
	delpods
	rmmod rds_tcp rds 2>/dev/null
else
	skip "kernel TCP socket" "rds_tcp is not available in the guest"
	delpods
fi
