// SPDX-License-Identifier: GPL-2.0
/*
 * The channel layer: a paired connection's rings, and the socket calls
 * that move bytes through them.  Below it sits a transport (RDMA link or
 * shared memory), reached only through struct tsor_transport; the
 * transport reports back through tsor_up.
 *
 * Locking: the socket lock serialises the socket's own calls (one sender
 * claims ring space at a time, one reader consumes); ch->lock guards what
 * transports change under us from softirq context (the peer's producer and
 * consumer cursors, FIN, reset) and the pairing state.  No transport op is
 * called with ch->lock held, so transports may take their own locks and
 * call up again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>
#include <linux/uio.h>
#include <linux/wait_bit.h>
#include <net/sock.h>
#include "channel.h"

static unsigned int pair_timeout_ms = 3000;
module_param(pair_timeout_ms, uint, 0644);
MODULE_PARM_DESC(pair_timeout_ms,
		 "How long a connect() waits for the peer node's answer before staying TCP (default 3000)");

static unsigned int netns_ring_mb = 256;
module_param(netns_ring_mb, uint, 0644);
MODULE_PARM_DESC(netns_ring_mb,
		 "Receive ring memory one namespace may hold, in MiB; past it new connections stay TCP (default 256)");

/*
 * Takes up to *@size bytes of @tn's ring budget, halving the ring to fit;
 * false if not even the smallest ring fits.
 */
static bool tsor_ring_reserve(struct tsor_net *tn, u32 *size)
{
	long cap = (long)READ_ONCE(netns_ring_mb) << 20;
	u32 len;

	for (len = *size; len >= TSOR_RING_MIN; len >>= 1) {
		if (atomic_long_add_return(len, &tn->ring_bytes) <= cap) {
			*size = len;
			return true;
		}
		atomic_long_sub(len, &tn->ring_bytes);
	}
	return false;
}

static void tsor_ring_unreserve(struct tsor_net *tn, u32 size)
{
	atomic_long_sub(size, &tn->ring_bytes);
}

static void tsor_channel_free(struct tsor_channel *ch)
{
	struct tsor_net *tn = tsor_net(ch->net);

	tsor_stat_add(tn, TSOR_STAT_RING_BYTES, -(s64)ch->rx.size);
	tsor_stat_add(tn, TSOR_STAT_CHANNEL_ACTIVE, -1);
	tsor_ring_unreserve(tn, ch->rx.size);
	if (ch->xp->path == TSOR_PATH_SHM)
		tsor_ring_cache_put(tn, ch->rx_buf, ch->rx.size);
	else
		tsor_buf_free(ch->rx_buf, ch->rx.size);
	put_net(ch->net);
	kfree(ch);
}

void tsor_channel_put(struct tsor_channel *ch)
{
	if (refcount_dec_and_test(&ch->ref))
		tsor_channel_free(ch);
}

/* Wakes a socket's waiters and pollers; @mask is what may have changed. */
void tsor_channel_wake(struct sock *sk, __poll_t mask)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_sync_poll(&wq->wait, mask);
	if (mask & EPOLLIN)
		sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_IN);
	if (mask & EPOLLOUT)
		sk_wake_async(sk, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

static struct tsor_net *tsor_channel_tn(struct tsor_channel *ch)
{
	return ch->sk ? tsor_net(sock_net(ch->sk)) : NULL;
}

/* Counts @id in the socket's namespace, if the socket is still there. */
static void tsor_channel_count(struct tsor_channel *ch, enum tsor_stat id,
			       s64 delta)
{
	struct tsor_net *tn = tsor_channel_tn(ch);

	if (tn)
		tsor_stat_add(tn, id, delta);
}

static void tsor_channel_stat_bytes(struct sock *sk, struct tsor_channel *ch,
				    bool tx, u32 len)
{
	enum tsor_stat id;

	if (ch->xp->path == TSOR_PATH_RDMA)
		id = tx ? TSOR_STAT_RDMA_TX_BYTES : TSOR_STAT_RDMA_RX_BYTES;
	else
		id = tx ? TSOR_STAT_SHM_TX_BYTES : TSOR_STAT_SHM_RX_BYTES;
	tsor_stat_add(tsor_net(sock_net(sk)), id, len);
}

/* Falls back to TCP for @reason; ch->lock held, pairing still WAITING. */
static void tsor_channel_fail_locked(struct tsor_channel *ch,
				     enum tsor_pair_event ev,
				     enum tsor_fallback reason)
{
	tsor_pair_step(&ch->pair, ev, reason);
	tsor_channel_count(ch, TSOR_STAT_FALLBACK(ch->pair.reason), 1);
	if (ch->sk)
		tsor_channel_wake(ch->sk, EPOLLOUT | EPOLLWRNORM | EPOLLIN);
}

static struct mem_cgroup *tsor_sk_memcg(const struct sock *sk)
{
#ifdef CONFIG_MEMCG
	return sk->sk_memcg;
#else
	return NULL;
#endif
}

/*
 * Rings are pinned: one that takes the last of a memory cgroup's room
 * turns its pod's next allocation into an OOM kill.  So a ring takes at
 * most a quarter of the room left under every limit above the socket, and
 * leaves at least TSOR_MEMCG_FLOOR of it; it halves down to the smallest
 * ring to fit, else the connection stays TCP.
 */
#define TSOR_MEMCG_FLOOR	(8UL << 20)

static bool tsor_memcg_fits(unsigned long room, u32 size)
{
	return size <= room / 4 && room - size >= TSOR_MEMCG_FLOOR;
}

static bool tsor_memcg_fit(const struct sock *sk, u32 *size)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg;
	unsigned long room = PAGE_COUNTER_MAX;

	for (memcg = sk->sk_memcg; memcg; memcg = parent_mem_cgroup(memcg)) {
		unsigned long max = READ_ONCE(memcg->memory.max);
		unsigned long used = page_counter_read(&memcg->memory);

		room = min(room, max > used ? max - used : 0);
	}
	if (room >= PAGE_COUNTER_MAX)
		return true;		/* no limit */
	room <<= PAGE_SHIFT;
	while (*size > TSOR_RING_MIN && !tsor_memcg_fits(room, *size))
		*size >>= 1;
	return tsor_memcg_fits(room, *size);
#else
	return true;
#endif
}

