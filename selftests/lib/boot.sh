# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# boot_guest OUTDIR TIMEOUT COMMAND...
#
# Boots one QEMU guest running Debian's $ABI kernel (source setup.sh first)
# with the host's root as its own, read-only, and OUTDIR writable at the same
# path; runs COMMAND there (its words joined into one bash command line, as
# ssh does), from $REPO, with REPO, TSOR_OUT=OUTDIR, ABI and GUEST_MODROOT
# set, then powers off.  In the guest, modprobe -d "$GUEST_MODROOT" MOD loads
# a module, and so does the kernel's own request_module().
#
# The console goes to OUTDIR/console.log and, as BOOT_CONSOLE says, to
# stdout: "tests" (the default) shows the command's output and kernel
# problems, "command" all that follows the start of the command, "all"
# everything from the first line.
#
# Returns, and says in BOOT_RESULT:
#   0  COMMAND exited 0
#   1  COMMAND exited non-zero
#   2  the guest timed out
#   3  the kernel panicked
#   4  the guest stopped before COMMAND finished, or a node's setup failed
#   5  usage error
#
# boot_nodes OUTDIR TIMEOUT COMMAND...
#
# Boots two such guests at once, nodes 1 and 2, joined by a QEMU socket
# netdev on free loopback ports: their eth0.  BOOT_LINK says how: stream
# (the default: over one TCP connection, lossless) or dgram (over UDP, a
# datagram a frame, as on a wire: no Nagle or delayed ACK of the host's
# TCP holds one guest's small frames back behind another, which put tens
# of milliseconds on rxe's request/ACK exchanges; it may drop frames).  Node N has OUTDIR/nodeN as
# its TSOR_OUT (console.log there), both mount OUTDIR/exchange at its own
# path as TSOR_EXCHANGE, and each runs node_init (selftests/lib/nodes.sh:
# TSOR_NODE=N, eth0 up with the node's addresses) before COMMAND.  Their
# consoles go to stdout prefixed with "[nodeN] ".  Sets BOOT_RCS[N] and
# BOOT_RESULTS[N] as boot_guest's status and BOOT_RESULT for each node, and
# returns the larger status.  When a guest stops, OUTDIR/exchange/down.nodeN
# appears, so that the other one stops waiting for it.  A node that said it
# would stop its guest on purpose (node_expect_down: the file
# OUTDIR/exchange/expected-down.nodeN names the test) and then stopped
# before its command finished, without a panic, counts as having succeeded.

# For TSOR_KERNEL_PROBLEMS.
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# Single-quote $1 for sh.
_boot_sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# QEMU splits options at commas; a comma in a path is written twice.
_boot_qpath() { printf '%s' "${1//,/,,}"; }

# Microseconds since the epoch (EPOCHREALTIME's separator follows the locale).
_boot_usec() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }

# Copy the console to the terminal as BOOT_CONSOLE says, each line after
# PREFIX, and tell how long the guest took to reach the command.
_boot_show() {
	local mode=$1 start=$2 prefix=$3 line on=0 ds
	local klog='^\[ *[0-9]+\.[0-9]+\] '
	[ "$mode" = all ] && on=1
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line == *"tsor-guest: running the command"* ]]; then
			ds=$(( ($(_boot_usec) - start) / 100000 ))
			printf '==> %sguest reached the command %d.%d s after QEMU started\n' \
				"$prefix" $((ds / 10)) $((ds % 10))
			on=1
			continue
		fi
		[ $on = 1 ] || continue
		# In "tests" mode kernel lines ("[  1.234] ...") show only when
		# they report a problem.
		if [ "$mode" = tests ] && [[ $line =~ $klog ]] &&
		   ! [[ $line =~ $TSOR_KERNEL_PROBLEMS ]]; then
			continue
		fi
		printf '%s%s\n' "$prefix" "$line"
	done
}

# _boot_prepare OUTDIR COMMAND: the files the guest's init reads from
# OUTDIR/.guest/, and an empty console.log.  OUTDIR must be a physical
# path: the guest mounts it at that same path.
_boot_prepare() {
	local g=$1/.guest
	rm -rf "$g" && mkdir -p "$g" && : >"$1/console.log" || return 1
	printf '%s\n' "$2" >"$g/cmd"
	{
		printf 'TSOR_OUT=%s\n' "$(_boot_sq "$1")"
		printf 'REPO=%s\n' "$(_boot_sq "$REPO")"
		printf 'ABI=%s\n' "$(_boot_sq "$ABI")"
		printf 'GUEST_MODROOT=%s\n' "$(_boot_sq "$GUEST_MODROOT")"
	} >"$g/env"
}

