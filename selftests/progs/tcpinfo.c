// SPDX-License-Identifier: GPL-2.0
/* The inner TCP socket's byte counts; see tcpinfo.h. */
#include "tcpinfo.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

int tcpinfo_bytes(int fd, struct tcpinfo_bytes *b)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return -1;
	if (len < offsetof(struct tcp_info, tcpi_bytes_received) +
		  sizeof(ti.tcpi_bytes_received)) {
		errno = EOPNOTSUPP;
		return -1;
	}
	b->acked = ti.tcpi_bytes_acked;
	b->received = ti.tcpi_bytes_received;
	return 0;
}
