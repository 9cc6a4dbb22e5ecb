// SPDX-License-Identifier: GPL-2.0
/*
 * tsor_sem: socket semantics on an upgraded (paired) tsor socket.
 *
 *   tsor_sem [-4|-6] -a ADDR -p PORT [--server-netns NS] [--expect channel|any]
 *            [--case NAME]... [--list] [--case-timeout S]
 *
 * Runs in the client's network namespace; the listener is made in NS (an
 * `ip netns` name or a path) by entering it for socket() and leaving it
 * again, so one process holds both ends of every connection.  Each case
 * opens fresh connections (ADDR:PORT must reach the listener), exercises
 * one area of socket behaviour and prints one TAP-able line:
 *
 *   ok - NAME: what it checked
 *   not ok - NAME: what it checked
 *   # why (for a failure)
 *
 * then a last line 'summary cases=N passed=N failed=N'.  With --expect
 * channel (the default) a case passes only if, besides its own checks, the
 * inner TCP socket of every connection it used carried no payload: its
 * tcp_info shows at most the SYN and a FIN (tcpi_bytes_acked <= 2,
 * tcpi_bytes_received <= 1).  --expect any skips that check, for sockets
 * that stayed plain TCP.  A case that hangs is reported as failed after
 * --case-timeout (default 30) seconds and ends the run.
 *
 * Exit status: 0 every case passed, 1 a case failed, 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "pattern.h"
#include "tcpinfo.h"

#define MAX_FDS		8
#define SAFETY_MS	10000	/* SO_RCVTIMEO/SO_SNDTIMEO unless a case sets its own */
#define WAIT_MS		5000	/* how long an expected event may take */

/* Limits of the inner TCP's counts when the payload crossed the channel. */
#define TCP_ACKED_MAX		2	/* SYN and FIN take a sequence number each */
#define TCP_RECEIVED_MAX	1	/* the peer's FIN */

struct opts {
	int family;
	struct sockaddr_storage target;
	socklen_t target_len;
	uint16_t port;
	const char *server_netns;
	bool expect_channel;
	int case_timeout_s;
};

static struct opts o;
static int lfd = -1;

/* One case's state: its message and the sockets it opened. */
struct ctx {
	const char *name;
	char why[1024];
	bool failed;
	int fds[MAX_FDS];
	const char *roles[MAX_FDS];
	int nfds;
	/* Snapshots of sockets the case closed itself. */
	struct tcpinfo_bytes closed_tb[MAX_FDS];
	const char *closed_roles[MAX_FDS];
	int nclosed;
};

static volatile const char *current_case = "?";

__attribute__((format(printf, 2, 3)))
static bool failf(struct ctx *x, const char *fmt, ...)
{
	size_t n = strlen(x->why);
	va_list ap;

	if (n && n < sizeof(x->why) - 2) {
		x->why[n++] = '\n';
		x->why[n] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(x->why + n, sizeof(x->why) - n, fmt, ap);
	va_end(ap);
	x->failed = true;
	return false;
}

#define CHECK(x, cond, ...) ((cond) ? true : failf((x), __VA_ARGS__))

/* Deterministic bytes, distinct per @tag. */
static void fill(uint8_t *buf, size_t len, uint64_t tag, uint64_t off)
{
	pattern_fill(mix64(tag + 0x5e4), off, buf, len);
}

static bool verify(struct ctx *x, const uint8_t *buf, size_t len, uint64_t tag,
		   uint64_t off, const char *what)
{
	uint8_t *want = malloc(len ? len : 1);
	size_t i;
	bool ok = true;

	fill(want, len, tag, off);
	for (i = 0; i < len; i++)
		if (buf[i] != want[i]) {
			ok = failf(x, "%s: byte %llu differs: got 0x%02x, expected 0x%02x",
				   what, (unsigned long long)(off + i), buf[i], want[i]);
			break;
		}
	free(want);
	return ok;
}

static void set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

static int ctx_track(struct ctx *x, int fd, const char *role)
{
	if (x->nfds < MAX_FDS) {
		x->fds[x->nfds] = fd;
		x->roles[x->nfds++] = role;
	}
	return fd;
}

/* Closes a tracked socket, keeping its tcp_info for the end-of-case check. */
static void ctx_close(struct ctx *x, int fd)
{
	int i;

	for (i = 0; i < x->nfds; i++) {
		if (x->fds[i] != fd)
			continue;
		if (x->nclosed < MAX_FDS &&
		    !tcpinfo_bytes(fd, &x->closed_tb[x->nclosed]))
			x->closed_roles[x->nclosed++] = x->roles[i];
		x->fds[i] = -1;
	}
	close(fd);
}

/* Waits up to @ms for @events on @fd; returns revents, 0 on timeout. */
static short wait_ev(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int64_t end = now_ms() + ms;

	for (;;) {
		int left = (int)MAX(end - now_ms(), 0), r = poll(&p, 1, left);

		if (r > 0)
			return p.revents;
		if (r == 0 || errno != EINTR)
			return 0;
	}
}

static int make_listener(void)
{
	int fd, cur = -1, ns = -1, one = 1;
	struct sockaddr_storage ss;
	socklen_t len;
	char path[512];

	if (o.server_netns) {
		if (strchr(o.server_netns, '/'))
			snprintf(path, sizeof(path), "%s", o.server_netns);
		else
			snprintf(path, sizeof(path), "/run/netns/%s", o.server_netns);
		cur = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		ns = open(path, O_RDONLY | O_CLOEXEC);
		if (cur < 0 || ns < 0)
			fatal(EXIT_FAIL, "open %s: %s", cur < 0 ? "/proc/self/ns/net" : path,
			      strerror(errno));
		if (setns(ns, CLONE_NEWNET))
			fatal(EXIT_FAIL, "setns %s: %s", path, strerror(errno));
	}
	fd = socket(o.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal(EXIT_FAIL, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	parse_sockaddr(o.family, NULL, o.port, &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 64))
		fatal(EXIT_FAIL, "bind/listen on port %u: %s", o.port, strerror(errno));
	if (ns >= 0) {
		if (setns(cur, CLONE_NEWNET))
			fatal(EXIT_FAIL, "setns back: %s", strerror(errno));
		close(ns);
		close(cur);
	}
	return fd;
}

/* The server's end of the connection just made. */
static int accept_one(struct ctx *x)
{
	int fd;

	if (!(wait_ev(lfd, POLLIN, WAIT_MS) & POLLIN)) {
		failf(x, "no connection to accept within %d ms", WAIT_MS);
		return -1;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		failf(x, "accept: %s", strerror(errno));
		return -1;
	}
	set_timeo(fd, SO_RCVTIMEO, SAFETY_MS);
	set_timeo(fd, SO_SNDTIMEO, SAFETY_MS);
	return ctx_track(x, fd, "server");
}

/* A connected pair: *c in this netns, *s accepted in the server's. */
static bool open_pair(struct ctx *x, int *c, int *s)
{
	*s = -1;
	*c = socket(o.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*c < 0)
		return failf(x, "socket: %s", strerror(errno));
	ctx_track(x, *c, "client");
	set_timeo(*c, SO_RCVTIMEO, SAFETY_MS);
	set_timeo(*c, SO_SNDTIMEO, SAFETY_MS);
	if (connect(*c, (struct sockaddr *)&o.target, o.target_len))
		return failf(x, "connect: %s", strerror(errno));
	*s = accept_one(x);
	return *s >= 0;
}

/* Sends all of @len (blocking); false on an error. */
static bool send_all(struct ctx *x, int fd, const void *buf, size_t len,
		     const char *what)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return failf(x, "%s: send: %s", what,
				     n ? strerror(errno) : "returned 0");
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Receives exactly @len (blocking); false on error or early EOF. */
static bool recv_all(struct ctx *x, int fd, void *buf, size_t len,
		     const char *what)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return failf(x, "%s: recv after %zu of %zu bytes: %s", what,
				     got, len, strerror(errno));
		if (n == 0)
			return failf(x, "%s: EOF after %zu of %zu bytes", what, got, len);
		got += (size_t)n;
	}
	return true;
}

