# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# The two-node topology: two guests booted at once by boot_nodes
# (selftests/lib/boot.sh), joined on eth0.  Each runs the same test file of
# selftests/tests2/, which branches on $TSOR_NODE (1 or 2).  Pods are network
# namespaces in each node.
#
#   node  eth0
#   1     192.168.100.1/24  fd00:100::1/64
#   2     192.168.100.2/24  fd00:100::2/64
#
# NODE_IP4[N] and NODE_IP6[N] are node N's addresses, NODE_PEER the other
# node's number.
#
#   node_barrier NAME [TIMEOUT]  wait until the other node reached NAME too
#   node_put KEY VALUE           publish a small value for the other node
#   node_get KEY [TIMEOUT]       print the other node's value of KEY, once it
#                                has put it
#   node_rxe_up                  Soft-RoCE device rxe0 on eth0, ACTIVE;
#                                idempotent
#   node_pod NET                 (re)make the pod netns 'pod': NET.N.2/24 on
#                                its eth0 (N: this node), routed through
#                                the node's vpod (NET.N.1), and the other
#                                node's pods (NET.P.0/24) through eth0
#   node_expect_down             this node is about to stop its own guest on
#                                purpose (a test of the other node's failure
#                                handling): boot_nodes and the other node's
#                                harness take its end as expected, for this
#                                test file only
#   node_peer_down_expected      the other node said so, in this run
#
# The nodes meet in $TSOR_EXCHANGE, a host directory both guests mount over
# 9p, in a subdirectory per test file ($NODE_SCOPE, set by the harness), so
# that nothing carries over from one test to the next.  A wait ends after
# TIMEOUT seconds (default $NODE_TIMEOUT, 120), or as soon as the other node
# finished the test file or its guest stopped, with a message on stderr and
# status 1.  Each node may meet a barrier any number of times, and should
# put a KEY once.  NAME and KEY: letters, digits, '_' and '-'.

NODE_IP4=('' 192.168.100.1 192.168.100.2)
NODE_IP6=('' fd00:100::1 fd00:100::2)
NODE_PEER=$((3 - ${TSOR_NODE:-1}))
NODE_TIMEOUT=${NODE_TIMEOUT:-120}
NODE_SCOPE=${NODE_SCOPE:-$(basename "$0" .sh)}

_node_err() {
	echo "nodes: node ${TSOR_NODE:-?}, $NODE_SCOPE: $*" >&2
	return 1
}

# The directory of the current test file, made on first use.
_node_dir() {
	if [[ ${TSOR_NODE:-} != [12] ]] || [ ! -d "${TSOR_EXCHANGE:-}" ]; then
		_node_err "not a node: TSOR_NODE='${TSOR_NODE:-}' TSOR_EXCHANGE='${TSOR_EXCHANGE:-}'"
		return 1
	fi
	mkdir -p "$TSOR_EXCHANGE/$NODE_SCOPE" && echo "$TSOR_EXCHANGE/$NODE_SCOPE"
}

_node_name() {
	[[ $1 =~ ^[A-Za-z0-9_-]+$ ]] || _node_err "bad name '$1'"
}

