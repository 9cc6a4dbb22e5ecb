# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# The data-path tests (selftests/tests/6x-*.sh): one node, two pods on a
# bridge, as a bridge CNI would wire them, and every test run once per
# transport.  Sourced after tap.sh and tsor.sh.
#
#   root ns   br0    10.77.0.1/24  fd77::1/64   (the node; rxe0 on br0 for rdma)
#   pod_a     eth0   10.77.0.2/24  fd77::2/64   (clients)
#   pod_b     eth0   10.77.0.3/24  fd77::3/64   (servers)
#   peer table: 10.77.0.0/24 and fd77::/64 via 10.77.0.1, this node
#
# Transports ("paths"): shm, the same-node shared-memory one, with no RDMA
# device set; rdma, Soft-RoCE rxe0 on br0 set as the node's device with
# local-path rdma, so that two pods of this node pair over an RDMA link
# (loopback through rxe0).  TSOR_DATA_PATHS (comma-separated, set by
# run.sh --path) says which to run, DATA_PATHS_DEFAULT when unset.
#
#   data_each_path FUNC     run FUNC once per path, in a subshell, with
#                           DATA_PATH set, the topology up for that path and
#                           TAP names tagged " [PATH]"; torn down after
#   data_stream DESC SNS CNS PORT ADDR [tsor_stream options...]
#                           a byte-exact stream that must be paired: checks
#                           both ends' counters and both inner TCP sockets'
#                           tcp_info (see there)
#   snap / now / delta NS NAME
#                           counters before, after, and how much they grew
#                           (NS: pod_a, pod_b, global)
#   tap_from DESC-PREFIX    turn a program's 'ok - ...' / 'not ok - ...' /
#                           '# ...' lines on stdin into this script's TAP

# The paths a run tests when run.sh is not told (--path).
DATA_PATHS_DEFAULT=shm,rdma

DATA_NODE4=10.77.0.1 DATA_NODE6=fd77::1
DATA_A4=10.77.0.2 DATA_A6=fd77::2
DATA_B4=10.77.0.3 DATA_B6=fd77::3
DATA_BR_MAC=02:74:73:ff:00:01
# An address on br0 that answers IP but runs no tsor: a node without it.
DATA_X4=10.77.0.100 DATA_X6=fd77::100
# A second address of the node on br0, where tsor does not listen.
# shellcheck disable=SC2034 # used by the tests that source this
DATA_Y4=10.77.0.50
# shellcheck disable=SC2034 # used by the tests that source this
SEM="$REPO/selftests/progs/tsor_sem"

# counter NS NAME, but 0 for a counter this module does not have.
_data_counter() {
	local v
	v=$(counter "$@" 2>/dev/null) || v=0
	echo "${v:-0}"
}

declare -A DATA_SNAP=() DATA_NOW=()
# _data_read ARRAY: every counter of pod_a, pod_b and the module into the
# associative array ARRAY, as NS.NAME.  tsorctl's plain output, not JSON:
# every process costs under emulation, and these are read often.
_data_read() {
	local -n _arr=$1
	local ns k v
	_arr=()
	for ns in pod_a pod_b global; do
		local scope=(netns "$ns")
		[ "$ns" = global ] && scope=(global)
		while read -r k v; do
			[[ $v =~ ^[0-9]+$ ]] && _arr[$ns.$k]=$v
		done <<<"$("$TSORCTL" stats show "${scope[@]}" 2>/dev/null)"
	done
}