struct tsor_channel *tsor_channel_new(struct sock *sk, bool server,
				      u32 rx_size,
				      const struct tsor_transport *xp)
{
	struct tsor_net *tn = tsor_net(sock_net(sk));
	struct tsor_channel *ch;
	u32 reserved = rx_size;

	struct mem_cgroup *memcg;

	/*
	 * Charged to the socket's memory cgroup, as its buffers are, whoever
	 * runs this (connect(), or the work its state change queued).
	 */
	memcg = set_active_memcg(tsor_sk_memcg(sk));
	ch = kzalloc(sizeof(*ch), GFP_KERNEL_ACCOUNT);
	if (!ch)
		goto err_memcg;
	if (!tsor_memcg_fit(sk, &reserved) || !tsor_ring_reserve(tn, &reserved))
		goto err_free;
	ch->rx.size = reserved;
	/* Zeroed where a remote node writes it: see buf.c. */
	if (xp->path == TSOR_PATH_SHM)
		ch->rx_buf = tsor_ring_cache_get(tn, ch->rx.size);
	if (!ch->rx_buf)
		ch->rx_buf = tsor_buf_alloc(&ch->rx.size, TSOR_RING_MIN,
					    GFP_KERNEL_ACCOUNT |
					    (xp->path == TSOR_PATH_SHM ?
					     0 : __GFP_ZERO));
	if (!ch->rx_buf)
		goto err_unreserve;
	set_active_memcg(memcg);
	tsor_ring_unreserve(tn, reserved - ch->rx.size);
	/* Counted in the namespace until the last reference goes. */
	ch->net = get_net(sock_net(sk));
	tsor_stat_add(tn, TSOR_STAT_CHANNEL_ACTIVE, 1);
	tsor_stat_add(tn, TSOR_STAT_RING_BYTES, ch->rx.size);
	refcount_set(&ch->ref, 1);
	spin_lock_init(&ch->lock);
	ch->xp = xp;
	ch->sk = sk;
	ch->server = server;
	ch->pair.state = TSOR_PAIR_WAITING;
	return ch;

err_unreserve:
	tsor_ring_unreserve(tn, reserved);
err_free:
	kfree(ch);
err_memcg:
	set_active_memcg(memcg);
	return NULL;
}

static void tsor_channel_timeout(struct timer_list *t)
{
	struct tsor_channel *ch = from_timer(ch, t, timer);

	spin_lock_bh(&ch->lock);
	if (ch->pair.state == TSOR_PAIR_WAITING) {
		/* The answer, when it comes, is then cancelled. */
		ch->closed = true;
		tsor_channel_fail_locked(ch, TSOR_PAIR_EV_TIMEOUT,
					 TSOR_FALLBACK_TIMEOUT);
	}
	spin_unlock_bh(&ch->lock);
	tsor_channel_put(ch);
}

/*
 * Client: asks the transport to pair.  Whatever happens, the outcome shows
 * in ch->pair and the socket is woken.
 */
