// SPDX-License-Identifier: GPL-2.0
/*
 * -m poll | epoll | epollet: every connection (and the listener) is
 * non-blocking and served by one thread.  poll() and level-triggered epoll
 * do one operation per readiness report; edge-triggered epoll must drain
 * each direction to EAGAIN because it will not be told again.  Every
 * connection must make progress within the timeout or it fails.
 */
#define _GNU_SOURCE
#include "stream.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* poll() and epoll share the event bits; the code uses the EPOLL names. */
_Static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT &&
	       POLLERR == EPOLLERR && POLLHUP == EPOLLHUP &&
	       POLLRDHUP == EPOLLRDHUP, "poll and epoll bits differ");

#define LISTENER_TAG	UINT32_MAX

struct evloop {
	const struct opts *o;
	struct conn *conns;
	unsigned int n;
	int lfd;
	bool accepting;			/* server: listener still polled */
	unsigned int accepted;		/* server: connections handed out */
	int64_t accept_since;		/* server: start of the current wait */
	unsigned int started;		/* client: connections started */
	bool stop_starting;		/* client: one failed before the gate */
	unsigned int live;		/* connecting or active */
	int epfd;
	struct pollfd *pfd;		/* poll mode */
	uint32_t *tag;			/* poll mode: conn index per pfd slot */
	struct epoll_event *evs;	/* epoll modes */
};

static bool is_live(const struct conn *c)
{
	return c->state == CS_CONNECTING || c->state == CS_ACTIVE;
}

static uint32_t want_events(const struct conn *c)
{
	if (c->state == CS_CONNECTING)
		return EPOLLOUT;
	return (c->rx_done ? 0 : EPOLLIN | EPOLLRDHUP) |
	       (c->tx_done ? 0 : EPOLLOUT);
}

static bool ev_add(struct evloop *l, struct conn *c)
{
	struct epoll_event ev = { .data.u32 = c->idx };

	if (l->o->mode == MODE_POLL)
		return true;
	/* Edge-triggered: register everything once and never modify. */
	ev.events = l->o->mode == MODE_EPOLLET ?
		    EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET : want_events(c);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
		conn_fail(c, "epoll_ctl(ADD): %s", strerror(errno));
		return false;
	}
	c->ev_mask = ev.events;
	return true;
}

/* Level-triggered epoll must stop asking for what is finished, or spin. */
static void ev_update(struct evloop *l, struct conn *c)
{
	struct epoll_event ev = { .data.u32 = c->idx };

	if (l->o->mode != MODE_EPOLL)
		return;
	ev.events = want_events(c);
	if (ev.events == c->ev_mask)
		return;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		conn_fail(c, "epoll_ctl(MOD): %s", strerror(errno));
	else
		c->ev_mask = ev.events;
}

static void conn_close(struct evloop *l, struct conn *c)
{
	/* A client connection that died before the gate leaves the server's
	 * accept order unknown, so later ones cannot be matched. */
	if (l->o->role == ROLE_CLIENT && !c->gate_open)
		l->stop_starting = true;
	if (c->fd >= 0) {
		conn_tcp_info(c);
		close(c->fd);	/* also drops it from the epoll set */
	}
	c->fd = -1;
	if (is_live(c))
		l->live--;
	c->state = CS_DONE;
}

static void stop_accepting(struct evloop *l)
{
	l->accepting = false;
	if (l->o->mode != MODE_POLL)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->lfd, NULL);
}

static void accept_ready(struct evloop *l)
{
	while (l->accepting) {
		struct sockaddr_storage from;
		socklen_t len = sizeof(from);
		struct conn *c = &l->conns[l->accepted];
		int fd = accept4(l->lfd, (struct sockaddr *)&from, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			conn_fail(c, "accept: %s", strerror(errno));
			c->state = CS_DONE;
			stop_accepting(l);
			return;
		}
		l->accepted++;
		l->accept_since = now_ms();
		c->fd = fd;
		c->state = CS_ACTIVE;
		l->live++;
		if (!conn_established(c, (struct sockaddr *)&from) ||
		    !ev_add(l, c))
			conn_close(l, c);
		if (l->accepted == l->n)
			stop_accepting(l);
	}
}

/* Non-blocking connect: EINPROGRESS now, writability + SO_ERROR later. */
static void start_connect(struct evloop *l, struct conn *c)
{
	const struct opts *o = l->o;

	c->fd = stream_client_socket(c, true);
	if (c->fd < 0) {
		c->state = CS_DONE;
		l->stop_starting = true;
		return;
	}
	c->state = CS_CONNECTING;
	l->live++;
	progress_touch(c);
	if (connect(c->fd, (const struct sockaddr *)&o->target, o->target_len) == 0) {
		if (!conn_established(c, NULL)) {
			conn_close(l, c);
			return;
		}
	} else if (errno != EINPROGRESS) {
		conn_fail(c, "connect: %s", strerror(errno));
		conn_close(l, c);
		return;
	}
	if (!ev_add(l, c))
		conn_close(l, c);
}

static bool finish_connect(struct conn *c)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len)) {
		conn_fail(c, "getsockopt(SO_ERROR): %s", strerror(errno));
		return false;
	}
	if (err) {
		conn_fail(c, "connect: %s", strerror(err));
		return false;
	}
	return conn_established(c, NULL);
}

/* Client: open the next connection once the previous one passed its gate. */
static void start_more(struct evloop *l)
{
	while (!l->stop_starting && l->started < l->n) {
		if (l->started && !l->conns[l->started - 1].gate_open)
			return;
		start_connect(l, &l->conns[l->started++]);
	}
}