# snap: remember every counter; deltas are live until now.
snap() {
	_data_read DATA_SNAP
	DATA_NOW=()
	[ ${#DATA_SNAP[@]} -gt 0 ] || echo "snap: no counters read" >&2
}

# now: read every counter once; deltas use these until the next snap.
now() {
	_data_read DATA_NOW
}

# delta NS NAME: how much NAME grew in NS from snap to now (or to this
# moment, before any now).
delta() {
	local v
	if [ ${#DATA_NOW[@]} -gt 0 ]; then
		v=${DATA_NOW[$1.$2]:-0}
	else
		v=$(_data_counter "$1" "$2")
	fi
	echo $(( v - ${DATA_SNAP[$1.$2]:-0} ))
}

# fallback_deltas NS: "name=delta" for every fallback counter that moved.
fallback_deltas() {
	local k d out=''
	for k in "${!DATA_SNAP[@]}"; do
		[[ $k == "$1".fallback_* ]] || continue
		# No command substitution when now has run: each is a fork, and
		# forks are slow in the emulated guest.
		if [ ${#DATA_NOW[@]} -gt 0 ]; then
			d=$(( ${DATA_NOW[$k]:-0} - ${DATA_SNAP[$k]:-0} ))
		else
			d=$(delta "$1" "${k#"$1".}")
		fi
		[ "$d" = 0 ] || out+="${k#"$1".}=$d "
	done
	echo "${out% }"
}

# dv VAR NS NAME: VAR = delta NS NAME from snap to now, without a fork.
dv() {
	printf -v "$1" '%d' $(( ${DATA_NOW[$2.$3]:-0} - ${DATA_SNAP[$2.$3]:-0} ))
}

# log_sums LOG: "CONNS SENT RECV TCPI_RECEIVED" of a tsor_stream log: its
# per-connection lines counted and summed, and its summary's
# tcpi_bytes_received ('-' if it has none).
log_sums() {
	awk '/conn=/ {
		n++
		for (i = 1; i <= NF; i++) {
			split($i, f, "=")
			if (f[1] == "sent") s += f[2]
			if (f[1] == "recv") r += f[2]
		}
	}
	/^summary / {
		for (i = 1; i <= NF; i++) {
			split($i, f, "=")
			if (f[1] == "tcpi_bytes_received") t = f[2]
		}
	}
	END { print n + 0, s + 0, r + 0, (t == "" ? "-" : t) }' "$1"
}

# counters_diag: the non-zero counters of both pods and the module.
counters_diag() {
	local ns
	for ns in pod_a pod_b; do
		echo "$ns: $("$TSORCTL" stats show netns $ns 2>&1 | awk '$NF != 0' | tr '\n' ' ')"
	done
	echo "global: $("$TSORCTL" stats show global 2>&1 | awk '$NF != 0' | tr '\n' ' ')"
}

_data_pod() {
	local ns=$1 v4=$2 v6=$3 host=$4 mac
	# A MAC that follows from the address: a pod recreated with the same
	# address must not depend on its neighbours noticing a new MAC, which
	# takes seconds (a suspect in one failed connect of 63-data-failure
	# after its pod_b was recreated, on a loaded machine).
	mac=$(printf '02:74:73:00:00:%02x' "${v4##*.}")
	ip netns add "$ns"
	ip link add "$host" type veth peer name eth0 address "$mac" netns "$ns"
	ip link set "$host" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$v4/24" dev eth0
	ip -n "$ns" addr add "$v6/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	ip -n "$ns" route add default via $DATA_NODE4
	ip -n "$ns" -6 route add default via $DATA_NODE6
}

# data_rxe_up: Soft-RoCE rxe0 on br0, ACTIVE.
data_rxe_up() {
	local m
	for m in crc32_generic rdma_rxe; do
		modprobe -d "$GUEST_MODROOT" "$m" || return 1
	done
	rdma link show rxe0/1 >/dev/null 2>&1 ||
		rdma link add rxe0 type rxe netdev br0 || return 1
	wait_until eval '[[ $(rdma link show rxe0/1) == *" state ACTIVE "* ]]'
}

# data_dev_rdma: rxe0 is the node's device and carries same-node pairs.
data_dev_rdma() {
	data_rxe_up &&
	"$TSORCTL" dev set ibdev rxe0 addr $DATA_NODE4 local-path rdma
}

# data_topo_up PATH
data_topo_up() {
	data_topo_down
	tsor_load || return 1
	# A MAC of its own: a bridge otherwise takes its lowest port's, so
	# deleting a pod's veth (63) could change it, which re-makes rxe0's
	# GIDs and fails the link's QPs (what 65 does on purpose).
	ip link add br0 address $DATA_BR_MAC type bridge
	ip addr add $DATA_NODE4/24 dev br0
	ip addr add $DATA_NODE6/64 dev br0 nodad
	ip link set br0 up
	_data_pod pod_a $DATA_A4 $DATA_A6 va
	_data_pod pod_b $DATA_B4 $DATA_B6 vb
	"$TSORCTL" netns enable pod_a
	"$TSORCTL" netns enable pod_b
	"$TSORCTL" peer add 10.77.0.0/24 via $DATA_NODE4
	"$TSORCTL" peer add fd77::/64 via $DATA_NODE4
	case $1 in
	shm)
		# A module without 'dev set' has shm as its only local path.
		if ! out=$("$TSORCTL" dev set local-path shm 2>&1) &&
		   [[ $out != *"not implemented"* && $out != *"not supported"* ]]; then
			echo "dev set local-path shm: $out" >&2
			return 1
		fi ;;
	rdma)
		data_dev_rdma || return 1 ;;
	*)
		echo "data_topo_up: unknown path '$1'" >&2
		return 1 ;;
	esac
}

data_topo_down() {
	local ns
	for ns in pod_a pod_b node_x; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	ip link del br0 2>/dev/null || true
	if tsor_loaded; then
		"$TSORCTL" peer sync - </dev/null >/dev/null 2>&1 || true
		# Back to the automatic endpoint and shm (as tests/15-dev does).
		"$TSORCTL" dev set addr 0.0.0.0 port 18515 local-path shm \
			>/dev/null 2>&1 || true
	fi
	rdma link delete rxe0 2>/dev/null || true
}

# data_node_x: a host on br0 at DATA_X4/DATA_X6 that runs no tsor (a netns
# of its own, so the node does not own the address).
data_node_x() {
	ip netns add node_x
	ip link add vx type veth peer name eth0 netns node_x
	ip link set vx master br0 up
	ip -n node_x link set lo up
	ip -n node_x addr add $DATA_X4/24 dev eth0
	ip -n node_x addr add $DATA_X6/64 dev eth0 nodad
	ip -n node_x link set eth0 up
}

# data_each_path FUNC: FUNC once per path in TSOR_DATA_PATHS.
data_each_path() {
	local fn=$1 path base=$TAP_NAME rc=0 r t0
	local paths=${TSOR_DATA_PATHS:-$DATA_PATHS_DEFAULT}
	for path in ${paths//,/ }; do
		TAP_NAME="$base [$path]"
		if ! out=$(data_topo_up "$path" 2>&1); then
			fail "topology for $path is up" "$out"
			rc=1
			continue
		fi
		r=0 t0=$SECONDS
		(DATA_PATH=$path; set -e; "$fn") || r=$?
		[ $r = 0 ] || rc=1
		data_topo_down
		diag "$base [$path]: $((SECONDS - t0)) s"
	done
	TAP_NAME=$base
	return $rc
}

# sum_field KEY LOG: KEY=N summed over the per-connection lines.
sum_field() {
	grep 'conn=' "$2" | grep -o " $1=[0-9]*" | awk -F= '{ s += $2 } END { print s + 0 }'
}

# summary_field KEY LOG: KEY=N of the summary line.
summary_field() {
	sed -n "s/^summary .* $1=\([0-9]*\).*/\1/p" "$2" | head -n1
}

# tcpi_over LOG MAX_ACKED MAX_RECEIVED: the connection lines whose inner
# TCP carried more than that (or that have no tcp_info).
tcpi_over() {
	grep 'conn=' "$1" | awk -v ma="$2" -v mr="$3" '{
		a = -1; r = -1
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^tcpi_bytes_acked=/) { split($i, f, "="); a = f[2] }
			if ($i ~ /^tcpi_bytes_received=/) { split($i, f, "="); r = f[2] }
		}
		if (a < 0 || r < 0 || a > ma || r > mr) print
	}'
}