int tsor_channel_pair(struct tsor_channel *ch, const struct tsor_addr *node,
		      const struct tsor_pair_req *req)
{
	enum tsor_fallback reason = TSOR_FALLBACK_REFUSED;
	int err;

	timer_setup(&ch->timer, tsor_channel_timeout, 0);
	tsor_channel_get(ch);
	mod_timer(&ch->timer, jiffies + msecs_to_jiffies(pair_timeout_ms));

	err = ch->xp->pair(ch, node, req, &reason);
	if (!err)
		return 0;

	if (del_timer(&ch->timer))
		tsor_channel_put(ch);
	spin_lock_bh(&ch->lock);
	if (ch->pair.state == TSOR_PAIR_WAITING)
		tsor_channel_fail_locked(ch, TSOR_PAIR_EV_NAK,
					 reason == TSOR_FALLBACK_NONE ?
					 TSOR_FALLBACK_REFUSED : reason);
	spin_unlock_bh(&ch->lock);
	return err;
}

bool tsor_channel_settled(struct tsor_channel *ch)
{
	bool settled;

	spin_lock_bh(&ch->lock);
	settled = ch->pair.state == TSOR_PAIR_TCP ||
		  (ch->pair.state == TSOR_PAIR_PAIRED && ch->ready);
	spin_unlock_bh(&ch->lock);
	return settled;
}

/* Upcalls from the transport */

static void tsor_up_answered(struct tsor_channel *ch,
			     const struct tsor_pair_ans *ans)
{
	bool take = false, close = false;

	if (del_timer(&ch->timer))
		tsor_channel_put(ch);

	spin_lock_bh(&ch->lock);
	if (ch->pair.state != TSOR_PAIR_WAITING) {
		/* Timed out, or the socket is gone: undo on the peer too. */
		close = true;
	} else if (ans->reason == TSOR_FALLBACK_NONE) {
		tsor_pair_step(&ch->pair, TSOR_PAIR_EV_ACK, TSOR_FALLBACK_NONE);
		ch->y = ans->y;
		/* The server's FIN came on TCP already; the ring ends at once. */
		ch->rx_fin = ans->fin;
		take = true;
	} else {
		ch->closed = true;
		close = true;
		tsor_channel_fail_locked(ch, ans->reason ==
					 TSOR_FALLBACK_LINK_DOWN ?
					 TSOR_PAIR_EV_LINK_DOWN :
					 TSOR_PAIR_EV_NAK, ans->reason);
	}
	spin_unlock_bh(&ch->lock);

	if (take) {
		/* CONFIRM goes out before any data the socket may now write. */
		ch->xp->confirm(ch, true);
		spin_lock_bh(&ch->lock);
		ch->ready = true;
		tsor_channel_count(ch, TSOR_STAT_CONN_PAIRED, 1);
		if (ch->sk) {
			tsor_channel_wake(ch->sk, EPOLLOUT | EPOLLWRNORM |
					  EPOLLIN);
		} else {
			/* The socket closed meanwhile: end it cleanly. */
			ch->tx_fin = true;
			ch->closed = true;
			close = true;
		}
		spin_unlock_bh(&ch->lock);
		if (close) {
			ch->xp->write(ch, NULL, 0, true);
			ch->xp->close(ch, false);
		}
		return;
	}
	if (close) {
		if (ans->reason == TSOR_FALLBACK_NONE)
			ch->xp->confirm(ch, false);
		ch->xp->close(ch, false);
	}
}

static void tsor_up_confirmed(struct tsor_channel *ch, int result)
{
	bool orphan;

	spin_lock_bh(&ch->lock);
	orphan = !ch->sk;
	if (result == -ECONNREFUSED) {
		tsor_pair_step(&ch->pair, TSOR_PAIR_EV_NAK,
			       TSOR_FALLBACK_REFUSED);
		tsor_channel_count(ch, TSOR_STAT_PAIR_CANCELLED, 1);
	} else {
		tsor_pair_step(&ch->pair, TSOR_PAIR_EV_ACK, TSOR_FALLBACK_NONE);
		ch->ready = true;
		if (!result)
			tsor_channel_count(ch, TSOR_STAT_CONN_PAIRED, 1);
	}
	if (result && result != -ECONNREFUSED) {
		/*
		 * Paired in name only, so that the socket neither reads TCP
		 * (the client's bytes may have gone to the ring) nor writes
		 * there; the transport releases the channel, not close().
		 */
		ch->err = result;
		ch->peer_closed = true;
		ch->closed = true;
		tsor_channel_count(ch, TSOR_STAT_CONN_RESET, 1);
	} else if (!result && orphan) {
		/* The server socket closed before the client confirmed. */
		ch->tx_fin = true;
		ch->closed = true;
	}
	if (ch->sk)
		tsor_channel_wake(ch->sk, EPOLLIN | EPOLLOUT | EPOLLWRNORM |
				  (ch->err ? EPOLLERR | EPOLLHUP : 0));
	spin_unlock_bh(&ch->lock);

	if (!result && orphan) {
		ch->xp->write(ch, NULL, 0, true);
		ch->xp->close(ch, false);
	}
}

