#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The netlink fuzzer: random and mutated requests for every command and
# attribute, from an enabled and a disabled namespace, as root and as an
# unprivileged user.  Each must be answered, refused ones must change
# nothing, unprivileged ones must change nothing at all; dmesg stays clean
# (the harness checks it).
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

FUZZ="$REPO/selftests/progs/tsor_nlfuzz"
ITER=${NLFUZZ_ITERATIONS:-3000}

tsor_load
for ns in fz_on fz_off; do
	ip netns del $ns 2>/dev/null || true
	ip netns add $ns
done
"$TSORCTL" netns enable fz_on


# fuzz DESC SEED NS [nobody]: one fuzzer run; its summary goes to the TAP.
fuzz() {
	local desc=$1 seed=$2 ns=$3 who=${4:-} out rc=0
	local args=(-n "$ITER" -s "$seed") run=(ip netns exec "$ns")
	[ -n "$who" ] && run+=(setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=-all) && args+=(--unprivileged)
	out=$("${run[@]}" "$FUZZ" "${args[@]}" 2>&1) || rc=$?
	diag "$(grep -v '^tsor_nlfuzz:' <<<"$out")"
	check_eq "$desc: nothing went wrong" 0 "$rc"
	check_match "$desc: all $ITER requests were sent" "iterations=$ITER " "$out"
	check_match "$desc: some were refused" "refused=[1-9]" "$out"
	check_match "$desc: some were accepted" "accepted=[1-9]" "$out"
}

peers=$("$TSORCTL" -j peer show)
dev=$("$TSORCTL" -j dev show)
fuzz "unprivileged, enabled netns" 3 fz_on nobody
fuzz "unprivileged, disabled netns" 4 fz_off nobody
check_eq "unprivileged runs left the peer table alone" "$peers" \
	"$("$TSORCTL" -j peer show)"
check_eq "and the node endpoint" "$dev" "$("$TSORCTL" -j dev show)"
check_eq "and fz_on enabled" true \
	"$("$TSORCTL" -j netns show fz_on | jq -r '.[0].enabled')"
check_eq "and fz_off disabled" false \
	"$("$TSORCTL" -j netns show fz_off | jq -r '.[0].enabled')"
fuzz "root, enabled netns" 1 fz_on
fuzz "root, disabled netns" 2 fz_off

ip netns del fz_on
ip netns del fz_off
# Root's runs changed settings at random: start the next test afresh.
check "tsor unloads after the fuzzing" tsor_unload_wait
