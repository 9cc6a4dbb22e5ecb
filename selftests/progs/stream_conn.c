// SPDX-License-Identifier: GPL-2.0
/*
 * One tsor_stream connection: the socket checks run once it is established,
 * and the two halves of the data path.  tx_step()/rx_step() do one
 * operation each, so both engines share them: the blocking engine loops on
 * them in a thread per direction, the event loop calls them on readiness.
 */
#define _GNU_SOURCE
#include "stream.h"
#include "tcpinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define IOV_MAX_SEGS	16

atomic_llong g_last_progress;

static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *role_name(const struct conn *c)
{
	return c->o->role == ROLE_CLIENT ? "client" : "server";
}

void progress_touch(struct conn *c)
{
	long long now = now_ms();

	if (c)
		atomic_store(&c->last_progress, now);
	atomic_store(&g_last_progress, now);
}

void conn_init(struct conn *c, const struct opts *o, unsigned int idx)
{
	/* Our tx stream is the peer's rx stream and vice versa. */
	enum pattern_dir tx = o->role == ROLE_CLIENT ? DIR_C2S : DIR_S2C;
	enum pattern_dir rx = o->role == ROLE_CLIENT ? DIR_S2C : DIR_C2S;

	memset(c, 0, sizeof(*c));
	c->o = o;
	c->idx = idx;
	c->fd = -1;
	c->state = CS_IDLE;
	c->blocking = o->mode == MODE_BLOCK;

	c->tx_key = pattern_derive(o->seed, PATTERN_DOMAIN_STREAM, idx, tx);
	c->rx_key = pattern_derive(o->seed, PATTERN_DOMAIN_STREAM, idx, rx);
	c->tx_len = o->random_sizes ?
		    pattern_random_size(o->seed, idx, tx, o->bytes) : o->bytes;
	c->rx_len = o->random_sizes ?
		    pattern_random_size(o->seed, idx, rx, o->bytes) : o->bytes;
	/* Chunking differs per role too, so the two ends never mirror. */
	c->tx_rng.state = pattern_derive(o->seed, PATTERN_DOMAIN_CHUNK, idx,
					 tx) ^ (uint64_t)o->role;
	c->rx_rng.state = pattern_derive(o->seed, PATTERN_DOMAIN_CHUNK, idx,
					 rx) ^ ((uint64_t)o->role << 1);

	c->tx_buf = xcalloc(1, CHUNK_MAX);
	c->rx_buf = xcalloc(1, CHUNK_MAX);
	c->rx_expect = xcalloc(1, CHUNK_MAX);
	if (o->peek)
		c->rx_peek = xcalloc(1, CHUNK_MAX);
	sha256_init(&c->sha_tx);
	sha256_init(&c->sha_rx);
	atomic_init(&c->failed, false);
	atomic_init(&c->last_progress, now_ms());
	strcpy(c->local, "?");
	strcpy(c->peer, "?");
}

void conn_free(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->tx_buf);
	free(c->rx_buf);
	free(c->rx_expect);
	free(c->rx_peek);
	c->tx_buf = c->rx_buf = c->rx_expect = c->rx_peek = NULL;
}

void conn_fail(struct conn *c, const char *fmt, ...)
{
	char msg[sizeof(c->err)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&err_lock);
	/* Later failures are usually fallout of the first; keep the first. */
	if (!atomic_load(&c->failed)) {
		strcpy(c->err, msg);
		atomic_store(&c->failed, true);
	}
	fprintf(stderr, "%s: conn %u (%s): %s\n", progname, c->idx,
		role_name(c), msg);
	pthread_mutex_unlock(&err_lock);
	progress_touch(c);
}

void conn_describe(struct conn *c, char *buf, size_t len)
{
	switch (c->state) {
	case CS_IDLE:
		snprintf(buf, len, "not started");
		return;
	case CS_CONNECTING:
		snprintf(buf, len, "connecting");
		return;
	default:
		break;
	}
	snprintf(buf, len, "sent %llu/%llu%s, received %llu/%llu%s%s",
		 (unsigned long long)c->tx_off, (unsigned long long)c->tx_len,
		 c->tx_done ? " (shut down)" : "",
		 (unsigned long long)c->rx_off, (unsigned long long)c->rx_len,
		 c->rx_done ? " (EOF seen)" : "",
		 c->o->role == ROLE_CLIENT && !c->gate_open ?
		 ", server has not sent anything yet" : "");
}