static void tsor_up_data(struct tsor_channel *ch, u32 len, bool fin)
{
	__poll_t mask = EPOLLIN | EPOLLRDNORM;

	spin_lock_bh(&ch->lock);
	/* Lost, rx.prod went in our resume record: the peer resends these. */
	if (ch->lost) {
		spin_unlock_bh(&ch->lock);
		return;
	}
	if (!tsor_rx_produced(&ch->rx, len)) {
		/* The peer wrote beyond its credits: it cannot be trusted. */
		ch->err = -EPROTO;
		mask |= EPOLLERR | EPOLLHUP;
	}
	if (fin) {
		ch->rx_fin = true;
		mask |= EPOLLRDHUP;
	}
	if (ch->sk)
		tsor_channel_wake(ch->sk, mask);
	spin_unlock_bh(&ch->lock);
}

static void tsor_up_credit(struct tsor_channel *ch, u32 cons)
{
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	spin_lock_bh(&ch->lock);
	/* Resuming, the peer's record says what it received instead. */
	if (ch->lost) {
		spin_unlock_bh(&ch->lock);
		return;
	}
	if (!tsor_tx_credit(&ch->tx, cons)) {
		ch->err = -EPROTO;
		mask |= EPOLLERR | EPOLLHUP;
	}
	if (ch->sk)
		tsor_channel_wake(ch->sk, mask);
	spin_unlock_bh(&ch->lock);
}

static void tsor_up_peer_closed(struct tsor_channel *ch, int err)
{
	spin_lock_bh(&ch->lock);
	/* Resuming over TCP: the channel has nothing more to say. */
	if (ch->lost) {
		spin_unlock_bh(&ch->lock);
		return;
	}
	if (err == -ENOLINK) {
		/* The link died, not the peer: go on over TCP if we can. */
		if (tsor_resume_start(ch)) {
			if (ch->sk)
				tsor_channel_wake(ch->sk, EPOLLIN | EPOLLOUT);
			spin_unlock_bh(&ch->lock);
			return;
		}
		err = -ECONNRESET;
	}
	ch->peer_closed = true;
	if (err && !ch->err) {
		ch->err = err;
		tsor_channel_count(ch, TSOR_STAT_CONN_RESET, 1);
	}
	if (ch->sk)
		tsor_channel_wake(ch->sk, EPOLLIN | EPOLLOUT | EPOLLRDHUP |
				  EPOLLHUP | (err ? EPOLLERR : 0));
	spin_unlock_bh(&ch->lock);
}

/* Copies up to @len bytes from @from into the pages @d lends. */
static size_t tsor_direct_copy(struct tsor_direct *d, struct iov_iter *from,
			       size_t len)
{
	size_t off = d->start, done = 0;
	unsigned int i;

	len = min(len, d->len);
	for (i = 0; i < d->npages && done < len; i++) {
		size_t chunk = min_t(size_t, PAGE_SIZE - off, len - done);
		void *va = kmap_local_page(d->pages[i]);
		size_t c = copy_from_iter(va + off, chunk, from);

		kunmap_local(va);
		done += c;
		if (c != chunk)
			break;
		off = 0;
	}
	return done;
}

static size_t tsor_up_direct(struct tsor_channel *ch, struct iov_iter *from,
			     size_t len)
{
	struct tsor_direct *d;
	size_t n;

	spin_lock_bh(&ch->lock);
	d = ch->direct;
	/* Bytes still in the ring come first: then no lending. */
	if (!d || d->busy || d->done || tsor_rx_avail(&ch->rx) ||
	    ch->rx_fin || ch->err || !ch->sk) {
		spin_unlock_bh(&ch->lock);
		return 0;
	}
	d->busy = true;
	spin_unlock_bh(&ch->lock);

	n = tsor_direct_copy(d, from, len);

	spin_lock_bh(&ch->lock);
	d->filled = n;
	d->done = n != 0;
	d->busy = false;
	if (n && ch->sk)
		tsor_channel_wake(ch->sk, EPOLLIN | EPOLLRDNORM);
	spin_unlock_bh(&ch->lock);
	/* Pairs with wait_var_event() in tsor_direct_take(). */
	smp_mb();
	wake_up_var(d);
	/* A fault at the first byte: the ring path reports it. */
	return n;
}