/* Sends @len pattern bytes of @tag and checks the other end gets them. */
static bool transfer(struct ctx *x, int from, int to, size_t len, uint64_t tag,
		     const char *what)
{
	uint8_t *b = malloc(len), *r = malloc(len);
	bool ok;

	fill(b, len, tag, 0);
	ok = send_all(x, from, b, len, what) && recv_all(x, to, r, len, what) &&
	     verify(x, r, len, tag, 0, what);
	free(b);
	free(r);
	return ok;
}

/* Writes into @fd without blocking until EAGAIN; returns the bytes taken. */
static long long fill_up(struct ctx *x, int fd)
{
	static uint8_t buf[65536];
	long long total = 0;
	int64_t end = now_ms() + WAIT_MS;

	for (;;) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			total += n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* TCP may take more once in-flight bytes are acked. */
			if (wait_ev(fd, POLLOUT, 100) & POLLOUT && now_ms() < end)
				continue;
			return total;
		}
		failf(x, "filling the socket: send: %s", n ? strerror(errno) : "0");
		return -1;
	}
}

/* Reads @fd until @total bytes arrived; false on error. */
static bool drain(struct ctx *x, int fd, long long total)
{
	static uint8_t buf[65536];

	while (total > 0) {
		ssize_t n = recv(fd, buf, (size_t)MIN(total, (long long)sizeof(buf)), 0);

		if (n <= 0)
			return failf(x, "draining: recv with %lld bytes to go: %s",
				     total, n ? strerror(errno) : "EOF");
		total -= n;
	}
	return true;
}

static int inq(int fd, unsigned long req)
{
	int v = -1;

	if (ioctl(fd, req, &v))
		return -errno;
	return v;
}

/* Waits until ioctl @req on @fd returns @want; the last value seen. */
static int wait_ioctl(int fd, unsigned long req, int want, int ms)
{
	int64_t end = now_ms() + ms;
	int v;

	while ((v = inq(fd, req)) != want && now_ms() < end)
		usleep(5000);
	return v;
}

static const char *evstr(uint32_t ev, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s(0x%x)",
		 ev & EPOLLIN ? "IN " : "", ev & EPOLLOUT ? "OUT " : "",
		 ev & EPOLLRDHUP ? "RDHUP " : "", ev & EPOLLHUP ? "HUP " : "",
		 ev & EPOLLERR ? "ERR " : "", ev & EPOLLPRI ? "PRI " : "", ev);
	return buf;
}

/* epoll_wait for one socket: its events, 0 on timeout, ~0 on error. */
static uint32_t ep_wait(int ep, int ms)
{
	struct epoll_event e;
	int r;

	do
		r = epoll_wait(ep, &e, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ~0u;
	return r ? e.events : 0;
}

/* The cases */

static bool case_block(struct ctx *x)
{
	int c, s;

	return open_pair(x, &c, &s) &&
	       transfer(x, c, s, 200000, 1, "client to server") &&
	       transfer(x, s, c, 200000, 2, "server to client");
}

static bool case_nonblock(struct ctx *x)
{
	int c, s, fl;
	long long took;
	char b[16];

	if (!open_pair(x, &c, &s))
		return false;
	fl = fcntl(c, F_GETFL);
	if (fcntl(c, F_SETFL, fl | O_NONBLOCK))
		return failf(x, "fcntl(O_NONBLOCK): %s", strerror(errno));
	errno = 0;
	CHECK(x, recv(c, b, sizeof(b), 0) < 0 && errno == EAGAIN,
	      "recv on an empty non-blocking socket: expected EAGAIN, got %s",
	      strerror(errno));
	took = fill_up(x, c);
	if (took < 0)
		return false;
	CHECK(x, took >= 65536, "the socket took only %lld bytes before EAGAIN", took);
	CHECK(x, !(wait_ev(c, POLLOUT, 200) & POLLOUT),
	      "POLLOUT while the socket is full (%lld bytes unread by the peer)", took);
	if (!drain(x, s, took))
		return false;
	CHECK(x, wait_ev(c, POLLOUT, WAIT_MS) & POLLOUT,
	      "no POLLOUT within %d ms after the peer read all %lld bytes", WAIT_MS, took);
	return !x->failed && transfer(x, c, s, 1000, 3, "after refilling");
}

static bool case_poll(struct ctx *x)
{
	int c, s;
	short ev;
	char b[64];

	if (!open_pair(x, &c, &s))
		return false;
	ev = wait_ev(c, POLLIN | POLLOUT, 0);
	CHECK(x, ev == POLLOUT, "idle socket: poll gave 0x%x, expected POLLOUT only", ev);
	CHECK(x, send(s, "0123456789", 10, 0) == 10, "send: %s", strerror(errno));
	ev = wait_ev(c, POLLIN, WAIT_MS);
	CHECK(x, ev == POLLIN, "after 10 bytes: poll(POLLIN) gave 0x%x", ev);
	CHECK(x, recv(c, b, sizeof(b), 0) == 10, "recv did not return the 10 bytes");
	ev = wait_ev(c, POLLIN, 100);
	CHECK(x, !ev, "drained socket: poll(POLLIN) gave 0x%x", ev);
	return !x->failed;
}

static bool case_select(struct ctx *x)
{
	struct timeval tv = { 0, 0 };
	fd_set r, w;
	int c, s, n;
	char b[64];

	if (!open_pair(x, &c, &s))
		return false;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(c, &r);
	FD_SET(c, &w);
	n = select(c + 1, &r, &w, NULL, &tv);
	CHECK(x, n == 1 && FD_ISSET(c, &w) && !FD_ISSET(c, &r),
	      "idle socket: select gave %d, readable %d, writable %d", n,
	      FD_ISSET(c, &r), FD_ISSET(c, &w));
	CHECK(x, send(s, "abc", 3, 0) == 3, "send: %s", strerror(errno));
	FD_ZERO(&r);
	FD_SET(c, &r);
	tv = (struct timeval){ WAIT_MS / 1000, 0 };
	n = select(c + 1, &r, NULL, NULL, &tv);
	CHECK(x, n == 1 && FD_ISSET(c, &r), "after 3 bytes: select gave %d", n);
	CHECK(x, recv(c, b, sizeof(b), 0) == 3, "recv did not return the 3 bytes");
	return !x->failed;
}

static bool case_epoll_lt(struct ctx *x)
{
	struct epoll_event e = { .events = EPOLLIN };
	int c, s, ep;
	uint32_t ev;
	char b[200], buf[80];

	if (!open_pair(x, &c, &s))
		return false;
	ep = epoll_create1(EPOLL_CLOEXEC);
	e.data.fd = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
	ev = ep_wait(ep, 0);
	CHECK(x, ev == 0, "idle: epoll gave %s", evstr(ev, buf, sizeof(buf)));
	CHECK(x, send(s, b, 100, 0) == 100, "send: %s", strerror(errno));
	ev = ep_wait(ep, WAIT_MS);
	CHECK(x, ev == EPOLLIN, "after 100 bytes: epoll gave %s",
	      evstr(ev, buf, sizeof(buf)));
	CHECK(x, recv(c, b, 10, 0) == 10, "recv(10) failed");
	ev = ep_wait(ep, 0);
	CHECK(x, ev == EPOLLIN, "level-triggered, 90 bytes left: epoll gave %s",
	      evstr(ev, buf, sizeof(buf)));
	ev = ep_wait(ep, 0);
	CHECK(x, ev == EPOLLIN, "asked again: epoll gave %s", evstr(ev, buf, sizeof(buf)));
	CHECK(x, recv(c, b, sizeof(b), 0) == 90, "recv of the other 90 failed");
	ev = ep_wait(ep, 0);
	CHECK(x, ev == 0, "drained: epoll gave %s", evstr(ev, buf, sizeof(buf)));
	close(ep);
	return !x->failed;
}

static bool case_epoll_et(struct ctx *x)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLET };
	int c, s, ep, epo;
	long long took;
	uint32_t ev;
	char b[200], buf[80];

	if (!open_pair(x, &c, &s))
		return false;
	ep = epoll_create1(EPOLL_CLOEXEC);
	e.data.fd = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
	CHECK(x, send(s, b, 100, 0) == 100, "send: %s", strerror(errno));
	ev = ep_wait(ep, WAIT_MS);
	CHECK(x, ev == EPOLLIN, "after 100 bytes: epoll gave %s", evstr(ev, buf, sizeof(buf)));
	CHECK(x, recv(c, b, 10, 0) == 10, "recv(10) failed");
	ev = ep_wait(ep, 100);
	CHECK(x, ev == 0, "edge-triggered, no new data: epoll gave %s",
	      evstr(ev, buf, sizeof(buf)));
	CHECK(x, send(s, b, 50, 0) == 50, "send: %s", strerror(errno));
	ev = ep_wait(ep, WAIT_MS);
	CHECK(x, ev == EPOLLIN, "new data: epoll gave %s", evstr(ev, buf, sizeof(buf)));
	CHECK(x, recv(c, b, sizeof(b), MSG_DONTWAIT) == 140, "recv of the 140 left failed");
	close(ep);

	/* EPOLLOUT: one edge when the full socket gets room again. */
	epo = epoll_create1(EPOLL_CLOEXEC);
	e.events = EPOLLOUT | EPOLLET;
	epoll_ctl(epo, EPOLL_CTL_ADD, c, &e);
	ev = ep_wait(epo, WAIT_MS);
	CHECK(x, ev == EPOLLOUT, "registered: epoll gave %s", evstr(ev, buf, sizeof(buf)));
	ev = ep_wait(epo, 0);
	CHECK(x, ev == 0, "no change: epoll gave %s", evstr(ev, buf, sizeof(buf)));
	took = fill_up(x, c);
	if (took < 0)
		return false;
	/* Edges may have fired while filling; consume them. */
	while (ep_wait(epo, 0) & EPOLLOUT && wait_ev(c, POLLOUT, 0) & POLLOUT)
		;
	if (!drain(x, s, took))
		return false;
	ev = ep_wait(epo, WAIT_MS);
	CHECK(x, ev & EPOLLOUT, "full socket drained by the peer: epoll gave %s",
	      evstr(ev, buf, sizeof(buf)));
	close(epo);
	return !x->failed;
}

