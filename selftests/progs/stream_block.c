// SPDX-License-Identifier: GPL-2.0
/*
 * -m block: blocking sockets.  Each connection gets a sender and a receiver
 * thread so both directions really block at the same time.  Every blocking
 * call is bounded by SO_RCVTIMEO/SO_SNDTIMEO (or poll() for accept and the
 * client's first-data wait); the watchdog covers a kernel ignoring them.
 */
#define _GNU_SOURCE
#include "stream.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define THREAD_STACK	(256 * 1024)	/* buffers live on the heap */

/* One direction to its end; on failure wake the sibling thread up. */
static void run_direction(struct conn *c, enum step (*step)(struct conn *))
{
	enum step s;

	while ((s = step(c)) == STEP_MORE)
		;
	if (s == STEP_WAIT)	/* cannot happen on a blocking socket */
		conn_fail(c, "EAGAIN on a blocking socket without a timeout");
	if (conn_failed(c))
		shutdown(c->fd, SHUT_RDWR);
}

static void *tx_thread(void *arg)
{
	run_direction(arg, tx_step);
	return NULL;
}

static void *rx_thread(void *arg)
{
	run_direction(arg, rx_step);
	return NULL;
}

/* Wait up to the timeout for @events on @fd: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left < 0)
			left = 0;
		r = poll(&p, 1, (int)left);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

static bool start_threads(struct conn *c)
{
	pthread_attr_t attr;
	int err;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	err = pthread_create(&c->rx_thread, &attr, rx_thread, c);
	if (!err) {
		err = pthread_create(&c->tx_thread, &attr, tx_thread, c);
		if (err) {
			/* The receiver would wait for data nobody asked for. */
			shutdown(c->fd, SHUT_RDWR);
			pthread_join(c->rx_thread, NULL);
		}
	}
	pthread_attr_destroy(&attr);
	if (err) {
		conn_fail(c, "pthread_create: %s", strerror(err));
		return false;
	}
	c->threads = true;
	return true;
}

/* Server: the next connection off the listener; false if none came. */
static bool accept_one(const struct opts *o, struct conn *c, int lfd)
{
	struct sockaddr_storage from;
	socklen_t len = sizeof(from);
	int r = wait_fd(lfd, POLLIN, o->timeout_ms);

	if (r < 0) {
		conn_fail(c, "poll on the listener: %s", strerror(errno));
		return false;
	}
	if (r == 0) {
		conn_fail(c, "no connection arrived within %d ms", o->timeout_ms);
		return false;
	}
	c->fd = accept4(lfd, (struct sockaddr *)&from, &len, SOCK_CLOEXEC);
	if (c->fd < 0) {
		conn_fail(c, "accept: %s", strerror(errno));
		return false;
	}
	if (set_socket_timeouts(c->fd, o->timeout_ms)) {
		conn_fail(c, "setting SO_RCVTIMEO/SO_SNDTIMEO: %s", strerror(errno));
		return false;
	}
	return conn_established(c, (struct sockaddr *)&from);
}

/*
 * Client: connect, then wait until the server's first byte (or EOF) is
 * readable.  That proves the server accepted this connection before we
 * open the next, so accept order equals our connection index.
 */
static bool connect_one(const struct opts *o, struct conn *c)
{
	int r;

	c->fd = stream_client_socket(c, false);
	if (c->fd < 0)
		return false;
	c->state = CS_CONNECTING;
	if (connect(c->fd, (const struct sockaddr *)&o->target, o->target_len)) {
		/* A blocking connect that hits SO_SNDTIMEO says EINPROGRESS. */
		if (errno == EINPROGRESS)
			conn_fail(c, "connect: not established within %d ms (SO_SNDTIMEO)",
				  o->timeout_ms);
		else
			conn_fail(c, "connect: %s", strerror(errno));
		return false;
	}
	if (!conn_established(c, NULL))
		return false;
	r = wait_fd(c->fd, POLLIN, o->timeout_ms);
	if (r < 0) {
		conn_fail(c, "poll for the first data: %s", strerror(errno));
		return false;
	}
	if (r == 0) {
		conn_fail(c, "server sent nothing within %d ms of connecting (is it a tsor_stream server?)",
			  o->timeout_ms);
		return false;
	}
	c->gate_open = true;
	return true;
}

void run_block(const struct opts *o, struct conn *conns, int lfd)
{
	unsigned int i;

	for (i = 0; i < o->conns; i++) {
		struct conn *c = &conns[i];
		bool ok = o->role == ROLE_SERVER ? accept_one(o, c, lfd)
						 : connect_one(o, c);

		bool had_socket = c->fd >= 0;

		if (ok && start_threads(c))
			continue;
		c->state = CS_DONE;
		if (had_socket) {
			conn_tcp_info(c);
			close(c->fd);
			c->fd = -1;
		}
		/* A client stops: without the gate, order is not guaranteed.
		 * A server whose accept timed out will not get more either. */
		if (o->role == ROLE_CLIENT || !had_socket)
			break;
	}

	for (i = 0; i < o->conns; i++) {
		struct conn *c = &conns[i];

		if (!c->threads)
			continue;
		pthread_join(c->tx_thread, NULL);
		pthread_join(c->rx_thread, NULL);
		c->state = CS_DONE;
		conn_tcp_info(c);
		close(c->fd);
		c->fd = -1;
	}
}