static void tsor_up_released(struct tsor_channel *ch)
{
}

/* serve() is the socket layer's, given at init. */
static struct tsor_xport_up tsor_up __ro_after_init = {
	.answered = tsor_up_answered,
	.confirmed = tsor_up_confirmed,
	.data = tsor_up_data,
	.credit = tsor_up_credit,
	.peer_closed = tsor_up_peer_closed,
	.direct = tsor_up_direct,
	.released = tsor_up_released,
};

/* The socket side; each call below runs under the socket lock. */

/* Why a send cannot go on, or 0. */
static int tsor_channel_tx_error(struct sock *sk, struct tsor_channel *ch)
{
	if (ch->err)
		return ch->err;
	if (READ_ONCE(sk->sk_err))
		return -ECONNRESET;
	if ((sk->sk_shutdown & SEND_SHUTDOWN) || ch->tx_fin ||
	    ch->peer_closed)
		return -EPIPE;
	/* The socket layer waits for the resume, then writes to TCP. */
	if (ch->lost)
		return -ENOLINK;
	return 0;
}

static bool tsor_channel_writable(struct sock *sk, struct tsor_channel *ch)
{
	bool ret;

	spin_lock_bh(&ch->lock);
	ret = tsor_channel_tx_error(sk, ch) ||
	      (ch->ready && tsor_tx_space(&ch->tx));
	spin_unlock_bh(&ch->lock);
	return ret;
}

static int tsor_spans_count(struct tsor_span span[2], u32 len)
{
	if (len <= span[0].len) {
		span[0].len = len;
		span[1].len = 0;
		return len ? 1 : 0;
	}
	span[1].len = len - span[0].len;
	return 2;
}

int tsor_channel_sendmsg(struct sock *sk, struct tsor_channel *ch,
			 struct msghdr *msg, size_t len)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	size_t copied = 0;
	long timeo;
	int err = 0;

	lock_sock(sk);
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	while (copied < len) {
		struct tsor_span span[2];
		u32 want = min_t(size_t, len - copied, ch->tx.size);
		u32 n = 0, done = 0;
		bool direct;
		int i;

		/*
		 * A large write first offers itself to a blocked reader's
		 * lent buffer (the transport's direct()), then the ring.
		 */
		spin_lock_bh(&ch->lock);
		err = tsor_channel_tx_error(sk, ch);
		direct = !err && ch->ready && ch->xp->direct &&
			 len - copied >= TSOR_DIRECT_MIN;
		if (!err && ch->ready && !direct)
			n = tsor_tx_claim(&ch->tx, want, span);
		spin_unlock_bh(&ch->lock);
		if (err)
			break;
		if (direct) {
			size_t c = ch->xp->direct(ch, &msg->msg_iter,
						  len - copied);

			if (c) {
				copied += c;
				ch->tx_bytes += c;
				tsor_channel_stat_bytes(sk, ch, true, c);
				continue;
			}
			spin_lock_bh(&ch->lock);
			err = tsor_channel_tx_error(sk, ch);
			if (!err)
				n = tsor_tx_claim(&ch->tx, want, span);
			spin_unlock_bh(&ch->lock);
			if (err)
				break;
		}

		if (!n) {
			if (!timeo) {
				err = -EAGAIN;
				break;
			}
			if (signal_pending(current)) {
				err = sock_intr_errno(timeo);
				break;
			}
			add_wait_queue(sk_sleep(sk), &wait);
			sk_wait_event(sk, &timeo, tsor_channel_writable(sk, ch),
				      &wait);
			remove_wait_queue(sk_sleep(sk), &wait);
			continue;
		}

		for (i = 0; i < 2 && span[i].len; i++) {
			size_t c = copy_from_iter(ch->tx_buf + span[i].off,
						  span[i].len, &msg->msg_iter);

			done += c;
			if (c != span[i].len)
				break;
		}
		if (done < n) {
			/* A fault: give back what was claimed, not written. */
			spin_lock_bh(&ch->lock);
			ch->tx.prod -= n - done;
			spin_unlock_bh(&ch->lock);
			err = -EFAULT;
			if (!done)
				break;
		}
		i = ch->xp->write(ch, span, tsor_spans_count(span, done),
				  false);
		/*
		 * -ENOLINK: the link is dying; the bytes are ours to send
		 * again over TCP, or the connection is reset.
		 */
		if (i && i != -ENOLINK) {
			err = -ECONNRESET;
			break;
		}
		copied += done;
		ch->tx_bytes += done;
		tsor_channel_stat_bytes(sk, ch, true, done);
		if (err)
			break;
	}
	release_sock(sk);

	if (copied)
		return copied;
	if (err == -ENOLINK)
		return err;
	return sk_stream_error(sk, msg->msg_flags, err);
}

