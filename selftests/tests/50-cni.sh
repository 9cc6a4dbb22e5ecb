#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The tsor CNI plugin (tools/cni/tsor) chained after Debian's reference
# bridge and host-local plugins, every plugin run as a container runtime
# runs it: CNI_* in the environment, the configuration on stdin.
. "$REPO/selftests/lib/tap.sh"
. "$REPO/selftests/lib/tsor.sh"

CNI_DIR=/usr/lib/cni		# Debian's containernetworking-plugins
TSOR_CNI=$REPO/tools/cni/tsor
export CNI_PATH=$REPO/tools/cni:$CNI_DIR
W=$(mktemp -d)
NET=$W/pods.conflist
SUBNET=10.89.0

delnets() {
	ip netns del cni_a 2>/dev/null
	ip netns del cni_b 2>/dev/null
	ip link del tsorcni0 2>/dev/null
}
trap 'delnets; rm -rf "$W"' EXIT

check "the reference plugins are installed (containernetworking-plugins)" \
	test -x $CNI_DIR/bridge -a -x $CNI_DIR/host-local || exit 1

cat >"$NET" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "tsor-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "tsorcni0",
      "isGateway": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$SUBNET.0/24" }]],
        "dataDir": "$W/ipam"
      }
    },
    { "type": "tsor" }
  ]
}
EOF

# cni_conf INDEX [PREV]: plugin INDEX's configuration as libcni derives it
# from the list: its object, the list's cniVersion and name, and PREV (a
# result) as prevResult.
cni_conf() {
	jq -c --argjson i "$1" --arg prev "${2:-}" '.plugins[$i] + {cniVersion, name}
		+ if $prev == "" then {} else {prevResult: ($prev | fromjson)} end' "$NET"
}

# cni_exec CMD CID NETNS CONF: the plugin CONF's type names, found on
# CNI_PATH, with CONF on stdin; prints its stdout, returns its status.
cni_exec() {
	local type dir
	type=$(jq -r .type <<<"$4")
	for dir in ${CNI_PATH//:/ }; do
		[ -x "$dir/$type" ] && break
	done
	CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$3 CNI_IFNAME=eth0 \
		"$dir/$type" <<<"$4"
}

# cni_chain CMD CID NETNS: what libcni does with the list.  ADD runs the
# plugins in order, each given the one before's result as prevResult, and
# caches the last result, which it prints; CHECK runs them in order and
# DEL in reverse, each given the cached result; DEL drops it.  Stops at
# the first failure, printing its error and returning its status.
cni_chain() {
	local cmd=$1 cid=$2 netns=$3 cache=$W/cache.$2 prev="" out rc i order n
	n=$(jq '.plugins | length' "$NET")
	order=$(seq 0 $((n - 1)))
	if [ "$cmd" != ADD ]; then
		prev=$(cat "$cache" 2>/dev/null)
		[ "$cmd" = DEL ] && order=$(seq $((n - 1)) -1 0)
	fi
	for i in $order; do
		rc=0
		out=$(cni_exec "$cmd" "$cid" "$netns" "$(cni_conf "$i" "$prev")") ||
			rc=$?
		if [ $rc -ne 0 ]; then
			printf '%s\n' "$out"
			return $rc
		fi
		if [ "$cmd" = ADD ]; then
			prev=$out
			printf '%s\n' "$out" >"$W/result.$cid.$i"
		fi
	done
	case $cmd in
	ADD) printf '%s\n' "$prev" | tee "$cache" ;;
	DEL) rm -f "$cache" ;;
	esac
}

# plugin CMD CONF [VAR=VALUE...]: the tsor plugin alone, with only these
# variables; leaves $out and $rc.
plugin() {
	local cmd=$1 conf=$2
	shift 2
	rc=0
	out=$(env -i PATH="$PATH" "$@" CNI_COMMAND="$cmd" "$TSOR_CNI" <<<"$conf") ||
		rc=$?
}

