#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The pairing suite of 35-pair.sh over RDMA: with local-path rdma, two
# pods of this node are joined by an RDMA link through Soft-RoCE loopback
# (the same code as between nodes).  37-rdma-loss.sh loses the link.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"
. "$REPO/selftests/lib/pair.sh"
. "$REPO/selftests/lib/rxe.sh"

tsor_load
check "Soft-RoCE rxe0 is up on tsr0" rxe_up || exit 1
check "dev set ibdev rxe0 addr $NODE4 local-path rdma" \
	"$TSORCTL" dev set ibdev rxe0 addr $NODE4 local-path rdma
check_match "dev show says so" "ibdev rxe0 addr $NODE4 port 18515 local-path rdma" \
	"$("$TSORCTL" dev show)"
check "the RDMA listener is on $NODE4:18515" cm_listening "$NODE4:18515"

mkpods
pair_suite $NODE4 rdma 256K

# The loopback link is two link objects: the dialled end and the accepted one.
links=$("$TSORCTL" -j link show)
check_eq "two link ends, both up" "up up" \
	"$(jq -r '[.[] | select(.remote == "'$NODE4'") | .state] | join(" ")' <<<"$links")" ||
	diag "$links"
check_eq "and from $NODE4" "$NODE4 $NODE4" \
	"$(jq -r '[.[] | .local] | join(" ")' <<<"$links")"
# Every channel went once its sockets closed.
no_channels() { [ "$("$TSORCTL" -j link show | jq '[.[].channels] | add')" = 0 ]; }
check "no channel is left on the links" wait_until no_channels
# Released channels deregistered their rings: the links' QPs stay, no MR.
res=$(rdma resource show rxe0)
check_match "no MR is left on rxe0" " mr 0( |$)" "$res"
check_match "the two link ends' QPs are there" " qp [2-9]" "$res"

# Released by the transport, dropped by their sockets: every channel freed.
no_channel() { [ "$(counter global channel_active)" = 0 ]; }
check "every channel was freed" wait_until no_channel
delpods
check "rmmod tsor" tsor_unload_wait
rxe_down