static bool check_sockopt_int(struct conn *c, int level, int name,
			      const char *what, int want)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(c->fd, level, name, &v, &len)) {
		conn_fail(c, "getsockopt(%s): %s", what, strerror(errno));
		return false;
	}
	if (v != want) {
		conn_fail(c, "getsockopt(%s) = %d, expected %d", what, v, want);
		return false;
	}
	return true;
}

/* The kernel must refuse to stack the tls ULP on a tsor socket. */
static bool check_ulp_refused(struct conn *c)
{
	static const char ulp[] = "tls";

	if (setsockopt(c->fd, IPPROTO_TCP, TCP_ULP, ulp, sizeof(ulp) - 1) == 0) {
		conn_fail(c, "setsockopt(TCP_ULP, \"tls\") succeeded, but --expect-ulp-refused says it must fail");
		return false;
	}
	/* idx=, not conn=: scripts count summary lines with grep 'conn='. */
	printf("ulp idx=%u role=%s refused errno=%d (%s)\n", c->idx,
	       role_name(c), errno, strerror(errno));
	return true;
}

bool conn_established(struct conn *c, const struct sockaddr *accepted_from)
{
	const struct opts *o = c->o;
	struct sockaddr_storage local, peer;
	socklen_t len;
	int one = 1;

	c->state = CS_ACTIVE;
	progress_touch(c);

	len = sizeof(int);
	if (getsockopt(c->fd, SOL_SOCKET, SO_PROTOCOL, &c->proto, &len)) {
		conn_fail(c, "getsockopt(SO_PROTOCOL): %s", strerror(errno));
		return false;
	}
	if (c->proto != IPPROTO_TCP) {
		conn_fail(c, "SO_PROTOCOL = %d, expected %d (IPPROTO_TCP)",
			  c->proto, IPPROTO_TCP);
		return false;
	}
	if (!check_sockopt_int(c, SOL_SOCKET, SO_TYPE, "SO_TYPE", SOCK_STREAM) ||
	    !check_sockopt_int(c, SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN", o->family))
		return false;

	len = sizeof(local);
	if (getsockname(c->fd, (struct sockaddr *)&local, &len)) {
		conn_fail(c, "getsockname: %s", strerror(errno));
		return false;
	}
	len = sizeof(peer);
	if (getpeername(c->fd, (struct sockaddr *)&peer, &len)) {
		conn_fail(c, "getpeername: %s", strerror(errno));
		return false;
	}
	format_sockaddr((struct sockaddr *)&local, c->local, sizeof(c->local));
	format_sockaddr((struct sockaddr *)&peer, c->peer, sizeof(c->peer));

	if (o->role == ROLE_CLIENT &&
	    !sockaddr_equal((struct sockaddr *)&peer,
			    (const struct sockaddr *)&o->target)) {
		char want[ADDRSTR_LEN];

		format_sockaddr((const struct sockaddr *)&o->target, want,
				sizeof(want));
		conn_fail(c, "getpeername() = %s, but we connected to %s",
			  c->peer, want);
		return false;
	}
	if (accepted_from &&
	    !sockaddr_equal((struct sockaddr *)&peer, accepted_from)) {
		char acc[ADDRSTR_LEN];

		format_sockaddr(accepted_from, acc, sizeof(acc));
		conn_fail(c, "getpeername() = %s, but accept() returned %s",
			  c->peer, acc);
		return false;
	}
	if (o->role == ROLE_SERVER &&
	    sockaddr_port((struct sockaddr *)&local) != o->port && o->port) {
		conn_fail(c, "getsockname() = %s, but we listen on port %u",
			  c->local, o->port);
		return false;
	}

	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
		conn_fail(c, "setsockopt(TCP_NODELAY, 1): %s", strerror(errno));
		return false;
	}
	if (!check_sockopt_int(c, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", 1))
		return false;

	if (o->expect_ulp_refused && !check_ulp_refused(c))
		return false;

	if (o->print_addrs)
		printf("addrs idx=%u role=%s local=%s peer=%s\n", c->idx,
		       role_name(c), c->local, c->peer);
	return true;
}

void conn_tcp_info(struct conn *c)
{
	struct tcpinfo_bytes b;

	if (c->fd < 0 || c->have_tcpi || tcpinfo_bytes(c->fd, &b))
		return;
	c->tcpi_bytes_acked = b.acked;
	c->tcpi_bytes_received = b.received;
	c->have_tcpi = true;
}

/* Cuts @len bytes at @buf into 1..IOV_MAX_SEGS non-empty segments. */
static int split_iov(struct rng *r, uint8_t *buf, size_t len, struct iovec *iov)
{
	int n = 1 + (int)rng_below(r, MIN(len, (size_t)IOV_MAX_SEGS));
	int i;

	for (i = 0; i < n - 1; i++) {
		/* Leave at least one byte for each segment still to come. */
		size_t seg = 1 + (size_t)rng_below(r, len - (size_t)(n - 1 - i));

		iov[i].iov_base = buf;
		iov[i].iov_len = seg;
		buf += seg;
		len -= seg;
	}
	iov[i].iov_base = buf;
	iov[i].iov_len = len;
	return n;
}

/* send(), or with --iov now and then writev()/sendmsg() over segments. */
static ssize_t do_send(struct conn *c, uint8_t *buf, size_t len)
{
	struct iovec iov[IOV_MAX_SEGS];
	struct msghdr msg = { .msg_iov = iov };

	if (!c->o->iov || rng_below(&c->tx_rng, 2))
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	msg.msg_iovlen = (size_t)split_iov(&c->tx_rng, buf, len, iov);
	if (rng_below(&c->tx_rng, 2))
		return writev(c->fd, iov, (int)msg.msg_iovlen);	/* SIGPIPE ignored */
	return sendmsg(c->fd, &msg, MSG_NOSIGNAL);
}

/* recv(), or with --iov now and then readv()/recvmsg() over segments. */
static ssize_t do_recv(struct conn *c, uint8_t *buf, size_t len, int flags)
{
	struct iovec iov[IOV_MAX_SEGS];
	struct msghdr msg = { .msg_iov = iov };

	if (!c->o->iov || rng_below(&c->rx_rng, 2))
		return recv(c->fd, buf, len, flags);
	msg.msg_iovlen = (size_t)split_iov(&c->rx_rng, buf, len, iov);
	if (!flags)
		return readv(c->fd, iov, (int)msg.msg_iovlen);
	return recvmsg(c->fd, &msg, flags);
}

enum step tx_step(struct conn *c)
{
	uint64_t left = c->tx_len - c->tx_off;
	ssize_t n;

	if (c->tx_done)
		return STEP_DONE;
	if (!left) {
		if (shutdown(c->fd, SHUT_WR)) {
			conn_fail(c, "shutdown(SHUT_WR) after sending %llu bytes: %s",
				  (unsigned long long)c->tx_off, strerror(errno));
			return STEP_FAIL;
		}
		c->tx_done = true;
		progress_touch(c);
		return STEP_DONE;
	}
	if (c->tx_pos == c->tx_fill) {
		size_t chunk = rng_chunk(&c->tx_rng);

		if (chunk > left)
			chunk = (size_t)left;
		pattern_fill(c->tx_key, c->tx_off, c->tx_buf, chunk);
		c->tx_fill = chunk;
		c->tx_pos = 0;
	}

	n = do_send(c, c->tx_buf + c->tx_pos, c->tx_fill - c->tx_pos);
	if (n < 0) {
		if (errno == EINTR)
			return STEP_MORE;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (!c->blocking)
				return STEP_WAIT;
			conn_fail(c, "send blocked for %d ms at offset %llu of %llu (SO_SNDTIMEO expired)",
				  c->o->timeout_ms, (unsigned long long)c->tx_off,
				  (unsigned long long)c->tx_len);
			return STEP_FAIL;
		}
		conn_fail(c, "send at offset %llu of %llu: %s",
			  (unsigned long long)c->tx_off,
			  (unsigned long long)c->tx_len, strerror(errno));
		return STEP_FAIL;
	}
	if (n == 0 || (size_t)n > c->tx_fill - c->tx_pos) {
		conn_fail(c, "send of %zu bytes at offset %llu returned %zd",
			  c->tx_fill - c->tx_pos, (unsigned long long)c->tx_off, n);
		return STEP_FAIL;
	}
	sha256_update(&c->sha_tx, c->tx_buf + c->tx_pos, (size_t)n);
	c->tx_pos += (size_t)n;
	c->tx_off += (uint64_t)n;
	progress_touch(c);
	return STEP_MORE;
}

static void hex16(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n && i < 16; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * i] = '\0';
}

/* @buf holds @n bytes meant to sit at stream offset rx_off. */
static bool rx_verify(struct conn *c, const uint8_t *buf, size_t n,
		      const char *what)
{
	char got[33], want[33];
	size_t i, bad = 0, first;

	pattern_fill(c->rx_key, c->rx_off, c->rx_expect, n);
	if (!memcmp(buf, c->rx_expect, n))
		return true;
	for (i = 0; buf[i] == c->rx_expect[i]; i++)
		;
	first = i;
	for (; i < n; i++)
		bad += buf[i] != c->rx_expect[i];
	hex16(buf + first, n - first, got);
	hex16(c->rx_expect + first, n - first, want);
	conn_fail(c, "%s: data mismatch at stream offset %llu (byte %zu of a %zu-byte read, %zu bytes differ): got 0x%02x expected 0x%02x; got %s... expected %s...",
		  what, (unsigned long long)(c->rx_off + first), first, n, bad,
		  buf[first], c->rx_expect[first], got, want);
	return false;
}

/* Every expected byte arrived: the next read must report EOF. */
static enum step rx_expect_eof(struct conn *c)
{
	ssize_t n = recv(c->fd, c->rx_buf, CHUNK_MAX, 0);

	if (n == 0) {
		c->rx_done = true;
		c->gate_open = true;
		progress_touch(c);
		return STEP_DONE;
	}
	if (n > 0) {
		char got[33];

		hex16(c->rx_buf, (size_t)n, got);
		conn_fail(c, "%zd extra bytes after the expected %llu (instead of EOF), first: %s",
			  n, (unsigned long long)c->rx_len, got);
		return STEP_FAIL;
	}
	if (errno == EINTR)
		return STEP_MORE;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		if (!c->blocking)
			return STEP_WAIT;
		conn_fail(c, "no EOF within %d ms after all %llu bytes arrived (SO_RCVTIMEO expired)",
			  c->o->timeout_ms, (unsigned long long)c->rx_len);
		return STEP_FAIL;
	}
	conn_fail(c, "recv waiting for EOF after %llu bytes: %s",
		  (unsigned long long)c->rx_len, strerror(errno));
	return STEP_FAIL;
}