# cni_error DESC CODE [REGEX]: the last plugin call failed with CNI error
# CODE, its "msg / details" matching REGEX.
cni_error() {
	local got
	got=$(jq -r '"\(.code) \(.msg) / \(.details // "")"' <<<"$out" 2>/dev/null)
	if [ "$rc" -ne 0 ] && [ "${got%% *}" = "$2" ] && [[ ${got#* } =~ ${3:-} ]]; then
		ok "$1"
	else
		fail "$1" "exit status $rc, want non-zero, code $2${3:+ and: $3}; stdout: $out"
	fi
}

enabled() { "$TSORCTL" -j netns show "$1" | jq -r '.[0].enabled'; }
excluded() { "$TSORCTL" -j netns show "$1" | jq -c '.[0].exclude'; }

# leases: the addresses host-local has handed out (a file each).
leases() {
	local f
	for f in "$W"/ipam/tsor-pods/*; do
		[[ ${f##*/} =~ ^[0-9.]+$ ]] && echo "${f##*/}"
	done
	return 0
}

# counters NS NAME...: the values of these counters of NS, on one line.
counters() {
	local ns=$1
	shift
	"$TSORCTL" -j stats show netns "$ns" |
		jq -r --args '[.stats[$ARGS.positional[]]] | join(" ")' "$@"
}

tsor_load
delnets
ip netns add cni_a
ip netns add cni_b
ENV_A=(CNI_CONTAINERID=pod-a CNI_NETNS=/run/netns/cni_a CNI_IFNAME=eth0
       CNI_PATH="$CNI_PATH")
CONF='{"cniVersion":"1.0.0","name":"tsor-pods","type":"tsor"}'

plugin VERSION ""
check_eq "VERSION lists 0.3.0 to 1.0.0" \
	'0 {"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}' "$rc $out"

# Every refusal is a CNI error on stdout and leaves the namespace alone.
# (tools/tests/cni.sh checks every error case; these are the main ones.)
plugin ADD '{"cniVersion": "1.0.0", "name": ' "${ENV_A[@]}"
cni_error "malformed configuration JSON: decoding failure (6)" 6 "cannot decode"
plugin ADD "$CONF" CNI_CONTAINERID=pod-a CNI_IFNAME=eth0 CNI_PATH="$CNI_PATH"
cni_error "ADD without CNI_NETNS: invalid environment (4)" 4 "\[CNI_NETNS\] missing"
plugin "" "$CONF" "${ENV_A[@]}"
cni_error "no CNI_COMMAND: invalid environment (4)" 4 "CNI_COMMAND"
plugin ADD "${CONF/1.0.0/9.9.9}" "${ENV_A[@]}"
cni_error "an unknown cniVersion: incompatible version (1)" 1 'config is "9.9.9"'
plugin ADD "${CONF%\}},\"exclude\":[\"10.0.0.1/8\",5432]}" "${ENV_A[@]}"
cni_error "a malformed exclude list: invalid configuration (7)" 7 \
	'"exclude" entry 1: 10\.0\.0\.1/8: host bits set'
plugin ADD "$CONF" "${ENV_A[@]}" CNI_NETNS=/run/netns/no_such_pod
cni_error "a CNI_NETNS that does not exist: unknown container (3)" 3
check_eq "no refused ADD enabled the namespace" "false []" \
	"$(enabled cni_a) $(excluded cni_a)"
plugin ADD "${CONF%\}},\"exclude\":[\"10.0.0.0/8\",5432]}" "${ENV_A[@]}"
check_eq "ADD with exclusions enables and sets them" \
	'0 true ["10.0.0.0/8",5432]' "$rc $(enabled cni_a) $(excluded cni_a)"
plugin ADD "${CONF%\}},\"exclude\":[]}" "${ENV_A[@]}"
check_eq "an empty exclude list is accepted and clears them; alone, ADD gives a bare result" \
	'0 {"cniVersion":"1.0.0"} true []' "$rc $out $(enabled cni_a) $(excluded cni_a)"
plugin DEL "$CONF" "${ENV_A[@]}"
check_eq "DEL disables" "0 false" "$rc $(enabled cni_a)"

