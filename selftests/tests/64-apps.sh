#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified Debian programs between two pods, over each transport: their
# connections must pair and their bytes cross the channel.  Asserted from
# tsor's counters (conn_paired, the transport's byte counters, nothing on
# TCP) and, for the long-lived connections (redis-benchmark, iperf3), from
# the inner TCP sockets' tcp_info as ss(8) shows it mid-run: no payload
# acknowledged or received on TCP.
#   - redis-server in pod_b; redis-benchmark and redis-cli in pod_a
#   - iperf3, both directions
#   - a Node.js HTTP server; a Node.js client and curl, IPv4 and IPv6
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

log=$TSOR_OUT/apps.$$
srv=''

stop_server() {
	[ -z "$srv" ] && return 0
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	srv=''
}

# ss_bytes NS FILTER...: "SOCKETS MAX_ACKED MAX_RECEIVED" over the
# established TCP sockets that match, from their tcp_info.
ss_bytes() {
	local ns=$1
	shift
	ip netns exec "$ns" ss -Htin state established "$@" 2>/dev/null |
		awk '/bytes_acked|bytes_received|cwnd/ {
			n++; a = 0; r = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^bytes_acked:/) { split($i, f, ":"); a = f[2] }
				if ($i ~ /^bytes_received:/) { split($i, f, ":"); r = f[2] }
			}
			if (a > ma) ma = a
			if (r > mr) mr = r
		} END { print n + 0, ma + 0, mr + 0 }'
}

# running PID: PID runs (its zombie, which only its parent can reap, does
# not: this runs in a command substitution's subshell).
running() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]
}

# sample_during PID NS FILTER...: ss_bytes every half second while PID
# runs; prints the sample with the most sockets.
sample_during() {
	local pid=$1 best='0 0 0' s
	shift
	while running "$pid"; do
		s=$(ss_bytes "$@")
		[ "${s%% *}" -gt "${best%% *}" ] && best=$s
		sleep 0.5
	done
	echo "$best"
}

# tcpi_ok DESC SAMPLE: the sampled sockets exist and carried no payload.
tcpi_ok() {
	local desc=$1 n a r
	read -r n a r <<<"$2"
	if [ "$n" -gt 0 ] && [ "$a" -le 2 ] && [ "$r" -le 1 ]; then
		ok "$desc: tcp_info of its $n TCP sockets: no payload (bytes_acked <= $a, bytes_received <= $r)"
	else
		fail "$desc: tcp_info of its TCP sockets: no payload" \
			"sockets $n, largest bytes_acked $a, bytes_received $r"
	fi
}

# no_tcp DESC: nothing counted on TCP in either pod since snap.
no_tcp() {
	check_eq "$1: no byte counted on TCP in either pod" "0 0 0 0" \
		"$(delta pod_a tcp_tx_bytes) $(delta pod_a tcp_rx_bytes) $(delta pod_b tcp_tx_bytes) $(delta pod_b tcp_rx_bytes)" ||
		diag "$(counters_diag)"
	check_eq "$1: no fallback" "" "$(fallback_deltas pod_a)" || true
}