# data_stream DESC SERVER_NS CLIENT_NS PORT ADDR [tsor_stream options...]
#
# A byte-exact stream (tsor.sh's stream: both ends ok, SHA-256 of every
# connection agree), then, since the client's bytes must all have crossed
# the channel:
#   - conn_paired grew by the number of connections in both pods;
#   - no fallback counter moved;
#   - DATA_PATH's tx/rx byte counters match what each end moved, less what
#     the server wrote before the switch (TCP's, server to client only:
#     tcp_tx_bytes of the server equals tcp_rx_bytes of the client);
#   - tcp_tx_bytes of the client and tcp_rx_bytes of the server stayed 0;
#   - the inner TCP sockets agree: every client socket's tcp_info shows at
#     most its SYN and FIN acknowledged, every server socket's at most a
#     FIN received; the client's tcpi_bytes_received sum is the TCP part.
data_stream() {
	local desc=$1 sns=$2 cns=$3 port=$4 addr=$5
	shift 5
	local p=$DATA_PATH cli srv over tcp_part t0=$SECONDS
	local conns c_sent c_recv c_tcpi srv_conns s_sent s_recv s_tcpi
	local c_paired s_paired c_tcptx s_tcprx c_ptx s_prx s_ptx c_tcprx c_prx fb
	snap
	if ! TSOR_KEEP_LOGS=1 check "$desc: byte-exact both ways" \
		stream "$sns" "$cns" "$port" "$addr" "$@"; then
		diag "$(counters_diag)"
		rm -f "$TSOR_OUT"/stream.$$.*
		return 1
	fi
	cli=$TSOR_OUT/stream.$$.cli srv=$TSOR_OUT/stream.$$.srv
	now
	read -r conns c_sent c_recv c_tcpi <<<"$(log_sums "$cli")"
	read -r srv_conns s_sent s_recv s_tcpi <<<"$(log_sums "$srv")"
	dv c_paired "$cns" conn_paired; dv s_paired "$sns" conn_paired
	dv c_tcptx "$cns" tcp_tx_bytes; dv s_tcprx "$sns" tcp_rx_bytes
	dv c_ptx "$cns" "${p}_tx_bytes"; dv s_prx "$sns" "${p}_rx_bytes"
	dv s_ptx "$sns" "${p}_tx_bytes"; dv c_prx "$cns" "${p}_rx_bytes"
	dv tcp_part "$sns" tcp_tx_bytes; dv c_tcprx "$cns" tcp_rx_bytes
	fb="$(fallback_deltas "$cns")$(fallback_deltas "$sns")"
	check_eq "$desc: $conns connections paired (client)" "$conns" "$c_paired" ||
		diag "$(counters_diag)"
	check_eq "$desc: $conns connections paired (server)" "$conns" "$s_paired" || true
	check_eq "$desc: no fallback" "" "$fb" || true
	check_eq "$desc: client sent nothing over TCP (tcp_tx_bytes)" 0 "$c_tcptx" || true
	check_eq "$desc: server received nothing over TCP (tcp_rx_bytes)" 0 "$s_tcprx" || true
	check_eq "$desc: ${p}_tx_bytes of the client = what it sent" "$c_sent" "$c_ptx" || true
	check_eq "$desc: ${p}_rx_bytes of the server = what it received" "$s_recv" "$s_prx" || true
	check_eq "$desc: server to client: ${p}_tx_bytes + tcp_tx_bytes = what the server sent" \
		"$s_sent" $((s_ptx + tcp_part)) || true
	check_eq "$desc: client received on TCP what the server sent on it" \
		"$tcp_part" "$c_tcprx" || true
	check_eq "$desc: ${p}_rx_bytes of the client = what it received less the TCP part" \
		$((c_recv - tcp_part)) "$c_prx" || true
	over=$(tcpi_over "$cli" 2 $((tcp_part + 1)))
	check_eq "$desc: tcp_info of every client socket: no payload sent on TCP" "" "$over" || true
	over=$(tcpi_over "$srv" $((tcp_part + 1)) 1)
	check_eq "$desc: tcp_info of every server socket: no payload received on TCP" "" "$over" || true
	# What the client's TCP received is the server's TCP part, and a FIN
	# each at most.  (Not the server's tcpi_bytes_acked: read just before
	# its close, it may still wait for a delayed ACK.)
	if [ "$c_tcpi" != - ] && [ "$c_tcpi" -ge "$tcp_part" ] &&
	   [ "$c_tcpi" -le $((tcp_part + conns)) ]; then
		ok "$desc: client's tcp_info agrees with the server's tcp_tx_bytes ($tcp_part bytes before the switch)"
	else
		fail "$desc: client's tcp_info agrees with the server's tcp_tx_bytes ($tcp_part bytes before the switch)" \
			"tcpi_bytes_received sum '$c_tcpi', tcp_tx_bytes delta $tcp_part, $conns connections"
	fi
	diag "$desc: $((SECONDS - t0)) s, $conns conns, client sent $c_sent B, server sent $s_sent B ($tcp_part before the switch, $srv_conns server conns); client's tcpi_bytes_received $c_tcpi, server's $s_tcpi"
	rm -f "$TSOR_OUT"/stream.$$.*
}

# tap_from PREFIX: TAP-able lines on stdin ('ok - NAME: ...', 'not ok - ...',
# '# ...') become this script's points, named PREFIX NAME: ...; other lines
# become diagnostics.  Fails if any point failed or none came.
tap_from() {
	local prefix=$1 line pending='' why='' n=0 bad=0
	flush() {
		[ -n "$pending" ] || return 0
		n=$((n + 1))
		if [[ $pending == ok\ -\ * ]]; then
			ok "$prefix${pending#ok - }"
		else
			bad=$((bad + 1))
			fail "$prefix${pending#not ok - }" "${why%$'\n'}" || true
		fi
		pending='' why=''
	}
	while IFS= read -r line; do
		case $line in
		'ok - '*|'not ok - '*) flush; pending=$line ;;
		'# '*) if [ -n "$pending" ]; then why+="${line#\# }"$'\n'; else diag "${line#\# }"; fi ;;
		*) flush; diag "$line" ;;
		esac
	done
	flush
	[ $n -gt 0 ] && [ $bad = 0 ]
}
