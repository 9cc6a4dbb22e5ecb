#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Paired connections between two pods of this node: the bytes cross the
# channel, not TCP, and every stream stays byte-exact in every I/O mode.
# TSOR_PATH says what joins them: shm (default) or rdma, which
# 36-pair-rdma.sh sets up.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"
. "$REPO/selftests/lib/pair.sh"

tsor_load
mkpods
# Both pods live on this node; 127.0.0.1 is one of its addresses.
pair_suite "${TSOR_NODE_ADDR:-127.0.0.1}" "${TSOR_PATH:-shm}"
delpods