static bool case_rdhup(struct ctx *x)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLRDHUP };
	int c, s, ep;
	uint32_t ev;
	char b[16], buf[80];

	if (!open_pair(x, &c, &s))
		return false;
	ep = epoll_create1(EPOLL_CLOEXEC);
	epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
	CHECK(x, send(s, "xy", 2, 0) == 2, "send: %s", strerror(errno));
	CHECK(x, !shutdown(s, SHUT_WR), "shutdown(SHUT_WR): %s", strerror(errno));
	ev = ep_wait(ep, WAIT_MS);
	CHECK(x, ev == (EPOLLIN | EPOLLRDHUP),
	      "peer shut down writing: epoll gave %s, expected IN RDHUP",
	      evstr(ev, buf, sizeof(buf)));
	CHECK(x, recv(c, b, sizeof(b), 0) == 2, "the 2 bytes before the FIN did not come");
	CHECK(x, recv(c, b, sizeof(b), 0) == 0, "no EOF after them");
	close(ep);
	/* The other direction still works. */
	return !x->failed && transfer(x, c, s, 3000, 4, "towards the half-closed peer");
}

static bool case_hup(struct ctx *x)
{
	int c, s, err = 0;
	socklen_t len = sizeof(err);
	short ev;
	char b[16];

	if (!open_pair(x, &c, &s))
		return false;
	shutdown(c, SHUT_WR);
	shutdown(s, SHUT_WR);
	ev = wait_ev(c, POLLIN, WAIT_MS);
	CHECK(x, (ev & (POLLIN | POLLHUP)) == (POLLIN | POLLHUP) && !(ev & POLLERR),
	      "both directions shut down: poll gave 0x%x, expected POLLIN|POLLHUP", ev);
	CHECK(x, recv(c, b, sizeof(b), 0) == 0, "no EOF on the client");
	CHECK(x, recv(s, b, sizeof(b), 0) == 0, "no EOF on the server");
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	CHECK(x, err == 0, "SO_ERROR after an orderly close: %s", strerror(err));
	return !x->failed;
}

static bool case_rcvtimeo(struct ctx *x)
{
	int c, s;
	int64_t t;
	ssize_t n;
	char b[16];

	if (!open_pair(x, &c, &s))
		return false;
	set_timeo(c, SO_RCVTIMEO, 300);
	t = now_ms();
	n = recv(c, b, sizeof(b), 0);
	t = now_ms() - t;
	CHECK(x, n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	      "recv on an idle socket with SO_RCVTIMEO=300ms: %zd (%s)", n,
	      strerror(errno));
	CHECK(x, t >= 250 && t < 3000, "it returned after %lld ms, expected about 300",
	      (long long)t);
	return !x->failed;
}