/*
 * The end of what this side reads: the peer's FIN on the channel, or our
 * own shutdown(SHUT_RD).  Never the inner TCP connection's FIN (the
 * socket's RCV_SHUTDOWN): the peer sends that as it closes, over IP, and
 * it can overtake the channel's last bytes, which an RDMA link may still
 * be retransmitting.  ch->lock held.
 */
static bool tsor_channel_rx_ended(const struct tsor_channel *ch)
{
	return ch->rx_fin || ch->rd_shut;
}

/*
 * Whether a lent buffer was filled and awaits its reader: the ring's bytes
 * come after it, so no one else reads them until it is taken.
 */
static bool tsor_direct_pending(const struct tsor_channel *ch)
{
	return ch->direct && ch->direct->done;
}

/* @mine: the buffer this reader lent, if any. */
static bool tsor_channel_readable(struct sock *sk, struct tsor_channel *ch,
				  const struct tsor_direct *mine)
{
	bool ret;

	spin_lock_bh(&ch->lock);
	if (tsor_direct_pending(ch))
		ret = ch->direct == mine;
	else
		ret = tsor_rx_avail(&ch->rx) || tsor_channel_rx_ended(ch) ||
		      ch->err || READ_ONCE(sk->sk_err) || ch->resume_rx;
	spin_unlock_bh(&ch->lock);
	return ret;
}

/* Copies out at most @len readable bytes; consumes them unless @peek. */
static int tsor_channel_copy_out(struct tsor_channel *ch, struct msghdr *msg,
				 u32 len, bool peek, bool *announce, u32 *cons)
{
	struct tsor_span span[2];
	u32 n, done = 0;
	int i;

	spin_lock_bh(&ch->lock);
	n = tsor_direct_pending(ch) ? 0 : tsor_rx_peek(&ch->rx, len, span);
	spin_unlock_bh(&ch->lock);

	for (i = 0; i < 2 && i < (int)n && span[i].len; i++) {
		size_t c = copy_to_iter(ch->rx_buf + span[i].off, span[i].len,
					&msg->msg_iter);

		done += c;
		if (c != span[i].len)
			break;
	}
	if (!done && n)
		return -EFAULT;
	if (!peek && done) {
		spin_lock_bh(&ch->lock);
		tsor_rx_consume(&ch->rx, done);
		*announce = tsor_rx_announce(&ch->rx);
		*cons = ch->rx.cons;
		spin_unlock_bh(&ch->lock);
	}
	return done;
}

/*
 * A reader about to sleep on an empty ring lends up to @len bytes of its
 * buffer to the writer (see struct tsor_direct).  Only user memory, and
 * only where the transport can write there; false if nothing was lent.
 */
static bool tsor_direct_lend(struct tsor_channel *ch, struct msghdr *msg,
			     size_t len, struct tsor_direct *d)
{
	ssize_t n;
	bool lent = false;

	if (!ch->xp->direct || len < TSOR_DIRECT_MIN ||
	    !user_backed_iter(&msg->msg_iter))
		return false;
	n = iov_iter_get_pages2(&msg->msg_iter, d->pages,
				min_t(size_t, len,
				      TSOR_DIRECT_PAGES * PAGE_SIZE),
				TSOR_DIRECT_PAGES, &d->start);
	if (n <= 0)
		return false;
	d->len = n;
	d->npages = DIV_ROUND_UP(d->start + n, PAGE_SIZE);
	d->filled = 0;
	d->busy = false;
	d->done = false;

	spin_lock_bh(&ch->lock);
	if (!ch->direct && !tsor_rx_avail(&ch->rx) && !ch->rx_fin &&
	    !ch->err) {
		ch->direct = d;
		lent = true;
	}
	spin_unlock_bh(&ch->lock);
	if (!lent) {
		release_pages(d->pages, d->npages);
		iov_iter_revert(&msg->msg_iter, n);
	}
	return lent;
}

/*
 * Takes back the buffer lent: waits for a writer still copying into it,
 * lets the pages go and gives the iterator back what was not filled.
 * Returns the bytes the writer put there.
 */
static size_t tsor_direct_take(struct sock *sk, struct tsor_channel *ch,
			       struct msghdr *msg, struct tsor_direct *d)
{
	size_t filled;
	unsigned int i;
	bool busy, more;

