# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Soft-RoCE for single-guest tests: this node's RDMA device, rxe0, on one
# end of a veth pair in the initial namespace, whose address stands for
# the node address.  Sourced after tsor.sh.
#
#   rxe_up    rxe0 ACTIVE on tsr0 ($NODE4/24, $NODE6/64); idempotent
#   rxe_down  rxe0 and tsr0 gone
#   cm_listening ADDR:PORT  an rdma_cm listener is bound there, within 10 s
#                (ADDR:PORT as rdma prints it: IPv6 without brackets)
#   cm_not_listening ADDR:PORT  none is, within 10 s

NODE4=192.168.77.1
NODE6=fd77::1

rxe_active() { [[ $(rdma link show rxe0/1 2>/dev/null) == *" state ACTIVE "* ]]; }

rxe_up() {
	local m
	# rdma_rxe needs the crc32 crypto driver, which nothing loads for it.
	for m in crc32_generic rdma_rxe; do
		modprobe -d "${GUEST_MODROOT:-/}" "$m" || return 1
	done
	if ! ip link show tsr0 >/dev/null 2>&1; then
		ip link add tsr0 type veth peer name tsr1 &&
		ip addr add $NODE4/24 dev tsr0 &&
		ip addr add $NODE6/64 dev tsr0 nodad &&
		ip link set tsr1 up && ip link set tsr0 up || return 1
	fi
	rdma link show rxe0/1 >/dev/null 2>&1 ||
		rdma link add rxe0 type rxe netdev tsr0 || return 1
	wait_until rxe_active
}

rxe_down() {
	rdma link delete rxe0 2>/dev/null
	ip link del tsr0 2>/dev/null
	return 0
}

# `rdma` is slow under emulation: a few tries, not wait_until's 200.
_cm_listen_state() {
	local want=$1 addr=$2 _ out
	for _ in {1..20}; do
		out=$(rdma resource show cm_id)
		if [[ $out == *"state LISTEN "*"src-addr $addr "* ]]; then
			[ "$want" = 1 ] && return 0
		else
			[ "$want" = 0 ] && return 0
		fi
		sleep 0.5
	done
	echo "$out"
	return 1
}

cm_listening() { _cm_listen_state 1 "$1"; }
cm_not_listening() { _cm_listen_state 0 "$1"; }
