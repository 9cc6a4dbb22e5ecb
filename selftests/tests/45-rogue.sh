#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Isolation of the pairing protocol and of the rings against a rogue node:
# selftests/progs/tsor_rogue dials this node's rdma_cm listener as a peer
# node would and speaks the link protocol by hand, while a victim stream
# between two pods runs over RDMA (the data-path topology of
# selftests/lib/data.sh, rdma path: rxe0 on br0, local-path rdma).
#
#   - PAIR_REQ for a 4-tuple that does not exist: refused, pair_deny_no_socket
#   - for a connection of a namespace tsor is off in: refused (peer_disabled),
#     pair_deny_disabled
#   - for the victim's own 4-tuple with guessed sequence numbers (a hijack):
#     refused, pair_deny_proof
#   - for the victim's 4-tuple from an address that the peer table does not
#     name for the client's CIDR (it names it for another): refused,
#     pair_deny_node
#   - a ring size that is no power of two: refused, pair_deny_proof (as a
#     failed proof: a request no real client sends)
#   - a real pairing (a plain TCP connection of the rogue's own pod, proven
#     with its sequence numbers): accepted, and its writes reach the server
#     (the control that the protocol is spoken right)
#   - that ring's own rkey and address, used from a second link: remote
#     access error, nothing lands (the rings of a link are registered in a
#     protection domain of that link's own)
#   - a guessed rkey on the rogue's own link: remote access error
# and the victim stream stays byte-exact, paired, over RDMA throughout.
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

ROGUE=$REPO/selftests/progs/tsor_rogue
# The rogue pod (tsor off), and a second address of this node on br0 that
# the peer table names only for another CIDR.
R4=10.77.0.4 SRC2=10.77.0.61
# The victim stream: long enough to outlast the rogue's visits.
VICTIM=${ROGUE_VICTIM:-48M}
log=$TSOR_OUT/rogue.$$
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	data_topo_down
	ip netns pids pod_r 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del pod_r 2>/dev/null || true
	ip link del vr 2>/dev/null || true
	rm -f "$log".*
	# The device set by data_dev_rdma goes with the module.
	! tsor_loaded || tsor_unload_wait 2>/dev/null || true
}
trap cleanup EXIT

DATA_PATH=rdma
TAP_NAME="$TAP_NAME [rdma]"
if ! out=$(data_topo_up rdma 2>&1); then
	fail "topology for rdma is up" "$out"
	exit 1
fi
# Under emulation, dialling the loopback link may take more than 3 s.
echo 15000 >/sys/module/tsor/parameters/pair_timeout_ms
check "rdma_ucm loads (user-space RDMA CM)" modprobe -d "$GUEST_MODROOT" rdma_ucm || exit 1
_data_pod pod_r $R4 fd77::4 vr
ip addr add $SRC2/24 dev br0
"$TSORCTL" peer add 10.99.0.0/24 via $SRC2
# A plain TCP connection inside pod_r, where tsor is off.
ip netns exec pod_r "$STREAM" hold --listen -p 7460 --until-signal --timeout 300 \
	>"$log.holds" 2>&1 &
pids+=($!)
wait_listen pod_r 7460
ip netns exec pod_r "$STREAM" hold -a $R4 -p 7460 --until-signal --timeout 300 \
	>"$log.holdc" 2>&1 &
pids+=($!)
held() { ip netns exec pod_r ss -Htn state established "( dport = :7460 )" | grep -q .; }
check "a plain TCP connection in pod_r (tsor off there)" wait_until held
hport=$(ip netns exec pod_r ss -Htn state established "( dport = :7460 )" |
	awk '{ print $3 }' | head -n 1)
hport=${hport##*:}

# The victim: pod_a -> pod_b, both ways, over RDMA.
snap
ip netns exec pod_b "$STREAM" server -p 7451 -n "$VICTIM" --timeout 120 \
	>"$log.vsrv" 2>&1 &
vs=$!
pids+=("$vs")
wait_listen pod_b 7451
ip netns exec pod_a "$STREAM" client -a $DATA_B4 -p 7451 -n "$VICTIM" --timeout 120 \
	>"$log.vcli" 2>&1 &
vc=$!
pids+=("$vc")
moving() { [ "$(delta pod_a rdma_tx_bytes)" -ge 262144 ]; }
check "the victim stream is paired and moving over RDMA" wait_until moving ||
	diag "$(counters_diag)"
vport=$(ip netns exec pod_a ss -Htn state established "( dport = :7451 )" |
	awk '{ print $3 }' | head -n 1)
vport=${vport##*:}
check_match "the victim's client port is known" '^[0-9]+$' "$vport"

# The rogue pod's server in pod_b: what it reads, then end of stream.
ip netns exec pod_b python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 7452)); s.listen(1)
c, _ = s.accept(); data = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    data += b
sys.stdout.write("got=" + data.decode("ascii", "replace") + "\n")' \
	>"$log.psrv" 2>&1 &
ps=$!
pids+=("$ps")
wait_listen pod_b 7452

# The rogue, from this node's own address: the node the peer table names
# for every pod of 10.77.0.0/24, so only the 4-tuple and the proof decide.
guess1=$((RANDOM << 16 | RANDOM)) guess2=$((RANDOM << 16 | RANDOM))
rc=0
"$ROGUE" -t 60 $DATA_NODE4 $DATA_NODE4 \
	req $DATA_A4 1 $DATA_B4 1 1 1 \
	req $R4 "$hport" $R4 7460 1 1 \
	req $DATA_A4 "$vport" $DATA_B4 7451 $guess1 $guess2 \
	pair /run/netns/pod_r $DATA_B4 7452 \
	write "first-" \
	xwrite "INJECTED" \
	write "second" \
	fin \
	badkey "GUESSED" >"$log.r1" 2>&1 || rc=$?
