#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Byte-exact streams between two pods of a node over each transport: random
# sizes from 1 B up to 16 MiB, both directions at once, SHA-256 at both
# ends, IPv4 and IPv6, 1, 64 and 256 concurrent connections.  Each stream
# must be paired and its bytes counted by the transport, not TCP, both in
# tsor's counters and in the inner TCP sockets' tcp_info (data_stream in
# selftests/lib/data.sh).  Sizes stay modest: the guest is emulated.
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/tsor.sh
source "$(dirname "$0")/../lib/tsor.sh"
# shellcheck source=selftests/lib/data.sh
source "$(dirname "$0")/../lib/data.sh"

# Sizes are drawn from 1 B..16 MiB (--random-sizes -n 16M); the seeds are
# picked for draws of a few MiB, which wrap the 512 KiB rings several times
# and keep the emulated guest's time small: 622 draws 2.8 MiB out and
# 366 KiB back, 687 1.9 MiB and 553 KiB.
body() {
	data_stream "IPv4, 1 connection, random sizes from 1 B..16 MiB" \
		pod_b pod_a 7601 $DATA_B4 -m block -n 16M --random-sizes -s 622
	data_stream "IPv6, 1 connection, random sizes from 1 B..16 MiB" \
		pod_b pod_a 7602 $DATA_B6 -m epoll -n 16M --random-sizes -s 687
	data_stream "IPv4, 1 byte each way" \
		pod_b pod_a 7603 $DATA_B4 -m poll -n 1
	data_stream "IPv4, 64 connections at once, random sizes up to 32 KiB" \
		pod_b pod_a 7604 $DATA_B4 -m epoll -c 64 -n 32K --random-sizes -s 604
	data_stream "IPv6, 256 connections at once, random sizes up to 4 KiB" \
		pod_b pod_a 7605 $DATA_B6 -m epollet -c 256 -n 4K --random-sizes -s 605
	data_stream "IPv4, readv/writev and MSG_PEEK, random size up to 256 KiB" \
		pod_b pod_a 7606 $DATA_B4 -m block -n 256K --random-sizes --iov --peek -s 606
}

data_each_path body
