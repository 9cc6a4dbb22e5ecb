#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest itself: the packaged kernel runs, its modules load, both by hand
# and through the kernel's own request_module(), and network namespaces work.
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"

ns=tsor-guest-$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT

check_eq "kernel release is the packaged ABI" "$ABI" "$(uname -r)"
check "results directory is writable" touch "$TSOR_OUT/.guest/probe"
check "modprobe -d \$GUEST_MODROOT veth" modprobe -d "$GUEST_MODROOT" veth
check "ip netns add" ip netns add "$ns"
check "veth pair in a fresh netns" ip -n "$ns" link add name va type veth peer name vb
# No modprobe by hand: the kernel asks for rtnl-link-dummy itself.
check "request_module() loads dummy" ip -n "$ns" link add name d0 type dummy
check "dummy is loaded" grep -q '^dummy ' /proc/modules