static bool case_sndtimeo(struct ctx *x)
{
	size_t big = 16 << 20;
	uint8_t *b = calloc(1, big);
	long long total = 0;
	int c, s, i;
	int64_t t, slowest = 0;
	ssize_t n;

	if (!open_pair(x, &c, &s)) {
		free(b);
		return false;
	}
	set_timeo(c, SO_SNDTIMEO, 300);
	t = now_ms();
	n = send(c, b, big, MSG_NOSIGNAL);
	t = now_ms() - t;
	CHECK(x, n > 0 && (size_t)n < big,
	      "a 16 MiB send to a peer that does not read, SO_SNDTIMEO=300ms: %zd (%s), expected a partial count",
	      n, n < 0 ? strerror(errno) : "");
	CHECK(x, t >= 250 && t < 5000, "it returned after %lld ms, expected about 300",
	      (long long)t);
	total += MAX(n, 0);
	/* TCP may grow its buffer a few times; then EAGAIN, each in time. */
	for (i = 0; i < 50; i++) {
		t = now_ms();
		n = send(c, b, big, MSG_NOSIGNAL);
		t = now_ms() - t;
		slowest = MAX(slowest, t);
		if (n <= 0)
			break;
		total += n;
	}
	CHECK(x, n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	      "sends on the full socket: the last of %d returned %zd (%s), expected EAGAIN",
	      i + 1, n, n < 0 ? strerror(errno) : "");
	CHECK(x, slowest < 5000, "a send took %lld ms with SO_SNDTIMEO=300ms",
	      (long long)slowest);
	drain(x, s, total);
	free(b);
	return !x->failed;
}

static bool case_peek(struct ctx *x)
{
	uint8_t b[1000], p[1000];
	int c, s;
	ssize_t n;

	if (!open_pair(x, &c, &s))
		return false;
	fill(b, sizeof(b), 5, 0);
	if (!send_all(x, s, b, sizeof(b), "send"))
		return false;
	wait_ioctl(c, FIONREAD, 1000, WAIT_MS);
	n = recv(c, p, 100, MSG_PEEK);
	CHECK(x, n == 100 && verify(x, p, 100, 5, 0, "first MSG_PEEK"),
	      "recv(100, MSG_PEEK) = %zd", n);
	n = recv(c, p, 1000, MSG_PEEK);
	CHECK(x, n == 1000 && verify(x, p, 1000, 5, 0, "second MSG_PEEK"),
	      "recv(1000, MSG_PEEK) = %zd, expected all 1000 again", n);
	memset(p, 0, sizeof(p));
	n = recv(c, p, 1000, 0);
	CHECK(x, n == 1000 && verify(x, p, 1000, 5, 0, "read after peeking"),
	      "recv(1000) after the peeks = %zd", n);
	CHECK(x, inq(c, FIONREAD) == 0, "FIONREAD = %d after reading all", inq(c, FIONREAD));
	return !x->failed;
}

struct slow_sender {
	int fd;
	uint64_t tag;
	int pieces;
	size_t piece;
	int delay_ms;
};

static void *slow_send(void *arg)
{
	struct slow_sender *ss = arg;
	uint8_t *b = malloc(ss->piece);
	int i;

	for (i = 0; i < ss->pieces; i++) {
		fill(b, ss->piece, ss->tag, (uint64_t)i * ss->piece);
		if (send(ss->fd, b, ss->piece, MSG_NOSIGNAL) != (ssize_t)ss->piece)
			break;
		usleep((useconds_t)ss->delay_ms * 1000);
	}
	free(b);
	return NULL;
}

static bool case_waitall(struct ctx *x)
{
	struct slow_sender ss = { .tag = 6, .pieces = 4, .piece = 1000, .delay_ms = 50 };
	uint8_t b[4000];
	pthread_t t;
	int c, s;
	ssize_t n;

	if (!open_pair(x, &c, &s))
		return false;
	ss.fd = s;
	pthread_create(&t, NULL, slow_send, &ss);
	n = recv(c, b, sizeof(b), MSG_WAITALL);
	pthread_join(t, NULL);
	CHECK(x, n == 4000 && verify(x, b, 4000, 6, 0, "MSG_WAITALL"),
	      "recv(4000, MSG_WAITALL) over 4 sends 50 ms apart = %zd", n);
	return !x->failed;
}

/*
 * Large writes reach a reader that is blocked on an empty socket: over
 * shared memory they are copied straight into its buffer (a lent buffer
 * takes 128 KiB, the rest of a write goes through the ring).
 */