# _boot_qemu OUTDIR TIMEOUT SMP PREFIX [QEMU-ARGS...]: run the guest
# _boot_prepare set up, until it powers off or times out.
_boot_qemu() {
	local out=$1 timeout=$2 smp=$3 prefix=$4 qemu_rc
	shift 4
	# shellcheck disable=SC2054 # QEMU's options are comma-separated
	local qemu=(
		qemu-system-x86_64
		# Never KVM: the guest kernel hangs under it on these hosts.
		-accel tcg,thread=multi -cpu max -smp "$smp" -m 2048
		-nographic -nodefaults -no-user-config -no-reboot -serial stdio
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD"
		# panic=-1: reboot at once on a panic, which -no-reboot turns
		# into QEMU exiting, instead of waiting for the timeout.
		# BOOT_APPEND: more kernel arguments, e.g. ipv6.disable=1.
		-append "console=ttyS0 panic=-1 mitigations=off${BOOT_APPEND:+ $BOOT_APPEND}"
		-fsdev "local,id=r,path=/,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=r,mount_tag=hostroot
		-fsdev "local,id=o,path=$(_boot_qpath "$out"),security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=o,mount_tag=tsorout
		"$@"
	)
	# QEMU's status goes to a file: the pipeline's status is tee's.
	{
		qemu_rc=0
		timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null 2>&1 ||
			qemu_rc=$?
		echo "$qemu_rc" >"$out/.guest/qemu-status"
	} | tee "$out/console.log" |
		_boot_show "${BOOT_CONSOLE:-tests}" "$(_boot_usec)" "$prefix"
}