/* Turns a failed recv into STEP_WAIT/MORE or a precise failure. */
static enum step rx_error(struct conn *c, const char *what)
{
	if (errno == EINTR)
		return STEP_MORE;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		if (!c->blocking)
			return STEP_WAIT;
		conn_fail(c, "%s: no data for %d ms at offset %llu of %llu (SO_RCVTIMEO expired)",
			  what, c->o->timeout_ms, (unsigned long long)c->rx_off,
			  (unsigned long long)c->rx_len);
		return STEP_FAIL;
	}
	conn_fail(c, "%s at offset %llu of %llu: %s", what,
		  (unsigned long long)c->rx_off, (unsigned long long)c->rx_len,
		  strerror(errno));
	return STEP_FAIL;
}

static void rx_premature_eof(struct conn *c, const char *what)
{
	conn_fail(c, "%s: premature EOF at offset %llu, expected %llu bytes (%llu missing; if the peer failed first, its output has the cause)",
		  what, (unsigned long long)c->rx_off,
		  (unsigned long long)c->rx_len,
		  (unsigned long long)(c->rx_len - c->rx_off));
}

enum step rx_step(struct conn *c)
{
	uint64_t left = c->rx_len - c->rx_off;
	int flags = c->o->waitall ? MSG_WAITALL : 0;
	ssize_t peeked = -1, n;
	size_t want;