	spin_lock_bh(&ch->lock);
	ch->direct = NULL;
	busy = d->busy;
	spin_unlock_bh(&ch->lock);
	if (busy)
		wait_var_event(d, !READ_ONCE(d->busy));

	spin_lock_bh(&ch->lock);
	filled = d->done ? d->filled : 0;
	more = tsor_rx_avail(&ch->rx) != 0;
	spin_unlock_bh(&ch->lock);

	for (i = 0; i < d->npages; i++) {
		if ((size_t)i * PAGE_SIZE < d->start + filled)
			set_page_dirty_lock(d->pages[i]);
		put_page(d->pages[i]);
	}
	iov_iter_revert(&msg->msg_iter, d->len - filled);
	/* Another reader may have waited for this buffer to be taken. */
	if (more)
		tsor_channel_wake(sk, EPOLLIN | EPOLLRDNORM);
	return filled;
}

int tsor_channel_recvmsg(struct sock *sk, struct tsor_channel *ch,
			 struct msghdr *msg, size_t len, int flags)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	bool peek = flags & MSG_PEEK;
	struct tsor_direct d;
	size_t copied = 0;
	int target, err = 0;
	long timeo;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;	/* urgent data is TCP's alone */

	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	while (copied < len) {
		bool announce = false, more, pending, lent;
		u32 cons = 0;
		int n;

		n = tsor_channel_copy_out(ch, msg, min_t(size_t, len - copied,
							 U32_MAX), peek,
					  &announce, &cons);
		if (n < 0) {
			err = n;
			break;
		}
		if (announce)
			ch->xp->credit(ch, cons);
		if (n) {
			copied += n;
			if (!peek) {
				ch->rx_bytes += n;
				tsor_channel_stat_bytes(sk, ch, false, n);
			}
			if (copied >= target || peek)
				break;
			continue;
		}
		if (copied >= target)
			break;

		spin_lock_bh(&ch->lock);
		err = ch->err;
		if (!err && READ_ONCE(sk->sk_err))
			err = -ECONNRESET;
		/*
		 * Data and FIN may have landed together since the copy found
		 * the ring empty: the stream ends only once it is read.
		 */
		pending = tsor_direct_pending(ch);
		more = !err && !pending && tsor_rx_avail(&ch->rx);
		n = !err && !more && !pending && tsor_channel_rx_ended(ch);
		/* The ring is drained: the rest of the stream is on TCP. */
		if (!err && !more && !n && ch->resume_rx)
			err = -ENOLINK;
		spin_unlock_bh(&ch->lock);
		if (more)
			continue;
		if (err || n)
			break;		/* n: end of stream */
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		lent = !peek && tsor_direct_lend(ch, msg, len - copied, &d);
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, &timeo,
			      tsor_channel_readable(sk, ch, lent ? &d : NULL),
			      &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
		if (lent) {
			size_t filled = tsor_direct_take(sk, ch, msg, &d);

			if (filled) {
				copied += filled;
				ch->rx_bytes += filled;
				tsor_channel_stat_bytes(sk, ch, false, filled);
				tsor_stat_add(tsor_net(sock_net(sk)),
					      TSOR_STAT_SHM_DIRECT_BYTES, filled);
				if (copied >= target)
					break;
			}
		}
	}
	release_sock(sk);

	return copied ? copied : err;
}

__poll_t tsor_channel_poll(struct sock *sk, struct tsor_channel *ch)
{
	u8 shutdown = READ_ONCE(sk->sk_shutdown);
	int lowat = sock_rcvlowat(sk, 0, INT_MAX);
	__poll_t mask = 0;
	bool reset;

	spin_lock_bh(&ch->lock);
	reset = ch->err || READ_ONCE(sk->sk_err);
	if (reset)
		mask |= EPOLLERR;
	if (reset ||
	    (tsor_channel_rx_ended(ch) && (shutdown & SEND_SHUTDOWN)))
		mask |= EPOLLHUP;
	if (reset || tsor_channel_rx_ended(ch))
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	else if (tsor_rx_avail(&ch->rx) >= lowat)
		mask |= EPOLLIN | EPOLLRDNORM;
	/* Resuming, writes wait for it; then TCP's poll says. */
	if (reset || (shutdown & SEND_SHUTDOWN) || ch->peer_closed ||
	    (ch->ready && !ch->lost && tsor_tx_space(&ch->tx)))
		mask |= EPOLLOUT | EPOLLWRNORM;
	spin_unlock_bh(&ch->lock);
	return mask;
}

/*
 * Returns true, doing nothing, when the connection resumed over TCP and
 * TCP's shutdown is the one to call.
 */