check_eq "the rogue ran every command" 0 "$rc" || diag "$(cat "$log.r1")"
r1=$(cat "$log.r1")
diag "$r1"
# The rogue, from an address the table names for 10.99.0.0/24 only.
rc=0
"$ROGUE" -t 60 $SRC2 $DATA_NODE4 \
	req $DATA_A4 "$vport" $DATA_B4 7451 $guess1 $guess2 >"$log.r2" 2>&1 || rc=$?
check_eq "the rogue at $SRC2 ran its command" 0 "$rc" || diag "$(cat "$log.r2")"
r2=$(cat "$log.r2")
diag "$r2"
# A malformed request: a ring size that is no power of two.
rc=0
"$ROGUE" -t 60 -r 100000 $DATA_NODE4 $DATA_NODE4 \
	req $DATA_A4 "$vport" $DATA_B4 7451 $guess1 $guess2 >"$log.r3" 2>&1 || rc=$?
check_eq "the rogue with a malformed ring ran its command" 0 "$rc" || diag "$(cat "$log.r3")"
r3=$(cat "$log.r3")
running() { ! ended "$1"; }
ended() { ! kill -0 "$1" 2>/dev/null; }
check "the victim stream was still running after the rogue's visits" running $vc ||
	diag "make ROGUE_VICTIM larger than $VICTIM"

req() { sed -n "$1p" <<<"$(grep '^req ' <<<"$2")"; }
check_eq "a 4-tuple that does not exist: refused" "req reason=refused" "$(req 1 "$r1")"
check_eq "a connection in pod_r, where tsor is off: refused as peer_disabled" \
	"req reason=peer_disabled" "$(req 2 "$r1")"
check_eq "the victim's 4-tuple with guessed sequence numbers: refused" \
	"req reason=refused" "$(req 3 "$r1")"
check_eq "the victim's 4-tuple from a node not in the table for its CIDR: refused" \
	"req reason=refused" "$(req 1 "$r2")"
check_eq "a ring size that is no power of two: refused" "req reason=refused" "$(req 1 "$r3")"
check_eq "a real pairing with the real proof: accepted" "pair reason=none" \
	"$(grep '^pair ' <<<"$r1")"
check_eq "its writes on its own link land" "write status=success
write status=success" "$(grep '^write ' <<<"$r1")"
check_eq "its ring's rkey and address from another link: remote access error" \
	"xwrite status=remote access error" "$(grep '^xwrite ' <<<"$r1")"
check_eq "its end of stream reached the server, which closed" "fin closed=yes" \
	"$(grep '^fin ' <<<"$r1")"
check_eq "a guessed rkey on its own link: remote access error" \
	"badkey status=remote access error" "$(grep '^badkey ' <<<"$r1")"
wait_until ended $ps
check_eq "the server read exactly what the rogue's own link wrote" \
	"got=first-second" "$(cat "$log.psrv")"

# Wait for the victim, then read every counter once.
crc=0 src=0
wait $vc || crc=$?
wait $vs || src=$?
now
check_eq "pair_deny_no_socket counted one" 1 "$(delta global pair_deny_no_socket)"
check_eq "pair_deny_disabled counted one" 1 "$(delta global pair_deny_disabled)"
check_eq "pair_deny_proof counted two (the guessed proof, the malformed ring)" 2 \
	"$(delta global pair_deny_proof)"
check_eq "pair_deny_node counted one" 1 "$(delta global pair_deny_node)"
check_eq "pod_b served two pairings (the victim, the rogue's real one)" 2 \
	"$(delta pod_b pair_served)"

check_eq "the victim client ends ok" 0 "$crc" || diag "$(tail -n 3 "$log.vcli")"
check_eq "the victim server ends ok" 0 "$src" || diag "$(tail -n 3 "$log.vsrv")"
check_eq "the victim is byte-exact client to server" \
	"$(digests sha_tx "$log.vcli")" "$(digests sha_rx "$log.vsrv")"
check_eq "the victim is byte-exact server to client" \
	"$(digests sha_tx "$log.vsrv")" "$(digests sha_rx "$log.vcli")"
vsent=$(sum_field sent "$log.vcli") vrecv=$(sum_field recv "$log.vsrv")
check_eq "the victim sent $VICTIM" "$(numfmt --from=iec "$VICTIM")" "$vsent"
check_eq "pod_a's rdma_tx_bytes count exactly the victim's bytes" "$vsent" \
	"$(delta pod_a rdma_tx_bytes)"
check_eq "pod_b's rdma_rx_bytes: the victim's and the rogue's 12, no more" \
	$((vrecv + 12)) "$(delta pod_b rdma_rx_bytes)"
check_eq "the victim's client sent nothing on TCP" 0 "$(delta pod_a tcp_tx_bytes)"
check_eq "no fallback in pod_a" "" "$(fallback_deltas pod_a)"

# The rogue's links went with it; the victim's two link ends stay up.
nolinks() {
	[ "$("$TSORCTL" -j link show | jq '[.[] | select(.state == "up")] | length')" = 2 ]
}
check "only the victim's two link ends are left up" wait_until nolinks ||
	diag "$("$TSORCTL" link show)"
for p in "${pids[@]}"; do
	kill "$p" 2>/dev/null || true
done
wait 2>/dev/null
pids=()
data_topo_down
ip netns del pod_r
none() { [ "$(counter global channel_active)" = 0 ]; }
check "every channel was freed" wait_until none
check "rmmod tsor" tsor_unload_wait