	if (c->rx_done)
		return STEP_DONE;
	if (!left)
		return rx_expect_eof(c);
	want = rng_chunk(&c->rx_rng);
	if (want > left)
		want = (size_t)left;

	if (c->o->peek) {
		peeked = recv(c->fd, c->rx_peek, want, MSG_PEEK);
		if (peeked < 0)
			return rx_error(c, "recv(MSG_PEEK)");
		c->gate_open = true;
		if (peeked == 0) {
			rx_premature_eof(c, "recv(MSG_PEEK)");
			return STEP_FAIL;
		}
		if ((size_t)peeked > want) {
			conn_fail(c, "recv(MSG_PEEK) of %zu bytes returned %zd",
				  want, peeked);
			return STEP_FAIL;
		}
		if (!rx_verify(c, c->rx_peek, (size_t)peeked, "recv(MSG_PEEK)"))
			return STEP_FAIL;
	}

	n = do_recv(c, c->rx_buf, want, flags);
	if (n < 0) {
		if (peeked > 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_fail(c, "recv at offset %llu failed with EAGAIN although MSG_PEEK just returned %zd bytes",
				  (unsigned long long)c->rx_off, peeked);
			return STEP_FAIL;
		}
		return rx_error(c, "recv");
	}
	c->gate_open = true;
	if (n == 0) {
		rx_premature_eof(c, peeked > 0 ? "recv after MSG_PEEK" : "recv");
		return STEP_FAIL;
	}
	if ((size_t)n > want) {
		conn_fail(c, "recv of %zu bytes returned %zd", want, n);
		return STEP_FAIL;
	}
	if (!rx_verify(c, c->rx_buf, (size_t)n, "recv"))
		return STEP_FAIL;
	/*
	 * Both reads matched the stream at the same offset, so the peeked
	 * bytes equal the read ones; what remains is that the read returned
	 * at least what the peek promised was queued.
	 */
	if (peeked > n) {
		conn_fail(c, "recv at offset %llu returned %zd bytes, but MSG_PEEK had just returned %zd",
			  (unsigned long long)c->rx_off, n, peeked);
		return STEP_FAIL;
	}
	if ((flags & MSG_WAITALL) && c->blocking && (size_t)n != want) {
		conn_fail(c, "recv(MSG_WAITALL) of %zu bytes at offset %llu returned only %zd (stream has %llu more)",
			  want, (unsigned long long)c->rx_off, n,
			  (unsigned long long)left);
		return STEP_FAIL;
	}
	sha256_update(&c->sha_rx, c->rx_buf, (size_t)n);
	c->rx_off += (uint64_t)n;
	progress_touch(c);
	return STEP_MORE;
}