redis() {
	local d="redis" p=$DATA_PATH s rc=0 big=$log.big
	ip netns exec pod_b redis-server --port 6379 --bind "* -::*" \
		--protected-mode no --save '' --appendonly no --daemonize no \
		>"$log.redis" 2>&1 &
	srv=$!
	if ! wait_listen pod_b 6379; then
		fail "$d: redis-server listens" "$(tail -n 5 "$log.redis")"
		stop_server
		return
	fi
	snap
	ip netns exec pod_a redis-benchmark -h $DATA_B4 -p 6379 -c 4 -n 4000 \
		-d 1024 -t set,get -q >"$log.bench" 2>&1 &
	local bench=$!
	s=$(sample_during $bench pod_b '( sport = :6379 )')
	wait $bench || rc=$?
	now
	check_eq "$d: redis-benchmark exits 0" 0 "$rc" || diag "$(tail -n 5 "$log.bench")"
	check_match "$d: redis-benchmark ran SET and GET" \
		'SET: .*requests per second.*GET: .*requests per second' \
		"$(tr '\r\n' '  ' <"$log.bench")" || true
	diag "$d: $(tr '\r' '\n' <"$log.bench" | grep 'requests per second' | tr '\n' ' ')"
	check_ge "$d: redis-benchmark's 4 connections paired" 4 "$(delta pod_a conn_paired)" || true
	check_ge "$d: ${p}_tx_bytes of pod_a has the 4000 x 1 KiB SETs" \
		$((2000 * 1024)) "$(delta pod_a "${p}_tx_bytes")" || true
	check_ge "$d: ${p}_tx_bytes of pod_b has the 2000 x 1 KiB GETs" \
		$((2000 * 1024)) "$(delta pod_b "${p}_tx_bytes")" || true
	no_tcp "$d: redis-benchmark"
	tcpi_ok "$d: redis-server's connections, mid-run" "$s"

	# One 1 MiB value, byte-exact there and back.
	head -c 1048576 /dev/urandom >"$big"
	snap
	rc=0
	ip netns exec pod_a redis-cli -h $DATA_B6 -x set big <"$big" >"$log.cli" 2>&1 || rc=$?
	local got
	got=$(ip netns exec pod_a redis-cli -h $DATA_B6 --raw get big | head -c 1048576 | sha256sum)
	now
	check_eq "$d: redis-cli SET of 1 MiB over IPv6" "0 OK" "$rc $(cat "$log.cli")" || true
	check_eq "$d: redis-cli GET returns the same 1 MiB" \
		"$(sha256sum <"$big")" \
		"$got" || true
	check_eq "$d: both redis-cli connections paired" 2 "$(delta pod_a conn_paired)" || true
	no_tcp "$d: redis-cli"
	stop_server
}

iperf() {
	local d p=$DATA_PATH rev s rc json sent rcvd
	for rev in '' -R; do
		d="iperf3${rev:+ $rev}"
		ip netns exec pod_b iperf3 -s -1 -p 5201 >"$log.iperfd" 2>&1 &
		srv=$!
		if ! wait_listen pod_b 5201; then
			fail "$d: iperf3 -s listens" "$(tail -n 5 "$log.iperfd")"
			stop_server
			continue
		fi
		snap
		rc=0
		ip netns exec pod_a iperf3 -c $DATA_B4 -p 5201 -t 3 $rev -J \
			>"$log.iperf" 2>&1 &
		local cl=$!
		s=$(sample_during $cl pod_a '( dport = :5201 )')
		wait $cl || rc=$?
		now
		check_eq "$d: iperf3 exits 0" 0 "$rc" || diag "$(tail -n 5 "$log.iperf")"
		json=$(cat "$log.iperf")
		sent=$(jq -r '.end.sum_sent.bytes // 0' <<<"$json" 2>/dev/null || echo 0)
		sent=${sent%.*}
		# The receiver closes with what it did not read yet: it counted less.
		rcvd=$(jq -r '.end.sum_received.bytes // 0' <<<"$json" 2>/dev/null || echo 0)
		rcvd=${rcvd%.*}
		check_ge "$d: moved data" 1000000 "$sent" || true
		# iperf3's receiver stops counting when the test time is up, with
		# bytes still in flight: the receiving pod's counter has them all.
		diag "$d: $(jq -r '.end.sum_received.bits_per_second / 1e6 | floor' <<<"$json" 2>/dev/null) Mbit/s, sent $sent B, iperf3's receiver counted $(jq -r '.end.sum_received.bytes' <<<"$json" 2>/dev/null) B"
		check_ge "$d: its control and data connections paired" 2 \
			"$(delta pod_a conn_paired)" || true
		if [ -z "$rev" ]; then
			check_ge "$d: ${p}_tx_bytes of pod_a has the data" "$sent" \
				"$(delta pod_a "${p}_tx_bytes")" || true
			check_ge "$d: ${p}_rx_bytes of pod_b has what iperf3's receiver counted" \
				"$rcvd" "$(delta pod_b "${p}_rx_bytes")" || true
		else
			check_ge "$d: ${p}_tx_bytes of pod_b has the data" "$sent" \
				"$(delta pod_b "${p}_tx_bytes")" || true
			check_ge "$d: ${p}_rx_bytes of pod_a has what iperf3's receiver counted" \
				"$rcvd" "$(delta pod_a "${p}_rx_bytes")" || true
		fi
		no_tcp "$d"
		tcpi_ok "$d: the client's connections, mid-run" "$s"
		stop_server
	done
}