static void drive(struct evloop *l, struct conn *c,
		  enum step (*step)(struct conn *))
{
	if (l->o->mode == MODE_EPOLLET)
		while (step(c) == STEP_MORE)
			;
	else
		step(c);
}

static void conn_event(struct evloop *l, struct conn *c, uint32_t ev)
{
	if (!is_live(c))
		return;
	if (c->state == CS_CONNECTING) {
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (!finish_connect(c)) {
			conn_close(l, c);
			return;
		}
		/* An edge seen while connecting is gone; look at both sides. */
		ev |= EPOLLIN | EPOLLOUT;
	}
	if (!c->rx_done && (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		drive(l, c, rx_step);
	if (!conn_failed(c) && !c->tx_done &&
	    (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
		drive(l, c, tx_step);
	if (conn_failed(c) || (c->rx_done && c->tx_done))
		conn_close(l, c);
	else
		ev_update(l, c);
}

static int next_timeout(struct evloop *l)
{
	int64_t first = INT64_MAX, now = now_ms();
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (is_live(&l->conns[i]))
			first = MIN(first, (int64_t)atomic_load(&l->conns[i].last_progress) +
					   l->o->timeout_ms);
	if (l->accepting)
		first = MIN(first, l->accept_since + l->o->timeout_ms);
	if (first == INT64_MAX)
		return l->o->timeout_ms;
	return first <= now ? 0 : (int)MIN(first - now, (int64_t)INT_MAX);
}

static void check_timeouts(struct evloop *l)
{
	int64_t now = now_ms();
	unsigned int i;
	char state[160];

	for (i = 0; i < l->n; i++) {
		struct conn *c = &l->conns[i];

		if (!is_live(c) ||
		    now - atomic_load(&c->last_progress) < l->o->timeout_ms)
			continue;
		conn_describe(c, state, sizeof(state));
		conn_fail(c, "timed out: no progress for %d ms (%s)",
			  l->o->timeout_ms, state);
		conn_close(l, c);
	}
	if (l->accepting && now - l->accept_since >= l->o->timeout_ms) {
		conn_fail(&l->conns[l->accepted],
			  "no connection arrived within %d ms (%u of %u accepted)",
			  l->o->timeout_ms, l->accepted, l->n);
		stop_accepting(l);
	}
}

static void wait_poll(struct evloop *l, int timeout)
{
	unsigned int i, nfds = 0;
	int r;

	if (l->accepting) {
		l->pfd[nfds] = (struct pollfd){ .fd = l->lfd, .events = POLLIN };
		l->tag[nfds++] = LISTENER_TAG;
	}
	for (i = 0; i < l->n; i++) {
		struct conn *c = &l->conns[i];

		if (!is_live(c))
			continue;
		l->pfd[nfds] = (struct pollfd){
			.fd = c->fd, .events = (short)want_events(c),
		};
		l->tag[nfds++] = i;
	}
	r = poll(l->pfd, nfds, timeout);
	if (r < 0 && errno != EINTR)
		stream_die("poll: %s", strerror(errno));
	for (i = 0; r > 0 && i < nfds; i++) {
		if (!l->pfd[i].revents)
			continue;
		if (l->tag[i] == LISTENER_TAG)
			accept_ready(l);
		else
			conn_event(l, &l->conns[l->tag[i]],
				   (uint16_t)l->pfd[i].revents);
	}
}

static void wait_epoll(struct evloop *l, int timeout)
{
	int i, r = epoll_wait(l->epfd, l->evs, (int)l->n + 1, timeout);

	if (r < 0 && errno != EINTR)
		stream_die("epoll_wait: %s", strerror(errno));
	for (i = 0; i < r; i++) {
		if (l->evs[i].data.u32 == LISTENER_TAG)
			accept_ready(l);
		else
			conn_event(l, &l->conns[l->evs[i].data.u32],
				   l->evs[i].events);
	}
}

void run_evloop(const struct opts *o, struct conn *conns, int lfd)
{
	struct evloop l = {
		.o = o, .conns = conns, .n = o->conns, .lfd = lfd,
		.accepting = lfd >= 0, .accept_since = now_ms(), .epfd = -1,
	};

	if (o->mode == MODE_POLL) {
		l.pfd = xcalloc(l.n + 1, sizeof(*l.pfd));
		l.tag = xcalloc(l.n + 1, sizeof(*l.tag));
	} else {
		l.evs = xcalloc(l.n + 1, sizeof(*l.evs));
		l.epfd = epoll_create1(EPOLL_CLOEXEC);
		if (l.epfd < 0)
			stream_die("epoll_create1: %s", strerror(errno));
		if (l.accepting) {
			struct epoll_event ev = {
				.events = EPOLLIN |
					  (o->mode == MODE_EPOLLET ? EPOLLET : 0),
				.data.u32 = LISTENER_TAG,
			};

			if (epoll_ctl(l.epfd, EPOLL_CTL_ADD, lfd, &ev))
				stream_die("epoll_ctl(ADD listener): %s",
					   strerror(errno));
		}
	}

	for (;;) {
		if (o->role == ROLE_CLIENT)
			start_more(&l);
		if (!l.live && !l.accepting &&
		    (o->role == ROLE_SERVER || l.stop_starting || l.started == l.n))
			break;
		if (o->mode == MODE_POLL)
			wait_poll(&l, next_timeout(&l));
		else
			wait_epoll(&l, next_timeout(&l));
		check_timeouts(&l);
	}

	if (l.epfd >= 0)
		close(l.epfd);
	free(l.pfd);
	free(l.tag);
	free(l.evs);
}