# _boot_verdict OUTDIR TIMEOUT: how the guest ended, in BOOT_RESULT and the
# status boot_guest returns.
_boot_verdict() {
	local out=$1 timeout=$2 g=$1/.guest qemu_rc status
	qemu_rc=$(cat "$g/qemu-status" 2>/dev/null || true)
	status=$(cat "$g/status" 2>/dev/null || true)
	if grep -aqE '^\[ *[0-9.]+\] Kernel panic - not syncing' "$out/console.log"; then
		BOOT_RESULT="kernel panic (see $out/console.log)"
		return 3
	elif [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
		BOOT_RESULT="timed out after $timeout s"
		return 2
	elif [ -e "$g/setup-failed" ]; then
		BOOT_RESULT="node setup failed before the command (see $out/console.log)"
		return 4
	elif [ -z "$status" ]; then
		BOOT_RESULT="guest stopped before the command finished (qemu exit $qemu_rc, see $out/console.log)"
		return 4
	elif [ "$status" != 0 ]; then
		BOOT_RESULT="guest command exited with status $status"
		return 1
	fi
	BOOT_RESULT="guest command succeeded"
}

boot_guest() {
	local out timeout=$2 rc=0
	if [ $# -lt 3 ] || [ -z "${GUEST_INITRD:-}" ]; then
		echo "usage: boot_guest OUTDIR TIMEOUT COMMAND... (after sourcing setup.sh)" >&2
		return 5
	fi
	out=$(cd "$1" && pwd -P) || return 5
	shift 2
	_boot_prepare "$out" "$*" || return 5
	_boot_qemu "$out" "$timeout" 2 ""
	_boot_verdict "$out" "$timeout" || rc=$?
	[ $rc = 0 ] || echo "==> $BOOT_RESULT" >&2
	return $rc
}

# A loopback port nothing uses, below the kernel's ephemeral range so that
# no outgoing connection takes it meanwhile.
_boot_free_port() {
	local port
	for _ in {1..100}; do
		port=$((20000 + RANDOM % 10000))
		[ -z "$(ss -Htuan "sport = :$port")" ] && { echo "$port"; return 0; }
	done
	echo "boot_nodes: no free port found in 100 tries" >&2
	return 1
}

# Whether QEMU, not some other program, listens on this loopback port.
_boot_qemu_listens() {
	[[ $(ss -Hltnp "src 127.0.0.1:$1") == *'"qemu-system'* ]]
}

# _boot_node OUTDIR TIMEOUT N NETDEV-OPTION: node N, in the background of
# boot_nodes; marks it down in the exchange when it stops.  One vCPU each:
# the two guests share the host's cores, and two each made the two-node
# tests take twice as long on two cores.
_boot_node() {
	# shellcheck disable=SC2054 # QEMU's options are comma-separated
	_boot_qemu "$1/node$3" "$2" 1 "[node$3] " \
		-fsdev "local,id=x,path=$(_boot_qpath "$1/exchange"),security_model=none,multidevs=remap" \
		-device virtio-9p-pci,fsdev=x,mount_tag=tsorx \
		-netdev "socket,id=n0,$4" \
		-device "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:0$3"
	: >"$1/exchange/down.node$3"
}

boot_nodes() {
	local out timeout=$2 port port2 n pids=() started=1 rc=0
	BOOT_RCS=([1]=5 [2]=5) BOOT_RESULTS=([1]="not started" [2]="not started")
	if [ $# -lt 3 ] || [ -z "${GUEST_INITRD:-}" ]; then
		echo "usage: boot_nodes OUTDIR TIMEOUT COMMAND... (after sourcing setup.sh)" >&2
		return 5
	fi
	out=$(cd "$1" && pwd -P) || return 5
	shift 2
	rm -rf "$out/exchange" && mkdir -p "$out/exchange" || return 5
	for n in 1 2; do
		# shellcheck disable=SC2016 # expanded in the guest
		mkdir -p "$out/node$n" &&
		_boot_prepare "$out/node$n" "$(printf '%s\n' \
			"export TSOR_NODE=$n TSOR_EXCHANGE=$(_boot_sq "$out/exchange")" \
			'source "$REPO/selftests/lib/nodes.sh"' \
			'node_init || { touch "$TSOR_OUT/.guest/setup-failed"; exit 1; }' \
			"$*")" || return 5
	done
	port=$(_boot_free_port) || return 5

	if [ "${BOOT_LINK:-stream}" = dgram ]; then
		port2=$port
		while [ "$port2" = "$port" ]; do
			port2=$(_boot_free_port) || return 5
		done
		_boot_node "$out" "$timeout" 1 \
			"udp=127.0.0.1:$port2,localaddr=127.0.0.1:$port" &
		pids+=($!)
		_boot_node "$out" "$timeout" 2 \
			"udp=127.0.0.1:$port,localaddr=127.0.0.1:$port2" &
		pids+=($!) started="1 2"
	else
		_boot_node "$out" "$timeout" 1 "listen=127.0.0.1:$port" &
		pids+=($!)
		# Node 2's QEMU gives up at once if nobody listens yet.
		for _ in {1..300}; do
			_boot_qemu_listens "$port" && break
			[ -e "$out/exchange/down.node1" ] && break
			sleep 0.1
		done
		if _boot_qemu_listens "$port"; then
			_boot_node "$out" "$timeout" 2 "connect=127.0.0.1:$port" &
			pids+=($!) started="1 2"
		else
			BOOT_RCS[2]=4
			BOOT_RESULTS[2]="not started: node 1 never listened on 127.0.0.1:$port"
			echo "boot_nodes: ${BOOT_RESULTS[2]}" >"$out/node2/console.log"
			: >"$out/exchange/down.node2"
		fi
	fi
	wait "${pids[@]}" || true

	for n in $started; do
		BOOT_RCS[n]=0
		_boot_verdict "$out/node$n" "$timeout" || BOOT_RCS[n]=$?
		BOOT_RESULTS[n]=$BOOT_RESULT
		if [ "${BOOT_RCS[n]}" = 4 ] &&
		   [ -e "$out/exchange/expected-down.node$n" ] &&
		   [ ! -e "$out/node$n/.guest/setup-failed" ]; then
			BOOT_RCS[n]=0
			BOOT_RESULTS[n]="stopped on purpose in $(cat "$out/exchange/expected-down.node$n")"
			echo "==> [node$n] ${BOOT_RESULTS[n]}"
		fi
	done
	for n in 1 2; do
		[ "${BOOT_RCS[n]}" = 0 ] || echo "==> [node$n] ${BOOT_RESULTS[n]}" >&2
		[ "${BOOT_RCS[n]}" -le "$rc" ] || rc=${BOOT_RCS[n]}
	done
	return "$rc"
}
