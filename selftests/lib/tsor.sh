# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Helpers for guest tests that drive tsor.ko.  Sourced after tap.sh.
#
# Topology of mkpods: two "pod" namespaces joined by a veth pair, as a CNI
# would give two pods on one node.
#   pod_a  eth0 10.10.0.1/24  fd10::1/64
#   pod_b  eth0 10.10.0.2/24  fd10::2/64

# shellcheck disable=SC2034 # used by the tests that source this
TSORCTL="$REPO/tools/tsorctl"
STREAM="$REPO/selftests/progs/tsor_stream"
NLRAW="$REPO/selftests/progs/tsor_nlraw"
TSOR_KO="$REPO/tsor.ko"

A4=10.10.0.1 B4=10.10.0.2
A6=fd10::1 B6=fd10::2

tsor_loaded() { [ -d /sys/module/tsor ]; }

# tsor_insmod: insmod tsor.ko once the RDMA core it links against
# (ib_core, rdma_cm) is loaded.
tsor_insmod() {
	modprobe -d "${GUEST_MODROOT:-/}" rdma_cm && insmod "$TSOR_KO"
}

tsor_load() {
	tsor_loaded || tsor_insmod
}

# rmmod fails while tsor sockets (TIME_WAIT ones included) pin the module.
tsor_unload() {
	tsor_loaded || return 0
	rmmod tsor
}

mkpods() {
	delpods
	ip netns add pod_a
	ip netns add pod_b
	ip -n pod_a link add eth0 type veth peer name eth0 netns pod_b
	local ns addr4 addr6
	for ns in pod_a pod_b; do
		if [ $ns = pod_a ]; then addr4=$A4 addr6=$A6; else addr4=$B4 addr6=$B6; fi
		ip -n $ns link set lo up
		ip -n $ns addr add $addr4/24 dev eth0
		ip -n $ns addr add $addr6/64 dev eth0 nodad
		ip -n $ns link set eth0 up
	done
}

delpods() {
	ip netns del pod_a 2>/dev/null || true
	ip netns del pod_b 2>/dev/null || true
}

# counter NS NAME: one counter of a namespace ("global" for the module's).
counter() {
	local scope=(netns "$1")
	[ "$1" = global ] && scope=(global)
	"$TSORCTL" -j stats show "${scope[@]}" | jq -er ".stats.$2"
}

# inuse NS PROTO: sockets in use per /proc/net/protocols, seen from NS.
inuse() {
	ip netns exec "$1" awk -v p="$2" '$1 == p { print $3 }' /proc/net/protocols
}

# wait_until CMD...: polls CMD until it succeeds, for up to 20 s (the
# emulated guest is slow: programs start late, namespaces die late).
wait_until() {
	local _
	for _ in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# listening NS PORT [COUNT]: COUNT (1) listeners are up on PORT.
listening() {
	[ "$(ip netns exec "$1" ss -Hltn "sport = :$2" | wc -l)" -ge "${3:-1}" ]
}

# wait_listen NS PORT [COUNT]: until they are.
wait_listen() {
	wait_until listening "$@"
}

# tsor_unload_wait: rmmod, once the sockets pinning the module are gone.
tsor_unload_wait() {
	wait_until rmmod tsor 2>/dev/null
}

# digests KEY LOG: the per-connection SHA-256 values an end printed, sorted.
digests() {
	grep -o "$1=[0-9a-f]*" "$2" | cut -d= -f2 | sort
}

# stream SERVER_NS CLIENT_NS PORT SERVER_ADDR [tsor_stream options...]
# Runs a byte-exact bidirectional stream; both ends must report ok and agree
# on the SHA-256 of each direction.  Logs stay in $TSOR_OUT/stream.$$.{cli,srv}
# on failure, or always with TSOR_KEEP_LOGS set.
stream() {
	local sns=$1 cns=$2 port=$3 addr=$4 fam=()
	shift 4
	case $addr in *:*) fam=(-6) ;; esac
	local out=$TSOR_OUT/stream.$$
	ip netns exec "$sns" "$STREAM" server "${fam[@]}" -p "$port" "$@" \
		>"$out.srv" 2>&1 &
	local spid=$!
	if ! wait_listen "$sns" "$port"; then
		kill $spid 2>/dev/null; wait $spid
		echo "server never listened:"; cat "$out.srv"
		return 1
	fi
	local crc=0 src=0
	ip netns exec "$cns" "$STREAM" client "${fam[@]}" -a "$addr" -p "$port" \
		"$@" >"$out.cli" 2>&1 || crc=$?
	wait $spid || src=$?
	if [ $crc -ne 0 ] || [ $src -ne 0 ]; then
		echo "client rc=$crc:"; tail -n 5 "$out.cli"
		echo "server rc=$src:"; tail -n 5 "$out.srv"
		return 1
	fi
	# What each end sent must be what the other received, as sets of
	# per-connection digests (accept order need not match connect order).
	if [ "$(digests sha_tx "$out.cli")" != "$(digests sha_rx "$out.srv")" ] ||
	   [ "$(digests sha_rx "$out.cli")" != "$(digests sha_tx "$out.srv")" ] ||
	   [ -z "$(digests sha_rx "$out.srv")" ]; then
		echo "digests differ between the ends"
		return 1
	fi
	[ -n "${TSOR_KEEP_LOGS:-}" ] || rm -f "$out.srv" "$out.cli"
}