# Without the module: ADD and CHECK say so; DEL has nothing to undo.
for i in $(seq 100); do
	rmmod tsor 2>/dev/null && break
	sleep 0.2
done
if check_fail "the module is unloaded" tsor_loaded; then
	plugin ADD "$CONF" "${ENV_A[@]}"
	cni_error "ADD without the module: tsor module not loaded (100)" 100 \
		"^tsor module not loaded"
	plugin CHECK "$CONF" "${ENV_A[@]}"
	cni_error "CHECK without the module: tsor module not loaded (100)" 100
	plugin DEL "${CONF%\}},\"exclude\":[1]}" "${ENV_A[@]}"
	check_eq "DEL without the module succeeds" "0 " "$rc $out"
fi
check "reload the module" tsor_load

# Two pods on the bridge, tsor chained after it.
check "ADD pod A: bridge, host-local, tsor" cni_chain ADD pod-a /run/netns/cni_a
check "ADD pod B" cni_chain ADD pod-b /run/netns/cni_b
# (No <(...) here: the guest has no /dev/fd.)
read -r ip_a ip_b same <<<"$(jq -rs '"\(.[0].ips[0].address) \(.[1].ips[0].address) \(.[2] == .[3])"' \
	"$W/cache.pod-a" "$W/cache.pod-b" "$W/result.pod-a.0" "$W/result.pod-a.1")"
check_match "both pods got an address on the bridge's subnet" \
	"^$SUBNET\.[0-9]+/24 $SUBNET\.[0-9]+/24$" "$ip_a $ip_b"
