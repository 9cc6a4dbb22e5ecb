// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the tsor test programs; see common.h. */
#define _GNU_SOURCE
#include "common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

const char *progname = "tsor";

void set_progname(const char *argv0)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;

	if (argv0)
		progname = slash ? slash + 1 : argv0;
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", progname);
	exit(EXIT_USAGE);
}

void fatal(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		fatal(EXIT_FAIL, "out of memory (%zu x %zu bytes)", n, size);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		fatal(EXIT_FAIL, "out of memory");
	return p;
}

int parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	/* strtoull silently negates "-1"; refuse signs outright. */
	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

int parse_s64(const char *s, int64_t *v)
{
	long long x;
	char *end;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoll(s, &end, 0);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

int parse_size(const char *s, uint64_t *v)
{
	char num[32];
	size_t n = s ? strlen(s) : 0;
	unsigned int shift = 0;
	uint64_t x;

	if (n == 0 || n >= sizeof(num))
		return -1;
	switch (toupper((unsigned char)s[n - 1])) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	}
	memcpy(num, s, n + 1);
	if (shift)
		num[n - 1] = '\0';
	if (parse_u64(num, &x) || (shift && x > (UINT64_MAX >> shift)))
		return -1;
	*v = x << shift;
	return 0;
}

int parse_timeout_ms(const char *s, int *ms)
{
	double sec;
	char *end;

	if (!s || !*s)
		return -1;
	errno = 0;
	sec = strtod(s, &end);
	if (errno || *end || !isfinite(sec) || sec <= 0 || sec > 86400.0 * 24)
		return -1;
	*ms = (int)(sec * 1000.0 + 0.5);
	if (*ms == 0)
		*ms = 1;
	return 0;
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int parse_sockaddr(int family, const char *s, uint16_t port,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (s && inet_pton(AF_INET, s, &sin->sin_addr) != 1)
			return -1;
		*len = sizeof(*sin);
		return 0;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
		char *pct;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		if (!s)
			return 0;
		if (strlen(s) >= sizeof(buf))
			return -1;
		strcpy(buf, s);
		/* Link-local addresses need a scope: "fe80::1%eth0". */
		pct = strchr(buf, '%');
		if (pct) {
			*pct++ = '\0';
			sin6->sin6_scope_id = if_nametoindex(pct);
			if (!sin6->sin6_scope_id) {
				uint64_t idx;

				if (parse_u64(pct, &idx) || idx > UINT32_MAX)
					return -1;
				sin6->sin6_scope_id = (uint32_t)idx;
			}
		}
		if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) != 1)
			return -1;
		return 0;
	}
	return -1;
}

void format_sockaddr(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		if (!inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)))
			strcpy(a, "?");
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)))
			strcpy(a, "?");
		if (sin6->sin6_scope_id)
			snprintf(buf, len, "[%s%%%u]:%u", a,
				 sin6->sin6_scope_id, ntohs(sin6->sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "family%u:?", sa->sa_family);
	}
}

uint16_t sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

bool sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

int set_socket_timeouts(int fd, int ms)
{
	struct timeval tv = {
		.tv_sec = ms / 1000,
		.tv_usec = (ms % 1000) * 1000,
	};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		return -1;
	return 0;
}