# _node_wait FILE WHAT TIMEOUT: until the other node creates FILE.
_node_wait() {
	local file=$1 what=$2 limit=$((SECONDS + $3)) gone
	local exited=${file%/*}/exit.node$NODE_PEER down=$TSOR_EXCHANGE/down.node$NODE_PEER
	while [ ! -e "$file" ]; do
		gone=''
		if [ -e "$down" ]; then
			gone="its guest stopped"
		elif [ -e "$exited" ]; then
			gone="it left this test ($(cat "$exited"))"
		elif [ $SECONDS -ge "$limit" ]; then
			_node_err "node $NODE_PEER did not $what within $3 s"
			return 1
		fi
		# It may have got there just before leaving.
		if [ -n "$gone" ] && [ ! -e "$file" ]; then
			_node_err "node $NODE_PEER will never $what: $gone"
			return 1
		fi
		sleep 0.1
	done
}

node_barrier() {
	local dir k=1
	_node_name "$1" && dir=$(_node_dir) || return 1
	while [ -e "$dir/barrier.$1.$k.node$TSOR_NODE" ]; do
		k=$((k + 1))
	done
	: >"$dir/barrier.$1.$k.node$TSOR_NODE" &&
		_node_wait "$dir/barrier.$1.$k.node$NODE_PEER" \
			"reach barrier '$1'" "${2:-$NODE_TIMEOUT}"
}

# Written aside and renamed, so that the other node reads all or nothing.
node_put() {
	local dir
	_node_name "$1" && dir=$(_node_dir) || return 1
	printf '%s\n' "$2" >"$dir/.put.$1.node$TSOR_NODE" &&
		mv -f "$dir/.put.$1.node$TSOR_NODE" "$dir/put.$1.node$TSOR_NODE"
}

node_get() {
	local dir
	_node_name "$1" && dir=$(_node_dir) || return 1
	_node_wait "$dir/put.$1.node$NODE_PEER" "put '$1'" "${2:-$NODE_TIMEOUT}" &&
		cat "$dir/put.$1.node$NODE_PEER"
}

# node_exit STATUS: this node is done with the test file (the harness says
# so), and the other one need not wait for it any more.
node_exit() {
	local dir
	dir=$(_node_dir) || return 1
	echo "$1" >"$dir/.exit.node$TSOR_NODE" &&
		mv -f "$dir/.exit.node$TSOR_NODE" "$dir/exit.node$TSOR_NODE"
}

# Outside the test file's directory: the harness and boot_nodes read it
# after the file ended.  It names the test file, for their messages.
node_expect_down() {
	_node_dir >/dev/null || return 1
	printf '%s\n' "$NODE_SCOPE" >"$TSOR_EXCHANGE/.expected-down.node$TSOR_NODE" &&
		mv -f "$TSOR_EXCHANGE/.expected-down.node$TSOR_NODE" \
			"$TSOR_EXCHANGE/expected-down.node$TSOR_NODE"
}

node_peer_down_expected() {
	[ -e "$TSOR_EXCHANGE/expected-down.node$NODE_PEER" ]
}

# rdma_rxe needs the crc32 crypto driver, which nothing loads for it;
# rdma_ucm gives user space the RDMA CM (rping, perftest -R).
node_pod() {
	local net=$1 me=${TSOR_NODE:-1}
	ip netns del pod 2>/dev/null || true
	ip netns add pod &&
	ip link add vpod type veth peer name eth0 netns pod &&
	ip addr add "$net.$me.1/24" dev vpod &&
	ip link set vpod up &&
	ip -n pod link set lo up &&
	ip -n pod addr add "$net.$me.2/24" dev eth0 &&
	ip -n pod link set eth0 up &&
	ip -n pod route add default via "$net.$me.1" &&
	ip route add "$net.$NODE_PEER.0/24" via "${NODE_IP4[NODE_PEER]}" &&
	sysctl -qw net.ipv4.ip_forward=1
}

node_rxe_up() {
	local m
	for m in crc32_generic rdma_rxe rdma_ucm; do
		modprobe -d "$GUEST_MODROOT" "$m" || _node_err "modprobe $m failed" ||
			return 1
	done
	if ! rdma link show rxe0/1 >/dev/null 2>&1; then
		rdma link add rxe0 type rxe netdev eth0 || return 1
	fi
	for _ in {1..300}; do
		[[ $(rdma link show rxe0/1) == *" state ACTIVE "* ]] && return 0
		sleep 0.1
	done
	_node_err "rxe0 not ACTIVE after 30 s: $(rdma link show rxe0/1 2>&1)"
}

# node_tsor_up: tsor loaded, rxe0 up on eth0 and the node's RDMA device,
# each step a check, as the two-node tests start.
node_tsor_up() {
	check "tsor.ko loads" tsor_load
	check "rxe0 comes up on eth0" node_rxe_up
	check "dev set ibdev rxe0 addr ${NODE_IP4[TSOR_NODE]}" \
		"$TSORCTL" dev set ibdev rxe0 addr "${NODE_IP4[TSOR_NODE]}"
}

# node_pod_up NET: this node's pod (node_pod NET), tsor on in it, and both
# nodes' pod CIDRs (NET.1.0/24, NET.2.0/24) in the peer table; checked.
node_pod_up() {
	local n
	check "a pod routed through the node" node_pod "$1"
	check "takeover on in the pod" "$TSORCTL" netns enable pod
	for n in 1 2; do
		check "peer table: node $n's pods" \
			"$TSORCTL" peer add "$1.$n.0/24" via "${NODE_IP4[n]}"
	done
}

# until SECONDS CMD...: CMD succeeds within SECONDS (wait_until counts
# tries, which a loaded host makes long).
until_s() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.5
	done
}

# node_kill_jobs: kills the test's background jobs (its EXIT trap).
node_kill_jobs() {
	local pid
	for pid in $(jobs -p); do
		kill "$pid" 2>/dev/null || true
	done
}

# Run by boot_nodes before the command: the node's name, eth0 and the
# exchange.  virtio_net is a module in Debian's kernel, and no udev loads it.
node_init() {
	local n=${TSOR_NODE:-} opts=trans=virtio,version=9p2000.L
	if [[ $n != [12] ]] || [ -z "${TSOR_EXCHANGE:-}" ]; then
		echo "tsor-node: error: TSOR_NODE (1 or 2) and TSOR_EXCHANGE must be set" >&2
		return 1
	fi
	if ! { hostname "tsor-node$n" &&
	       modprobe -d "$GUEST_MODROOT" virtio_net &&
	       ip addr add "${NODE_IP4[n]}/24" dev eth0 &&
	       ip addr add "${NODE_IP6[n]}/64" dev eth0 nodad &&
	       ip link set eth0 up &&
	       mount -t 9p -o "$opts" tsorx "$TSOR_EXCHANGE"; }; then
		echo "tsor-node: error: cannot set up node $n" >&2
		return 1
	fi
}