static bool case_lent(struct ctx *x)
{
	struct slow_sender ss = { .tag = 31, .pieces = 12, .piece = 200000, .delay_ms = 20 };
	size_t total = (size_t)ss.pieces * ss.piece, half = total / 2, got = 0;
	uint8_t *b = malloc(total);
	pthread_t t;
	ssize_t n = 0;
	int c, s;

	if (!b)
		return failf(x, "malloc(%zu) failed", total);
	if (!open_pair(x, &c, &s)) {
		free(b);
		return false;
	}
	ss.fd = s;
	pthread_create(&t, NULL, slow_send, &ss);
	/* Half with reads of up to 256 KiB, the rest in one MSG_WAITALL. */
	while (got < half) {
		n = recv(c, b + got, half - got < 262144 ? half - got : 262144, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == half) {
		n = recv(c, b + got, total - got, MSG_WAITALL);
		if (n > 0)
			got += (size_t)n;
	}
	pthread_join(t, NULL);
	if (CHECK(x, got == total, "read %zu of %zu bytes (last recv %zd: %s)",
		  got, total, n, n < 0 ? strerror(errno) : "ok"))
		verify(x, b, total, 31, 0, "12 writes of 200000 bytes, 20 ms apart");
	free(b);
	return !x->failed;
}

static bool case_dontwait(struct ctx *x)
{
	int c, s;
	ssize_t n;
	char b[16];
	static uint8_t big[65536];
	long long total = 0;

	if (!open_pair(x, &c, &s))
		return false;
	n = recv(c, b, sizeof(b), MSG_DONTWAIT);
	CHECK(x, n < 0 && errno == EAGAIN,
	      "recv(MSG_DONTWAIT) on an empty blocking socket: %zd (%s)", n, strerror(errno));
	for (;;) {
		n = send(c, big, sizeof(big), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			break;
		total += n;
		if (total > (256LL << 20))
			break;
	}
	CHECK(x, n < 0 && errno == EAGAIN,
	      "send(MSG_DONTWAIT) on a full blocking socket after %lld bytes: %zd (%s)",
	      total, n, strerror(errno));
	drain(x, s, total);
	return !x->failed;
}

static bool case_inq(struct ctx *x)
{
	uint8_t b[1234];
	int c, s, v;

	if (!open_pair(x, &c, &s))
		return false;
	CHECK(x, inq(c, FIONREAD) == 0, "FIONREAD on an idle socket = %d", inq(c, FIONREAD));
	fill(b, sizeof(b), 7, 0);
	if (!send_all(x, s, b, sizeof(b), "send"))
		return false;
	v = wait_ioctl(c, FIONREAD, 1234, WAIT_MS);
	CHECK(x, v == 1234, "FIONREAD = %d after the peer sent 1234", v);
	v = inq(c, SIOCINQ);
	CHECK(x, v == 1234, "SIOCINQ = %d after the peer sent 1234", v);
	CHECK(x, recv(c, b, 234, 0) == 234, "recv(234) failed");
	v = inq(c, FIONREAD);
	CHECK(x, v == 1000, "FIONREAD = %d after reading 234 of 1234", v);
	return !x->failed;
}

static bool case_outq(struct ctx *x)
{
	uint8_t b[1000];
	int c, s, v, v0;

	if (!open_pair(x, &c, &s))
		return false;
	v0 = inq(c, SIOCOUTQ);
	CHECK(x, v0 == 0, "SIOCOUTQ on an idle socket = %d", v0);
	fill(b, sizeof(b), 8, 0);
	if (!send_all(x, c, b, sizeof(b), "send"))
		return false;
	v = inq(c, SIOCOUTQ);
	CHECK(x, v >= 0 && v <= 1000, "SIOCOUTQ = %d right after sending 1000", v);
	if (!recv_all(x, s, b, sizeof(b), "peer reads"))
		return false;
	/* TCP: 0 once acknowledged; the peer has even read it all. */
	v = wait_ioctl(c, SIOCOUTQ, 0, WAIT_MS);
	CHECK(x, v == 0, "SIOCOUTQ = %d %d ms after the peer read all 1000 bytes (TCP says 0 once they are acknowledged)",
	      v, WAIT_MS);
	v = inq(c, SIOCOUTQNSD);
	CHECK(x, v == 0, "SIOCOUTQNSD = %d", v);
	return !x->failed;
}

static bool case_halfclose(struct ctx *x)
{
	uint8_t b[5000];
	int c, s;

	if (!open_pair(x, &c, &s))
		return false;
	if (!transfer(x, c, s, 3000, 9, "before the half-close"))
		return false;
	CHECK(x, !shutdown(c, SHUT_WR), "shutdown(SHUT_WR): %s", strerror(errno));
	CHECK(x, recv(s, b, sizeof(b), 0) == 0, "the server saw no EOF after the client's shutdown");
	CHECK(x, send(c, b, 1, MSG_NOSIGNAL) < 0 && errno == EPIPE,
	      "send after SHUT_WR: expected EPIPE, got %s", strerror(errno));
	if (!transfer(x, s, c, 5000, 10, "server to the half-closed client"))
		return false;
	ctx_close(x, s);
	CHECK(x, recv(c, b, sizeof(b), 0) == 0, "no EOF after the server closed");
	return !x->failed;
}

static bool case_sigpipe(struct ctx *x)
{
	sigset_t set, old, pend;
	int c, s, sig;
	ssize_t n;

	if (!open_pair(x, &c, &s))
		return false;
	shutdown(c, SHUT_WR);
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	/* Blocked, it stays pending for us to see; never delivered. */
	signal(SIGPIPE, SIG_DFL);
	n = send(c, "z", 1, 0);
	CHECK(x, n < 0 && errno == EPIPE, "send after SHUT_WR: %zd (%s)", n, strerror(errno));
	sigpending(&pend);
	CHECK(x, sigismember(&pend, SIGPIPE), "no SIGPIPE raised by that send");
	if (sigismember(&pend, SIGPIPE))
		sigwait(&set, &sig);
	n = send(c, "z", 1, MSG_NOSIGNAL);
	sigpending(&pend);
	CHECK(x, n < 0 && errno == EPIPE && !sigismember(&pend, SIGPIPE),
	      "send(MSG_NOSIGNAL) after SHUT_WR: %zd (%s), SIGPIPE %s", n,
	      strerror(errno), sigismember(&pend, SIGPIPE) ? "raised" : "not raised");
	signal(SIGPIPE, SIG_IGN);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return !x->failed;
}

static bool case_iov(struct ctx *x)
{
	static const size_t wseg[] = { 1, 7, 4096, 300, 65536, 13 };
	static const size_t rseg[] = { 5, 70000 - 5 - 17, 17 };
	uint8_t *src = malloc(70000), *dst = calloc(1, 70000);
	struct iovec iov[6];
	size_t off = 0, total = 0, got = 0;
	unsigned int i;
	int c, s;
	ssize_t n;

	for (i = 0; i < ARRAY_SIZE(wseg); i++)
		total += wseg[i];
	if (!open_pair(x, &c, &s))
		goto out;
	fill(src, total, 11, 0);
	for (i = 0; i < ARRAY_SIZE(wseg); i++) {
		iov[i].iov_base = src + off;
		iov[i].iov_len = wseg[i];
		off += wseg[i];
	}
	n = writev(c, iov, ARRAY_SIZE(wseg));
	CHECK(x, n == (ssize_t)total, "writev of %zu bytes in 6 segments = %zd", total, n);
	/* readv until all arrived, into 3 segments of other sizes. */
	while (got < total) {
		size_t left = total - got, o2 = got;
		int k = 0;

		for (i = 0; i < ARRAY_SIZE(rseg) && left; i++) {
			size_t start = 0, j;

			for (j = 0; j < i; j++)
				start += rseg[j];
			if (start + rseg[i] <= o2)
				continue;
			iov[k].iov_base = dst + MAX(start, o2);
			iov[k].iov_len = start + rseg[i] - MAX(start, o2);
			if (iov[k].iov_len > left)
				iov[k].iov_len = left;
			left -= iov[k].iov_len;
			k++;
		}
		n = readv(s, iov, k);
		if (n <= 0) {
			failf(x, "readv after %zu of %zu bytes: %s", got, total,
			      n ? strerror(errno) : "EOF");
			goto out;
		}
		got += (size_t)n;
	}
	verify(x, dst, total, 11, 0, "readv");
out:
	free(src);
	free(dst);
	return !x->failed;
}

static bool case_sendfile(struct ctx *x)
{
	size_t len = 300000;
	uint8_t *b = malloc(len), *r = malloc(len);
	char path[] = "/tmp/tsor_sem.XXXXXX";
	int c, s, f = mkstemp(path);
	off_t off = 0;

	if (f < 0) {
		failf(x, "mkstemp: %s", strerror(errno));
		goto out;
	}
	unlink(path);
	fill(b, len, 12, 0);
	if (write(f, b, len) != (ssize_t)len) {
		failf(x, "write %s: %s", path, strerror(errno));
		goto out;
	}
	if (!open_pair(x, &c, &s))
		goto out;
	while ((size_t)off < len) {
		ssize_t n = sendfile(c, f, &off, len - (size_t)off);

		if (n <= 0) {
			failf(x, "sendfile at %lld of %zu: %s", (long long)off, len,
			      n ? strerror(errno) : "returned 0");
			goto out;
		}
	}
	if (recv_all(x, s, r, len, "receiving what sendfile sent"))
		verify(x, r, len, 12, 0, "sendfile");
out:
	if (f >= 0)
		close(f);
	free(b);
	free(r);
	return !x->failed;
}

static bool case_splice(struct ctx *x)
{
	size_t len = 200000, moved = 0, got = 0;
	uint8_t *b = malloc(len), *r = malloc(len);
	int c, s, in[2] = { -1, -1 }, out[2] = { -1, -1 };

	if (!open_pair(x, &c, &s) || pipe(in) || pipe(out)) {
		failf(x, "pipe: %s", strerror(errno));
		goto done;
	}
	fill(b, len, 13, 0);
	/* Client: pipe -> socket; server: socket -> pipe -> read. */
	while (got < len) {
		ssize_t n;

		if (moved < len) {
			size_t chunk = MIN(len - moved, (size_t)16384);

			if (write(in[1], b + moved, chunk) != (ssize_t)chunk) {
				failf(x, "write to pipe: %s", strerror(errno));
				goto done;
			}
			n = splice(in[0], NULL, c, NULL, chunk, SPLICE_F_MOVE);
			if (n != (ssize_t)chunk) {
				failf(x, "splice(pipe -> socket, %zu) at %zu = %zd (%s)",
				      chunk, moved, n, strerror(errno));
				goto done;
			}
			moved += chunk;
		}
		n = splice(s, NULL, out[1], NULL, 16384, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EAGAIN) {
			wait_ev(s, POLLIN, 100);
			continue;
		}
		if (n <= 0) {
			failf(x, "splice(socket -> pipe) after %zu of %zu: %s", got,
			      len, n ? strerror(errno) : "EOF");
			goto done;
		}
		if (read(out[0], r + got, (size_t)n) != n) {
			failf(x, "read from pipe: %s", strerror(errno));
			goto done;
		}
		got += (size_t)n;
	}
	verify(x, r, len, 13, 0, "splice");
done:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	free(b);
	free(r);
	return !x->failed;
}

static bool case_fork(struct ctx *x)
{
	int c, s, st;
	pid_t pid;
	uint8_t b[1000];

	if (!open_pair(x, &c, &s))
		return false;
	fill(b, 100, 14, 0);
	send_all(x, s, b, 100, "server to the child");
	pid = fork();
	if (pid < 0)
		return failf(x, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct ctx cx = { .name = "child" };
		uint8_t cb[1000];

		close(s);
		if (!recv_all(&cx, c, cb, 100, "child reads") ||
		    !verify(&cx, cb, 100, 14, 0, "child reads"))
			_exit(3);
		fill(cb, sizeof(cb), 15, 0);
		_exit(send_all(&cx, c, cb, sizeof(cb), "child sends") ? 0 : 4);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		failf(x, "the child that shares the client socket failed (status 0x%x: 3 its read, 4 its send)",
		      st);
	if (recv_all(x, s, b, sizeof(b), "server reads the child's bytes"))
		verify(x, b, sizeof(b), 15, 0, "child's bytes");
	/* The parent's descriptor is still the same connection. */
	return !x->failed && transfer(x, c, s, 500, 16, "parent after the child exited") &&
	       transfer(x, s, c, 500, 17, "to the parent after the child exited");
}

struct letter_sender {
	int fd;
	char letter;
	int records;
	bool ok;
};

static void *send_letters(void *arg)
{
	struct letter_sender *ls = arg;
	char rec[64];
	int i;

	memset(rec, ls->letter, sizeof(rec));
	ls->ok = true;
	for (i = 0; i < ls->records; i++) {
		size_t off = 0;

		while (off < sizeof(rec)) {
			ssize_t n = send(ls->fd, rec + off, sizeof(rec) - off, MSG_NOSIGNAL);

			if (n <= 0) {
				ls->ok = false;
				return NULL;
			}
			off += (size_t)n;
		}
	}
	return NULL;
}

struct counter_reader {
	int fd;
	long long got;
	int err;
};

static void *read_count(void *arg)
{
	struct counter_reader *cr = arg;
	char b[4096];

	for (;;) {
		ssize_t n = recv(cr->fd, b, sizeof(b), 0);

		if (n > 0) {
			cr->got += n;
			continue;
		}
		cr->err = n < 0 ? errno : 0;
		return NULL;
	}
}

static bool case_threads(struct ctx *x)
{
	struct letter_sender la = { .letter = 'A', .records = 400 };
	struct letter_sender lb = { .letter = 'B', .records = 400 };
	struct counter_reader r1 = { 0 }, r2 = { 0 };
	long long na = 0, nb = 0, total = 2LL * 400 * 64;
	static char b[2 * 400 * 64];
	pthread_t ta, tb, t1, t2;
	int c, s, i;

	if (!open_pair(x, &c, &s))
		return false;
	/* Two threads write into one socket at once. */
	la.fd = lb.fd = c;
	pthread_create(&ta, NULL, send_letters, &la);
	pthread_create(&tb, NULL, send_letters, &lb);
	if (recv_all(x, s, b, (size_t)total, "server reads both threads' bytes")) {
		for (i = 0; i < total; i++) {
			na += b[i] == 'A';
			nb += b[i] == 'B';
		}
		CHECK(x, na == total / 2 && nb == total / 2,
		      "got %lld 'A' and %lld 'B', expected %lld of each", na, nb, total / 2);
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK(x, la.ok && lb.ok, "a sending thread failed");

	/* Two threads read from one socket at once, until EOF. */
	r1.fd = r2.fd = c;
	pthread_create(&t1, NULL, read_count, &r1);
	pthread_create(&t2, NULL, read_count, &r2);
	memset(b, 'C', sizeof(b));
	send_all(x, s, b, sizeof(b), "server sends to the two readers");
	shutdown(s, SHUT_WR);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK(x, r1.got + r2.got == (long long)sizeof(b) && !r1.err && !r2.err,
	      "two readers got %lld + %lld bytes (errors %s, %s), expected %zu in all",
	      r1.got, r2.got, strerror(r1.err), strerror(r2.err), sizeof(b));
	return !x->failed;
}

static bool case_names(struct ctx *x)
{
	struct sockaddr_storage cl, cp, sl, sp;
	socklen_t len;
	char a[ADDRSTR_LEN], b[ADDRSTR_LEN];
	int c, s;

	if (!open_pair(x, &c, &s))
		return false;
	len = sizeof(cl);
	getsockname(c, (struct sockaddr *)&cl, &len);
	len = sizeof(cp);
	getpeername(c, (struct sockaddr *)&cp, &len);
	len = sizeof(sl);
	getsockname(s, (struct sockaddr *)&sl, &len);
	len = sizeof(sp);
	getpeername(s, (struct sockaddr *)&sp, &len);
	format_sockaddr((struct sockaddr *)&cp, a, sizeof(a));
	format_sockaddr((struct sockaddr *)&o.target, b, sizeof(b));
	CHECK(x, sockaddr_equal((struct sockaddr *)&cp, (struct sockaddr *)&o.target),
	      "client's getpeername %s, but it connected to %s", a, b);
	format_sockaddr((struct sockaddr *)&cl, a, sizeof(a));
	format_sockaddr((struct sockaddr *)&sp, b, sizeof(b));
	CHECK(x, sockaddr_equal((struct sockaddr *)&cl, (struct sockaddr *)&sp),
	      "client's getsockname %s, server's getpeername %s", a, b);
	format_sockaddr((struct sockaddr *)&sl, a, sizeof(a));
	format_sockaddr((struct sockaddr *)&cp, b, sizeof(b));
	CHECK(x, sockaddr_equal((struct sockaddr *)&sl, (struct sockaddr *)&cp),
	      "server's getsockname %s, client's getpeername %s", a, b);
	return !x->failed;
}

static int get_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, level, name, &v, &len))
		return -errno - 1000;
	return v;
}

static bool case_nodelay(struct ctx *x)
{
	int c, s, one = 1, zero = 0;

	if (!open_pair(x, &c, &s))
		return false;
	CHECK(x, !setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)),
	      "setsockopt(TCP_NODELAY, 1): %s", strerror(errno));
	CHECK(x, get_int(c, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY reads %d, set 1",
	      get_int(c, IPPROTO_TCP, TCP_NODELAY));
	CHECK(x, !setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)),
	      "server: setsockopt(TCP_NODELAY, 1): %s", strerror(errno));
	CHECK(x, !setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &zero, sizeof(zero)),
	      "setsockopt(TCP_NODELAY, 0): %s", strerror(errno));
	CHECK(x, get_int(c, IPPROTO_TCP, TCP_NODELAY) == 0, "TCP_NODELAY reads %d, set 0",
	      get_int(c, IPPROTO_TCP, TCP_NODELAY));
	CHECK(x, get_int(c, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP,
	      "SO_PROTOCOL = %d", get_int(c, SOL_SOCKET, SO_PROTOCOL));
	return !x->failed && transfer(x, c, s, 100, 18, "after TCP_NODELAY");
}

