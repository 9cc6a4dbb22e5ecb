#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Enabling and disabling takeover per network namespace.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

tsor_load
mkpods
enabled() { "$TSORCTL" -j netns show "$@" | jq -r '.[0].enabled'; }

check_eq "namespaces start disabled" false "$(enabled pod_a)"
check_eq "no namespace is listed before enabling" "[]" \
	"$("$TSORCTL" -j netns show | jq -c .)"
check "enable pod_a by name" "$TSORCTL" netns enable pod_a
check_eq "pod_a is enabled" true "$(enabled pod_a)"
check_eq "pod_b is still disabled" false "$(enabled pod_b)"
check_eq "the dump lists pod_a only" '["pod_a"]' \
	"$("$TSORCTL" -j netns show | jq -c '[.[].name]')"
check_eq "the dump reports pod_a's inode" \
	"$(stat -L -c %i /run/netns/pod_a)" \
	"$("$TSORCTL" -j netns show | jq -r '.[0].inum')"
check_match "text output names the namespace" "^pod_a .*enabled" \
	"$("$TSORCTL" netns show)"
check "enabling twice is harmless" "$TSORCTL" netns enable pod_a
check_eq "still listed once" 1 "$("$TSORCTL" -j netns show | jq length)"

ip netns exec pod_b sleep 60 & sleeper=$!
# $! exists before it has entered pod_b; a pid read too early is ours.
in_pod_b() {
	[ "$(readlink "/proc/$sleeper/ns/net")" = "net:[$(stat -L -c %i /run/netns/pod_b)]" ]
}
wait_until in_pod_b
check "enable by pid" "$TSORCTL" netns enable pid $sleeper
check_eq "pod_b enabled through a pid" true "$(enabled pod_b)"
kill $sleeper; wait $sleeper 2>/dev/null
check "disable pod_b from inside (caller's own netns)" \
	ip netns exec pod_b "$TSORCTL" netns disable
check_eq "pod_b is disabled" false "$(enabled pod_b)"
check_eq "a pid selects that process's netns" true \
	"$(ip netns exec pod_a sh -c 'exec "$0" -j netns show pid $$' "$TSORCTL" |
	   jq -r '.[0].enabled')"
check "disable pod_a" "$TSORCTL" netns disable pod_a
check_eq "nothing listed after disabling" 0 "$("$TSORCTL" -j netns show | jq length)"

# A namespace deleted while enabled must vanish from the module cleanly.
check "re-enable pod_a" "$TSORCTL" netns enable pod_a
check "delete pod_a while enabled" ip netns del pod_a
none_listed() { [ "$("$TSORCTL" -j netns show | jq length)" = 0 ]; }
wait_until none_listed
check_eq "the deleted namespace is no longer listed" 0 \
	"$("$TSORCTL" -j netns show | jq length)"
check_fail "an unknown name is a usage error" "$TSORCTL" netns enable no_such_ns
delpods
