/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the tsor test programs: exit codes, diagnostics,
 * number/size/timeout parsing, socket addresses and clocks.
 */
#ifndef TSOR_PROGS_COMMON_H
#define TSOR_PROGS_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Exit codes every program uses. */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* a check failed or the system said no */
#define EXIT_USAGE	2	/* bad command line */

#define DEFAULT_TIMEOUT_MS	30000

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))

/* Longest "[addr%scope]:port" format_sockaddr() produces, with NUL. */
#define ADDRSTR_LEN	80

extern const char *progname;

void set_progname(const char *argv0);

/* "prog: message" on stderr, then a hint to --help; exit 2. */
__attribute__((noreturn, format(printf, 1, 2)))
void usage_error(const char *fmt, ...);

/* "prog: message" on stderr; exit with @code. */
__attribute__((noreturn, format(printf, 2, 3)))
void fatal(int code, const char *fmt, ...);

void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

/* Whole-string parsers: 0 on success, -1 on garbage or overflow. */
int parse_u64(const char *s, uint64_t *v);	/* decimal, 0x hex, 0 octal */
int parse_s64(const char *s, int64_t *v);
int parse_size(const char *s, uint64_t *v);	/* u64 with K/M/G (1024) suffix */
int parse_timeout_ms(const char *s, int *ms);	/* seconds, fraction allowed, > 0 */

/* Monotonic clock in milliseconds. */
int64_t now_ms(void);

/*
 * Numeric address of @family ("10.0.0.1", "fd00::1", "fe80::1%eth0") and a
 * port into @ss.  NULL @s means the wildcard address.
 */
int parse_sockaddr(int family, const char *s, uint16_t port,
		   struct sockaddr_storage *ss, socklen_t *len);

/* "1.2.3.4:80" or "[fd00::1]:80"; never fails (prints "?" forms). */
void format_sockaddr(const struct sockaddr *sa, char *buf, size_t len);
uint16_t sockaddr_port(const struct sockaddr *sa);

/* Same family, address (and scope) and port. */
bool sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b);

/* SO_RCVTIMEO and SO_SNDTIMEO to @ms; -1 with errno on failure. */
int set_socket_timeouts(int fd, int ms);

#endif /* TSOR_PROGS_COMMON_H */
