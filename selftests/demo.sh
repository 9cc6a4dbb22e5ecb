#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What tsor does, shown in a booted guest: two pods, takeover enabled in
# both, one connection, and the counters that prove the sockets were ours.
set -euo pipefail
. "$REPO/selftests/lib/tsor.sh"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

# tsor.ko links against the RDMA core.
modprobe -d "${GUEST_MODROOT:-/}" rdma_cm
say insmod "$TSOR_KO"
say "$TSORCTL" version
mkpods
say "$TSORCTL" netns enable pod_a
say "$TSORCTL" netns enable pod_b
say "$TSORCTL" netns show

printf '\n\033[1m$ # pod_b serves, pod_a connects: 8 MiB each way, checked byte for byte\033[0m\n'
ip netns exec pod_b "$STREAM" server -p 5201 -n 8M &
wait_listen pod_b 5201
ip netns exec pod_a "$STREAM" client -a "$B4" -p 5201 -n 8M
wait

say "$TSORCTL" stats show netns pod_a
say "$TSORCTL" -j stats show global
printf '\n\033[1m$ # a namespace tsor does not manage keeps plain TCP\033[0m\n'
ip netns add plain
ip netns exec plain "$STREAM" sockinfo
say "$TSORCTL" netns show plain
ip netns del plain
delpods
