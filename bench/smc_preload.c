// SPDX-License-Identifier: GPL-2.0
/*
 * smc_preload.so: run an unmodified program over SMC, as smc-tools'
 * smc_run does (Debian has no smc-tools package).
 *
 *   LD_PRELOAD=bench/smc_preload.so PROGRAM...
 *
 * socket(AF_INET or AF_INET6, SOCK_STREAM, 0 or IPPROTO_TCP) becomes
 * socket(AF_SMC, SOCK_STREAM, SMCPROTO_SMC or SMCPROTO_SMC6); flags such as
 * SOCK_NONBLOCK and SOCK_CLOEXEC are kept.  Every other socket is left
 * alone.  SMC itself falls back to TCP when it cannot use RDMA, so the
 * caller must check that RDMA carried the bytes.  With TSOR_SMC_DEBUG set,
 * each conversion is reported on stderr.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef AF_SMC
#define AF_SMC 43
#endif
#define SMCPROTO_SMC	0	/* SMC over IPv4 */
#define SMCPROTO_SMC6	1	/* SMC over IPv6 */

typedef int (*socket_fn)(int domain, int type, int protocol);

static socket_fn real_socket;

static socket_fn get_real_socket(void)
{
	if (!real_socket)
		real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
	return real_socket;
}

int socket(int domain, int type, int protocol)
{
	socket_fn fn = get_real_socket();
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (!fn) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if ((domain == AF_INET || domain == AF_INET6) && base == SOCK_STREAM &&
	    (protocol == 0 || protocol == IPPROTO_TCP)) {
		if (getenv("TSOR_SMC_DEBUG"))
			fprintf(stderr, "smc_preload: socket(%s) -> AF_SMC\n",
				domain == AF_INET ? "AF_INET" : "AF_INET6");
		return fn(AF_SMC, type, domain == AF_INET6 ? SMCPROTO_SMC6 :
							      SMCPROTO_SMC);
	}
	return fn(domain, type, protocol);
}
