/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The inner TCP socket's byte counts.  getsockopt(TCP_INFO) on a tsor socket
 * reaches TCP's own getsockopt (tsor replaces only setsockopt), so it
 * reports the TCP connection underneath: bytes that crossed the channel
 * instead never show there.  glibc's struct tcp_info predates these fields,
 * so this file alone uses the kernel's.
 */
#ifndef TSOR_PROGS_TCPINFO_H
#define TSOR_PROGS_TCPINFO_H

#include <stdint.h>

struct tcpinfo_bytes {
	uint64_t acked;		/* tcpi_bytes_acked: sent and acknowledged */
	uint64_t received;	/* tcpi_bytes_received */
};

/* 0, or -1 with errno (EOPNOTSUPP: the kernel lacks the fields). */
int tcpinfo_bytes(int fd, struct tcpinfo_bytes *b);

#endif /* TSOR_PROGS_TCPINFO_H */