bool tsor_channel_shutdown(struct sock *sk, struct tsor_channel *ch, int how)
{
	bool fin = false;

	lock_sock(sk);
	if (READ_ONCE(ch->resume_tx)) {
		release_sock(sk);
		return true;
	}
	/* how is SHUT_RD/WR/RDWR; +1 gives the RCV/SEND_SHUTDOWN bits. */
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | ((how + 1) & SHUTDOWN_MASK));
	spin_lock_bh(&ch->lock);
	if ((how + 1) & RCV_SHUTDOWN)
		ch->rd_shut = true;
	if ((sk->sk_shutdown & SEND_SHUTDOWN) && !ch->tx_fin && ch->ready &&
	    !ch->err) {
		ch->tx_fin = true;
		fin = true;
	}
	spin_unlock_bh(&ch->lock);
	/* Resuming, the work sends TCP's FIN after the bytes it resends. */
	if (fin && !ch->lost)
		ch->xp->write(ch, NULL, 0, true);
	release_sock(sk);
	tsor_channel_wake(sk, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
	return false;
}

bool tsor_channel_has_unread(struct tsor_channel *ch)
{
	bool ret;

	spin_lock_bh(&ch->lock);
	ret = tsor_rx_avail(&ch->rx) != 0;
	spin_unlock_bh(&ch->lock);
	return ret;
}

/* Whether @ch was reset (by the peer or the transport), or broken. */
bool tsor_channel_failed(struct tsor_channel *ch)
{
	bool ret;

	spin_lock_bh(&ch->lock);
	ret = ch->err != 0;
	spin_unlock_bh(&ch->lock);
	return ret;
}

u32 tsor_channel_inq(struct tsor_channel *ch)
{
	u32 n;

	spin_lock_bh(&ch->lock);
	n = tsor_rx_avail(&ch->rx);
	spin_unlock_bh(&ch->lock);
	return n;
}

/*
 * What TCP's SIOCOUTQ means: bytes the peer's kernel has not received yet
 * (TCP's un-ACKed data), not bytes its application has not read.  A write
 * is in the peer's ring when sendmsg() returns (shared memory) or once the
 * RDMA WRITE it posted completes, microseconds later; the transports do not
 * report that moment, so this reads 0.  Bytes the peer has not read yet
 * (tx.prod - tx.cons) are the peer's SIOCINQ, and with lazy credits they
 * would keep this from ever draining after a small write.
 */
u32 tsor_channel_outq(struct tsor_channel *ch)
{
	return 0;
}

/*
 * The socket lets go of @ch and drops its reference.  A paired channel
 * sends its FIN (unless @abort, which the peer sees as a reset) and is
 * closed; one still pairing is closed when its answer comes.
 */
void tsor_channel_release(struct tsor_channel *ch, bool abort)
{
	bool fin = false, close = false;

	spin_lock_bh(&ch->lock);
	ch->sk = NULL;
	if (ch->pair.state == TSOR_PAIR_PAIRED && ch->ready && !ch->closed) {
		abort = abort || ch->err;
		/* A lost transport carries nothing more. */
		fin = !abort && !ch->tx_fin && !ch->lost;
		ch->tx_fin = true;
		ch->closed = true;
		close = true;
	} else if (ch->pair.state == TSOR_PAIR_WAITING && !ch->server) {
		/* The answer is cancelled and the channel closed on arrival. */
		ch->closed = true;
		tsor_pair_step(&ch->pair, TSOR_PAIR_EV_TIMEOUT,
			       TSOR_FALLBACK_TIMEOUT);
		if (del_timer(&ch->timer))
			refcount_dec(&ch->ref);	/* ours is dropped below */
	}
	/*
	 * A server channel still WAITING is finished by confirmed(); a
	 * client's PAIRED but not yet ready one by answered().
	 */
	spin_unlock_bh(&ch->lock);

	if (fin)
		ch->xp->write(ch, NULL, 0, true);
	if (close)
		ch->xp->close(ch, abort);
	tsor_channel_put(ch);
}

int tsor_channel_init(struct tsor_channel *serve(const struct tsor_pair_req *req,
						 const struct tsor_transport *xp,
						 struct tsor_pair_ans *ans))
{
	int err;

	tsor_up.serve = serve;
	err = tsor_resume_init();
	if (err)
		return err;
	err = tsor_local_init(&tsor_up);
	if (err)
		goto err_resume;
	err = tsor_link_init(&tsor_up);
	if (err)
		goto err_local;
	return 0;

err_local:
	tsor_local_exit();
err_resume:
	tsor_resume_exit();
	return err;
}

void tsor_channel_exit(void)
{
	tsor_link_exit();
	tsor_local_exit();
	tsor_resume_exit();
}