http() {
	local d="node http" p=$DATA_PATH rc blob_sha url up=$log.up
	# The blob: 2 MiB of a fixed pattern, its SHA-256 printed at start.
	ip netns exec pod_b node -e '
		const http = require("http"), crypto = require("crypto");
		const blob = Buffer.alloc(2 << 20);
		for (let i = 0, x = 1; i < blob.length; i++) {
			x = (x * 1103515245 + 12345) >>> 0; blob[i] = x >>> 24;
		}
		console.log("blob " + crypto.createHash("sha256").update(blob).digest("hex"));
		http.createServer((q, r) => {
			if (q.method === "GET") { r.end(blob); return; }
			const h = crypto.createHash("sha256");
			q.on("data", (c) => h.update(c));
			q.on("end", () => r.end(h.digest("hex")));
		}).listen(8080, "::", () => console.log("listening"));
	' >"$log.node" 2>&1 &
	srv=$!
	if ! wait_until grep -q listening "$log.node"; then
		fail "$d: Node.js server listens" "$(tail -n 5 "$log.node")"
		stop_server
		return
	fi
	blob_sha=$(sed -n 's/^blob //p' "$log.node")
	head -c 1048576 /dev/urandom >"$up"
	snap
	rc=0
	ip netns exec pod_a node -e '
		const http = require("http"), crypto = require("crypto"), fs = require("fs");
		const [url, file] = process.argv.slice(1);
		http.get(url, (r) => {
			const h = crypto.createHash("sha256");
			r.on("data", (c) => h.update(c));
			r.on("end", () => {
				console.log("get " + h.digest("hex"));
				const q = http.request(url, { method: "POST" }, (r2) => {
					let s = ""; r2.on("data", (c) => s += c);
					r2.on("end", () => console.log("post " + s));
				});
				q.end(fs.readFileSync(file));
			});
		}).on("error", (e) => { console.log("error " + e.message); process.exit(1); });
	' "http://$DATA_B4:8080/blob" "$up" >"$log.nodec" 2>&1 || rc=$?
	check_eq "$d: Node.js client GET of 2 MiB is byte-exact" "0 get $blob_sha" \
		"$rc $(grep '^get' "$log.nodec")" || diag "$(cat "$log.nodec")"
	check_eq "$d: Node.js client POST of 1 MiB is byte-exact" \
		"post $(sha256sum <"$up" | cut -d' ' -f1)" "$(grep '^post' "$log.nodec")" || true
	for url in "http://$DATA_B4:8080/blob" "http://[$DATA_B6]:8080/blob"; do
		check_eq "curl GET $url is byte-exact" "$blob_sha" \
			"$(ip netns exec pod_a curl -sS --max-time 60 "$url" | sha256sum | cut -d' ' -f1)" || true
		check_eq "curl POST of 1 MiB to $url is byte-exact" \
			"$(sha256sum <"$up" | cut -d' ' -f1)" \
			"$(ip netns exec pod_a curl -sS --max-time 60 --data-binary @"$up" "$url")" || true
	done
	now
	check_ge "$d: the client connections paired (Node.js 1 or 2, curl 4)" 5 \
		"$(delta pod_a conn_paired)" || true
	check_ge "$d: ${p}_rx_bytes of pod_a has the three 2 MiB GETs" $((3 * (2 << 20))) \
		"$(delta pod_a "${p}_rx_bytes")" || true
	check_ge "$d: ${p}_tx_bytes of pod_a has the three 1 MiB POSTs" $((3 * (1 << 20))) \
		"$(delta pod_a "${p}_tx_bytes")" || true
	no_tcp "$d and curl"
	stop_server
}

body() {
	trap stop_server EXIT
	redis
	iperf
	http
	rm -f "$log".*
}

data_each_path body