static bool case_ulp(struct ctx *x)
{
	int c, s;

	if (!open_pair(x, &c, &s))
		return false;
	errno = 0;
	CHECK(x, setsockopt(c, IPPROTO_TCP, TCP_ULP, "tls", 3) < 0 && errno == EOPNOTSUPP,
	      "client: setsockopt(TCP_ULP, \"tls\"): %s, expected EOPNOTSUPP",
	      errno ? strerror(errno) : "succeeded");
	errno = 0;
	CHECK(x, setsockopt(s, IPPROTO_TCP, TCP_ULP, "tls", 3) < 0 && errno == EOPNOTSUPP,
	      "server: setsockopt(TCP_ULP, \"tls\"): %s, expected EOPNOTSUPP",
	      errno ? strerror(errno) : "succeeded");
	return !x->failed && transfer(x, c, s, 100, 19, "after the refusal");
}

static bool case_nbconnect(struct ctx *x)
{
	int c, s, err = -1, r;
	socklen_t len = sizeof(err);
	short ev;

	c = socket(o.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c < 0)
		return failf(x, "socket: %s", strerror(errno));
	ctx_track(x, c, "client");
	r = connect(c, (struct sockaddr *)&o.target, o.target_len);
	CHECK(x, r == 0 || errno == EINPROGRESS, "non-blocking connect: %s", strerror(errno));
	ev = wait_ev(c, POLLOUT, WAIT_MS);
	CHECK(x, ev & POLLOUT, "no POLLOUT within %d ms of a non-blocking connect", WAIT_MS);
	getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
	CHECK(x, err == 0, "SO_ERROR after connecting: %s", strerror(err));
	s = accept_one(x);
	if (s < 0)
		return false;
	fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK);
	return !x->failed && transfer(x, c, s, 100000, 20, "client to server") &&
	       transfer(x, s, c, 100000, 21, "server to client");
}