check_eq "tsor passed bridge's result through unchanged" true "$same"
check_match "the address is on pod A's eth0" "inet $ip_a " "$(ip -n cni_a addr show eth0)"
ip_a=${ip_a%/*} ip_b=${ip_b%/*}
check_eq "both pods are enabled" '["cni_a","cni_b"]' \
	"$("$TSORCTL" -j netns show | jq -c '[.[] | select(.enabled) | .name] | sort')"
check "CHECK pod A passes" cni_chain CHECK pod-a /run/netns/cni_a

# Connections between them are taken over and carry every byte.
read -r created_a tx_a <<<"$(counters cni_a sock_created tcp_tx_bytes)"
read -r accepted_b tx_b <<<"$(counters cni_b sock_accepted tcp_tx_bytes)"
check "a byte-exact stream from pod A to pod B" stream cni_b cni_a 7501 "$ip_b" -n 64K
read -r created tx_a2 <<<"$(counters cni_a sock_created tcp_tx_bytes)"
read -r accepted tx_b2 <<<"$(counters cni_b sock_accepted tcp_tx_bytes)"
check_ge "pod A's socket was taken over" $((created_a + 1)) "$created"
check_ge "pod B accepted a tsor socket" $((accepted_b + 1)) "$accepted"
check_ge "pod A's tsor socket sent its 64 KiB" $((tx_a + 65536)) "$tx_a2"
check_ge "pod B's tsor socket sent its 64 KiB" $((tx_b + 65536)) "$tx_b2"

# CHECK fails once tsor's state differs from what the configuration asks.
"$TSORCTL" netns disable cni_a
rc=0; out=$(cni_chain CHECK pod-a /run/netns/cni_a) || rc=$?
cni_error "CHECK after disabling behind its back fails (103)" 103 \
	"tsor is disabled there, the configuration wants it enabled"
"$TSORCTL" netns enable cni_a

# Exclusions, with pairing on: the pods' subnet is on this node.  Each pod
# gets a configuration of its own ($W/conf.POD), and tsor's ADD is run
# again with it, as a runtime runs the chain's last plugin; its prevResult
# is the bridge's result.
tsor_readd() {
	jq --argjson x "$3" '.plugins[1].exclude = $x' "$W/pods.conflist" >"$W/conf.$1"
	NET=$W/conf.$1 cni_exec ADD "$1" "$2" \
		"$(NET=$W/conf.$1 cni_conf 1 "$(cat "$W/result.$1.0")")" >/dev/null
}
pod_check() { NET=$W/conf.$1 cni_chain CHECK "$1" "$2"; }
# xstream PORT: a byte-exact 64 KiB stream each way from pod A to pod B;
# prints how much pod A's conn_paired, fallback_excluded, tcp_tx_bytes and
# shm_tx_bytes, and pod B's pair_deny_excluded, grew.
xstream() {
	local -a a0 a1
	local b0 i grew=()
	read -ra a0 <<<"$(counters cni_a conn_paired fallback_excluded tcp_tx_bytes shm_tx_bytes)"
	b0=$(counters cni_b pair_deny_excluded)
	stream cni_b cni_a "$1" "$ip_b" -n 64K || return 1
	read -ra a1 <<<"$(counters cni_a conn_paired fallback_excluded tcp_tx_bytes shm_tx_bytes)"
	for i in "${!a0[@]}"; do
		grew+=($((a1[i] - a0[i])))
	done
	echo "${grew[*]} $(($(counters cni_b pair_deny_excluded) - b0))"
}
"$TSORCTL" peer add "$SUBNET.0/24" via 127.0.0.1
check "tsor's ADD of pod A again, excluding port 7510" \
	tsor_readd pod-a /run/netns/cni_a '[7510]'
check "tsor's ADD of pod B again, excluding port 7513" \
	tsor_readd pod-b /run/netns/cni_b '[7513]'
check_eq "the pods' exclusions are their configurations'" '[7510] [7513]' \
	"$(excluded cni_a) $(excluded cni_b)"
check "CHECK pod A passes with its exclusions" pod_check pod-a /run/netns/cni_a
check_eq "pod A's excluded port stays TCP: fallback_excluded, every byte on TCP" \
	"0 1 65536 0 0" "$(xstream 7510)"
check_eq "another port between the same pods is paired: every byte in shared memory" \
	"1 0 0 65536 0" "$(xstream 7511)"
check_eq "pod B's excluded port: it refuses, pod A stays TCP" \
	"0 1 65536 0 1" "$(xstream 7513)"
# CHECK fails once the exclusions differ from what the configuration asks.
"$TSORCTL" netns change cni_b exclude 7514
rc=0; out=$(pod_check pod-b /run/netns/cni_b) || rc=$?
cni_error "CHECK after changing the exclusions behind its back fails (103)" 103 \
	"tsor excludes 7514 there, the configuration wants 7513"
"$TSORCTL" peer del "$SUBNET.0/24"

# DEL of tsor alone (the chain's last plugin, as the runtime runs it):
# pod A keeps its network, but its new connections are plain TCP.
tsor_del() {
	cni_exec DEL pod-a /run/netns/cni_a "$(cni_conf 1 "$(cat "$W/cache.pod-a")")"
}
check "DEL of tsor in pod A" tsor_del
check_eq "pod A is disabled" false "$(enabled cni_a)"
read -r created_a tx_a <<<"$(counters cni_a sock_created tcp_tx_bytes)"
check "pod A still reaches pod B, byte-exact" stream cni_b cni_a 7502 "$ip_b" -n 64K
check_eq "pod A's new socket was not taken over, no byte went through tsor" \
	"$created_a $tx_a" "$(counters cni_a sock_created tcp_tx_bytes)"
check "DEL again is idempotent" tsor_del
check_eq "pod A is still disabled" false "$(enabled cni_a)"

# The whole chain's DEL, which runs tsor's a third time.
check "DEL of the chain for pod A" cni_chain DEL pod-a /run/netns/cni_a
check_fail "pod A's interface is gone" ip -n cni_a link show eth0
check_eq "its address is released, pod B's is not" "$ip_b" "$(leases)"

# DEL after the namespace is gone succeeds, for every plugin of the chain.
ip netns del cni_b
check "DEL of the chain for pod B after its namespace is deleted" \
	cni_chain DEL pod-b /run/netns/cni_b
check_eq "its address is released" "" "$(leases)"