int stream_listen(const struct opts *o, bool nonblock)
{
	int fd, one = 1, v6only = !o->dual_stack;

	fd = socket(o->family, SOCK_STREAM | SOCK_CLOEXEC |
		    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		stream_die("socket: %s", strerror(errno));
	/* Back-to-back runs reuse ports still in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		stream_die("setsockopt(SO_REUSEADDR): %s", strerror(errno));
	/* -6 means IPv6 only: v4-mapped peers would muddle address checks. */
	if (o->family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)))
		stream_die("setsockopt(IPV6_V6ONLY): %s", strerror(errno));
	if (bind(fd, (const struct sockaddr *)&o->bind, o->bind_len)) {
		char a[ADDRSTR_LEN];

		format_sockaddr((const struct sockaddr *)&o->bind, a, sizeof(a));
		stream_die("bind %s: %s", a, strerror(errno));
	}
	if (listen(fd, (int)MAX(o->conns, 128u)))
		stream_die("listen: %s", strerror(errno));
	return fd;
}

int stream_client_socket(struct conn *c, bool nonblock)
{
	const struct opts *o = c->o;
	int fd;

	fd = socket(o->family, SOCK_STREAM | SOCK_CLOEXEC |
		    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		conn_fail(c, "socket: %s", strerror(errno));
		return -1;
	}
	if (!nonblock && set_socket_timeouts(fd, o->timeout_ms)) {
		conn_fail(c, "setting SO_RCVTIMEO/SO_SNDTIMEO: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (o->have_bind &&
	    bind(fd, (const struct sockaddr *)&o->bind, o->bind_len)) {
		char a[ADDRSTR_LEN];

		format_sockaddr((const struct sockaddr *)&o->bind, a, sizeof(a));
		conn_fail(c, "bind %s: %s", a, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