static bool case_accept_nonblock(struct ctx *x)
{
	int c, s, fl;

	c = socket(o.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ctx_track(x, c, "client");
	if (connect(c, (struct sockaddr *)&o.target, o.target_len))
		return failf(x, "connect: %s", strerror(errno));
	if (!(wait_ev(lfd, POLLIN, WAIT_MS) & POLLIN))
		return failf(x, "nothing to accept");
	s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (s < 0)
		return failf(x, "accept4(SOCK_NONBLOCK): %s", strerror(errno));
	ctx_track(x, s, "server");
	fl = fcntl(s, F_GETFL);
	CHECK(x, fl & O_NONBLOCK, "accept4(SOCK_NONBLOCK) gave a blocking socket");
	errno = 0;
	CHECK(x, recv(s, &fl, 1, 0) < 0 && errno == EAGAIN,
	      "recv on the idle accepted socket: %s", strerror(errno));
	CHECK(x, send(c, "q", 1, 0) == 1, "send: %s", strerror(errno));
	CHECK(x, wait_ev(s, POLLIN, WAIT_MS) & POLLIN, "no POLLIN for the accepted socket");
	CHECK(x, recv(s, &fl, 1, 0) == 1, "recv: %s", strerror(errno));
	return !x->failed;
}

static bool case_close_unread(struct ctx *x)
{
	int c, s;
	ssize_t n;
	char b[16];
	short ev;

	if (!open_pair(x, &c, &s))
		return false;
	CHECK(x, send(s, "unread data", 11, 0) == 11, "send: %s", strerror(errno));
	wait_ioctl(c, FIONREAD, 11, WAIT_MS);
	ctx_close(x, c);
	/* TCP answers a close with unread data with a reset. */
	ev = wait_ev(s, POLLIN, WAIT_MS);
	CHECK(x, ev & (POLLERR | POLLHUP | POLLIN),
	      "the peer closed with unread data: no event within %d ms", WAIT_MS);
	n = recv(s, b, sizeof(b), MSG_DONTWAIT);
	CHECK(x, n < 0 && errno == ECONNRESET,
	      "recv after the peer closed with unread data: %zd (%s), expected ECONNRESET",
	      n, n < 0 ? strerror(errno) : "");
	return !x->failed;
}

static bool case_peer_closed_send(struct ctx *x)
{
	int c, s, i;
	ssize_t n = 0;

	if (!open_pair(x, &c, &s))
		return false;
	ctx_close(x, s);
	for (i = 0; i < 500; i++) {
		n = send(c, "w", 1, MSG_NOSIGNAL);
		if (n < 0)
			break;
		usleep(10000);
	}
	CHECK(x, n < 0 && (errno == EPIPE || errno == ECONNRESET),
	      "sends to a closed peer for 5 s: last %zd (%s), expected EPIPE or ECONNRESET",
	      n, n < 0 ? strerror(errno) : "");
	return !x->failed;
}

static bool case_rcvlowat(struct ctx *x)
{
	int c, s, lowat = 100;
	short ev;
	char b[100];

	if (!open_pair(x, &c, &s))
		return false;
	setsockopt(c, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	memset(b, 'l', sizeof(b));
	CHECK(x, send(s, b, 50, 0) == 50, "send: %s", strerror(errno));
	ev = wait_ev(c, POLLIN, 300);
	CHECK(x, !(ev & POLLIN), "SO_RCVLOWAT=100 with 50 bytes queued: POLLIN");
	CHECK(x, send(s, b, 50, 0) == 50, "send: %s", strerror(errno));
	ev = wait_ev(c, POLLIN, WAIT_MS);
	CHECK(x, ev & POLLIN, "SO_RCVLOWAT=100 with 100 bytes queued: no POLLIN");
	CHECK(x, recv(c, b, sizeof(b), 0) == 100, "recv did not return the 100 bytes");
	return !x->failed;
}

struct tcase {
	const char *name;
	const char *desc;
	bool (*fn)(struct ctx *x);
};

static const struct tcase cases[] = {
	{ "block", "blocking send and recv, 200 KB each way", case_block },
	{ "nonblock", "O_NONBLOCK: EAGAIN when empty and when full, POLLOUT after the peer reads", case_nonblock },
	{ "poll", "poll: POLLOUT when idle, POLLIN when data arrives, none once drained", case_poll },
	{ "select", "select: writable when idle, readable when data arrives", case_select },
	{ "epoll-lt", "level-triggered epoll: EPOLLIN repeats until drained", case_epoll_lt },
	{ "epoll-et", "edge-triggered epoll: one EPOLLIN per arrival, EPOLLOUT once room returns", case_epoll_et },
	{ "rdhup", "EPOLLRDHUP on the peer's SHUT_WR; the other direction still works", case_rdhup },
	{ "hup", "POLLHUP once both directions are shut down; SO_ERROR 0", case_hup },
	{ "rcvtimeo", "SO_RCVTIMEO bounds a blocking recv", case_rcvtimeo },
	{ "sndtimeo", "SO_SNDTIMEO bounds a blocking send: partial count, then EAGAIN", case_sndtimeo },
	{ "peek", "MSG_PEEK returns data without consuming it", case_peek },
	{ "waitall", "MSG_WAITALL gathers several sends", case_waitall },
	{ "lent", "large writes 20 ms apart reach a blocked reader intact, also with MSG_WAITALL", case_lent },
	{ "dontwait", "MSG_DONTWAIT on a blocking socket: EAGAIN when empty and when full", case_dontwait },
	{ "inq", "FIONREAD and SIOCINQ count unread bytes", case_inq },
	{ "outq", "SIOCOUTQ falls to 0 once the peer read everything", case_outq },
	{ "halfclose", "half-close: EOF one way, data the other way, EPIPE after SHUT_WR", case_halfclose },
	{ "sigpipe", "send after SHUT_WR raises SIGPIPE, not with MSG_NOSIGNAL", case_sigpipe },
	{ "iov", "writev and readv with segments of different sizes", case_iov },
	{ "sendfile", "sendfile from a file into the socket", case_sendfile },
	{ "splice", "splice pipe to socket and socket to pipe", case_splice },
	{ "fork", "a forked child and its parent share the socket", case_fork },
	{ "threads", "two threads send at once, two threads receive at once", case_threads },
	{ "names", "getsockname and getpeername agree across the two ends", case_names },
	{ "nodelay", "TCP_NODELAY is accepted and reads back", case_nodelay },
	{ "ulp", "TCP_ULP is refused with EOPNOTSUPP", case_ulp },
	{ "nb-connect", "non-blocking connect: POLLOUT, SO_ERROR 0, then data", case_nbconnect },
	{ "accept-nonblock", "accept4(SOCK_NONBLOCK) gives a non-blocking socket", case_accept_nonblock },
	{ "close-unread", "close with unread data resets the peer (ECONNRESET)", case_close_unread },
	{ "peer-closed", "sends to a closed peer fail with EPIPE or ECONNRESET", case_peer_closed_send },
	{ "rcvlowat", "poll honours SO_RCVLOWAT", case_rcvlowat },
};

/* The end-of-case check: no payload crossed the inner TCP connections. */
static void check_offtcp(struct ctx *x)
{
	struct tcpinfo_bytes tb;
	char line[160];
	int i;

	for (i = 0; i < x->nfds + x->nclosed; i++) {
		const char *role;

		if (i < x->nfds) {
			if (x->fds[i] < 0 || tcpinfo_bytes(x->fds[i], &tb))
				continue;
			role = x->roles[i];
		} else {
			tb = x->closed_tb[i - x->nfds];
			role = x->closed_roles[i - x->nfds];
		}
		if (tb.acked <= TCP_ACKED_MAX && tb.received <= TCP_RECEIVED_MAX)
			continue;
		snprintf(line, sizeof(line),
			 "%s socket %d: the inner TCP carried payload: tcpi_bytes_acked=%llu tcpi_bytes_received=%llu",
			 role, i, (unsigned long long)tb.acked,
			 (unsigned long long)tb.received);
		failf(x, "%s", line);
	}
}

static void on_alarm(int sig)
{
	char msg[256];
	int n;

	(void)sig;
	n = snprintf(msg, sizeof(msg),
		     "not ok - %s: hung: still running after %d s\nsummary aborted\n",
		     current_case, o.case_timeout_s);
	if (write(STDOUT_FILENO, msg, (size_t)n) < 0)
		_exit(EXIT_FAIL);
	_exit(EXIT_FAIL);
}

static bool run_case(const struct tcase *t)
{
	struct ctx x = { .name = t->name };
	char *line, *save;
	int i;

	current_case = t->name;
	alarm((unsigned int)o.case_timeout_s);
	t->fn(&x);
	if (o.expect_channel)
		check_offtcp(&x);
	alarm(0);
	for (i = 0; i < x.nfds; i++)
		if (x.fds[i] >= 0)
			close(x.fds[i]);
	printf("%s - %s: %s\n", x.failed ? "not ok" : "ok", t->name, t->desc);
	for (line = strtok_r(x.why, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("# %s\n", line);
	fflush(stdout);
	return !x.failed;
}

static void usage_exit(void)
{
	printf("usage: tsor_sem [-4|-6] -a ADDR -p PORT [--server-netns NS] [--expect channel|any]\n"
	       "                [--case NAME]... [--case-timeout S] | --list\n");
	exit(EXIT_OK);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server-netns", required_argument, NULL, 'N' },
		{ "expect", required_argument, NULL, 'E' },
		{ "case", required_argument, NULL, 'C' },
		{ "case-timeout", required_argument, NULL, 'T' },
		{ "list", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = NULL, *only[64];
	unsigned int nonly = 0, i, j, passed = 0, failed = 0;
	uint64_t v;
	int opt;

	set_progname(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	o = (struct opts){ .family = AF_INET, .expect_channel = true, .case_timeout_s = 30 };
	while ((opt = getopt_long(argc, argv, "46a:p:h", lo, NULL)) != -1) {
		switch (opt) {
		case '4':
			o.family = AF_INET;
			break;
		case '6':
			o.family = AF_INET6;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || !v || v > 65535)
				usage_error("-p: bad port '%s'", optarg);
			o.port = (uint16_t)v;
			break;
		case 'N':
			o.server_netns = optarg;
			break;
		case 'E':
			if (strcmp(optarg, "channel") && strcmp(optarg, "any"))
				usage_error("--expect: channel or any, not '%s'", optarg);
			o.expect_channel = !strcmp(optarg, "channel");
			break;
		case 'C':
			if (nonly == ARRAY_SIZE(only))
				usage_error("too many --case");
			only[nonly++] = optarg;
			break;
		case 'T':
			if (parse_u64(optarg, &v) || !v || v > 3600)
				usage_error("--case-timeout: bad seconds '%s'", optarg);
			o.case_timeout_s = (int)v;
			break;
		case 'L':
			for (i = 0; i < ARRAY_SIZE(cases); i++)
				printf("%-16s %s\n", cases[i].name, cases[i].desc);
			return EXIT_OK;
		case 'h':
			usage_exit();
			break;
		default:
			usage_error("unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!addr || !o.port)
		usage_error("-a ADDR and -p PORT are required");
	if (parse_sockaddr(o.family, addr, o.port, &o.target, &o.target_len))
		usage_error("-a: '%s' is not a numeric IPv%c address", addr,
			    o.family == AF_INET ? '4' : '6');
	for (j = 0; j < nonly; j++) {
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			if (!strcmp(only[j], cases[i].name))
				break;
		if (i == ARRAY_SIZE(cases))
			usage_error("no case '%s' (see --list)", only[j]);
	}
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	lfd = make_listener();

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool want = !nonly;

		for (j = 0; j < nonly; j++)
			want |= !strcmp(only[j], cases[i].name);
		if (!want)
			continue;
		if (run_case(&cases[i]))
			passed++;
		else
			failed++;
	}
	printf("summary cases=%u passed=%u failed=%u\n", passed + failed, passed, failed);
	return failed ? EXIT_FAIL : EXIT_OK;
}
