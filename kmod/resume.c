// SPDX-License-Identifier: GPL-2.0
/*
 * Resuming a paired connection over its own TCP connection when the RDMA
 * link under it dies (docs/design.md, "Resuming over TCP").
 *
 * A paired socket never sends on its inner TCP connection after pairing,
 * and that connection stays established over the pod network.  When the
 * transport is lost, each end sends there a resume record saying how much
 * of the peer's stream its ring received (its rx.prod), reads the peer's
 * record, and sends again, over TCP, what it wrote on the channel past the
 * peer's cursor: those bytes are still in its staging buffer, since ring
 * space is only reclaimed by the receiver's credits, which never pass what
 * it received.  A reader drains its ring, then reads TCP; a writer waits
 * until the resent bytes are queued, then writes to TCP.  Whatever cannot
 * be resumed is reset, as before.
 *
 * The work may wait (for the peer's record, for TCP send space), so it runs
 * on a workqueue of its own, holding the socket and the channel.  Its TCP
 * calls never block inside TCP: it waits on the socket itself, under the
 * socket lock, checking that close() has not let go of the socket, and
 * close() waits for it to end before TCP's close runs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/uio.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <net/tcp.h>
#include "channel.h"

static unsigned int resume_timeout_ms = 5000;
module_param(resume_timeout_ms, uint, 0644);
MODULE_PARM_DESC(resume_timeout_ms,
		 "How long a connection whose RDMA link died waits for its peer's resume record over TCP before it is reset (default 5000)");

/* The one message ever sent on a paired connection's TCP; big endian. */
#define TSOR_RESUME_MAGIC	0x74735231	/* "tsR1" */
#define TSOR_RESUME_RX_FIN	0x1		/* our ring saw the peer's FIN */

struct tsor_resume_rec {
	__be32 magic;
	__be32 flags;
	__be32 rx_prod;		/* the peer's bytes our ring received */
	__be32 tx_prod;		/* the bytes we wrote on the channel */
};

static struct workqueue_struct *tsor_resume_wq;

/*
 * Whether the work must stop: close() gave up on it, TCP failed, or the
 * socket is no longer a live, user-owned one whose waits are safe.  Socket
 * lock held.
 */
static int tsor_resume_broken(struct sock *sk, struct tsor_channel *ch)
{
	if (READ_ONCE(ch->resume_stop) || sock_flag(sk, SOCK_DEAD) ||
	    !sk->sk_socket)
		return -ECONNABORTED;
	if (sk->sk_err)
		return -ECONNRESET;
	return 0;
}

/* Sends @len bytes at @buf on @sk's TCP connection. */
static int tsor_resume_send(struct sock *sk, struct tsor_channel *ch,
			    const void *buf, size_t len)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	while (len) {
		struct kvec vec = { .iov_base = (void *)buf, .iov_len = len };
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
		long timeo = HZ;
		u8 shut;
		int n;

		iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &vec, 1, len);
		lock_sock(sk);
		n = tsor_resume_broken(sk, ch);
		if (n) {
			release_sock(sk);
			return n;
		}
		/*
		 * A shutdown(SHUT_WR) of the paired socket marked it without
		 * shutting TCP down: the FIN follows what we send here.
		 */
		shut = sk->sk_shutdown & SEND_SHUTDOWN;
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown & ~SEND_SHUTDOWN);
		n = tcp_sendmsg_locked(sk, &msg, len);
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | shut);
		if (n == -EAGAIN) {
			/* tcp_check_space() wakes us only with this set. */
			set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
			add_wait_queue(sk_sleep(sk), &wait);
			sk_wait_event(sk, &timeo, sk_stream_memory_free(sk) ||
				      READ_ONCE(sk->sk_err) ||
				      READ_ONCE(ch->resume_stop), &wait);
			remove_wait_queue(sk_sleep(sk), &wait);
		}
		release_sock(sk);
		if (n == -EAGAIN)
			continue;
		if (n <= 0)
			return n ? n : -EPIPE;
		buf += n;
		len -= n;
	}
	return 0;
}

/* Waits, socket lock held, until @sk may have news or @deadline passed. */
static int tsor_resume_wait_rx(struct sock *sk, struct tsor_channel *ch,
			       unsigned long deadline)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeo = (long)(deadline - jiffies);
	int err = tsor_resume_broken(sk, ch);

	if (err)
		return err;
	if (timeo <= 0)
		return -ETIMEDOUT;
	add_wait_queue(sk_sleep(sk), &wait);
	sk_wait_event(sk, &timeo,
		      READ_ONCE(tcp_sk(sk)->rcv_nxt) !=
		      READ_ONCE(tcp_sk(sk)->copied_seq) ||
		      READ_ONCE(sk->sk_err) ||
		      (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
		      READ_ONCE(ch->resume_stop), &wait);
	remove_wait_queue(sk_sleep(sk), &wait);
	return 0;
}

/*
 * Reads the peer's record.  A client may still have the server's bytes
 * from before pairing to read (up to Y): the record comes after them, and
 * only the application may read those, so we wait for it to.
 */
static int tsor_resume_recv(struct sock *sk, struct tsor_channel *ch,
			    struct tsor_resume_rec *rec,
			    unsigned long deadline)
{
	size_t got = 0;
	int n;

	while (!ch->server &&
	       READ_ONCE(tcp_sk(sk)->copied_seq) != ch->y) {
		if (READ_ONCE(ch->resume_stop))
			return -ECONNABORTED;
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		usleep_range(10000, 20000);
	}
	while (got < sizeof(*rec)) {
		struct kvec vec = {
			.iov_base = (void *)rec + got,
			.iov_len = sizeof(*rec) - got,
		};
		struct msghdr msg = {};
		int alen;

		iov_iter_kvec(&msg.msg_iter, ITER_DEST, &vec, 1, vec.iov_len);
		n = tcp_recvmsg(sk, &msg, vec.iov_len, MSG_DONTWAIT, &alen);
		if (n > 0) {
			got += n;
			continue;
		}
		if (!n)
			return -ECONNRESET;	/* TCP ended without one */
		if (n != -EAGAIN)
			return n;
		lock_sock(sk);
		n = tsor_resume_wait_rx(sk, ch, deadline);
		release_sock(sk);
		if (n)
			return n;
	}
	if (be32_to_cpu(rec->magic) != TSOR_RESUME_MAGIC)
		return -EPROTO;
	return 0;
}

/* Resends what the peer's ring did not receive, then the FIN if due. */
static int tsor_resume_resend(struct sock *sk, struct tsor_channel *ch,
			      u32 from, u32 *sent)
{
	struct tsor_span span[2];
	u32 len;
	bool fin;
	int i, err;

	spin_lock_bh(&ch->lock);
	len = ch->tx.prod - from;
	spin_unlock_bh(&ch->lock);
	/* No writer adds to tx.prod any more: ch->lost stops them. */
	tsor_ring_spans(ch->tx.size, from, len, span);
	*sent = 0;
	for (i = 0; i < 2 && span[i].len; i++) {
		err = tsor_resume_send(sk, ch, ch->tx_buf + span[i].off,
				       span[i].len);
		if (err)
			return err;
		*sent += span[i].len;
	}

	lock_sock(sk);
	err = tsor_resume_broken(sk, ch);
	spin_lock_bh(&ch->lock);
	fin = ch->tx_fin;
	if (!err)
		ch->resume_tx = true;
	spin_unlock_bh(&ch->lock);
	/* TCP's own FIN, now after every byte of ours. */
	if (!err && fin)
		tcp_shutdown(sk, SEND_SHUTDOWN);
	release_sock(sk);
	if (!err)
		tsor_channel_wake(sk, EPOLLOUT | EPOLLWRNORM);
	return err;
}

static int tsor_resume_run(struct sock *sk, struct tsor_channel *ch,
			   u32 *resent)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(READ_ONCE(resume_timeout_ms));
	struct tsor_resume_rec rec = {}, peer;
	u32 peer_rx, peer_tx;
	int err;

	/* Ours first, so that two ends waiting for each other both go on. */
	spin_lock_bh(&ch->lock);
	rec.magic = cpu_to_be32(TSOR_RESUME_MAGIC);
	rec.flags = cpu_to_be32(ch->rx_fin ? TSOR_RESUME_RX_FIN : 0);
	rec.rx_prod = cpu_to_be32(ch->rx.prod);
	rec.tx_prod = cpu_to_be32(ch->tx.prod);
	spin_unlock_bh(&ch->lock);
	err = tsor_resume_send(sk, ch, &rec, sizeof(rec));
	if (err)
		return err;

	err = tsor_resume_recv(sk, ch, &peer, deadline);
	if (err)
		return err;
	peer_rx = be32_to_cpu(peer.rx_prod);
	peer_tx = be32_to_cpu(peer.tx_prod);

	spin_lock_bh(&ch->lock);
	/*
	 * The peer received at least what it gave credit for and at most
	 * what we wrote; it will resend at most a ring past what we got.
	 */
	if (peer_rx - ch->tx.cons > ch->tx.prod - ch->tx.cons ||
	    peer_tx - ch->rx.prod > ch->rx.size)
		err = -EPROTO;
	else
		ch->resume_rx = true;
	spin_unlock_bh(&ch->lock);
	if (err)
		return err;
	tsor_channel_wake(sk, EPOLLIN | EPOLLRDNORM);

	return tsor_resume_resend(sk, ch, peer_rx, resent);
}

static void tsor_resume_work(struct work_struct *work)
{
	struct tsor_channel *ch = container_of(work, struct tsor_channel,
					       resume_work);
	struct sock *sk = ch->resume_sk;
	struct tsor_net *tn = tsor_net(sock_net(sk));
	u32 resent = 0;
	int err;

	err = tsor_resume_run(sk, ch, &resent);

	if (err) {
		/* Neither end can tell what the other has: reset both. */
		pr_debug("resume failed: %d\n", err);
		spin_lock_bh(&ch->lock);
		if (!ch->err)
			ch->err = -ECONNRESET;
		spin_unlock_bh(&ch->lock);
		tsor_stat_inc(tn, TSOR_STAT_CONN_RESET);
		tcp_abort(sk, ECONNRESET);
	} else {
		tsor_stat_inc(tn, TSOR_STAT_CONN_RESUMED);
		tsor_stat_add(tn, TSOR_STAT_RESUME_TX_BYTES, resent);
	}
	/* Before resuming goes: close() waits for it, then orphans @sk. */
	tsor_channel_wake(sk, EPOLLIN | EPOLLOUT | EPOLLERR);
	ch->resume_sk = NULL;
	spin_lock_bh(&ch->lock);
	ch->resuming = false;
	spin_unlock_bh(&ch->lock);
	/* Pairs with the wait in tsor_channel_resume_settle(). */
	smp_mb();
	wake_up_var(&ch->resuming);
	sock_put(sk);
	tsor_channel_put(ch);
}

/*
 * The transport was lost under @ch; ch->lock held.  Starts the resume and
 * returns true if the connection can go on over TCP: an RDMA channel still
 * open on both ends, whose socket was accepted (its waits need a struct
 * socket) and whose TCP connection is established.
 */
bool tsor_resume_start(struct tsor_channel *ch)
{
	struct sock *sk = ch->sk;

	lockdep_assert_held(&ch->lock);
	if (!sk || ch->err || ch->closed || ch->lost || !ch->ready ||
	    !ch->tx_buf || ch->pair.state != TSOR_PAIR_PAIRED ||
	    ch->xp->path != TSOR_PATH_RDMA ||
	    READ_ONCE(sk->sk_state) != TCP_ESTABLISHED ||
	    !READ_ONCE(sk->sk_socket))
		return false;
	ch->lost = true;
	ch->resuming = true;
	ch->resume_sk = sk;
	sock_hold(sk);
	tsor_channel_get(ch);
	INIT_WORK(&ch->resume_work, tsor_resume_work);
	queue_work(tsor_resume_wq, &ch->resume_work);
	return true;
}

/*
 * TCP bytes came after pairing: only a resume record is ever sent there,
 * so the peer lost the link, maybe before this end noticed.  Softirq.
 */
void tsor_channel_tcp_lost(struct tsor_channel *ch)
{
	spin_lock_bh(&ch->lock);
	if (!ch->lost && tsor_resume_start(ch) && ch->sk)
		tsor_channel_wake(ch->sk, EPOLLIN | EPOLLOUT);
	spin_unlock_bh(&ch->lock);
}

/* Whether @ch was lost and is resuming or resumed, and how far. */
bool tsor_channel_resumed(struct tsor_channel *ch, bool *rx, bool *tx)
{
	bool lost;

	spin_lock_bh(&ch->lock);
	lost = ch->lost;
	*rx = ch->resume_rx;
	*tx = ch->resume_tx;
	spin_unlock_bh(&ch->lock);
	return lost;
}

static bool tsor_resume_ready(struct sock *sk, struct tsor_channel *ch,
			      bool tx)
{
	return (tx ? READ_ONCE(ch->resume_tx) : READ_ONCE(ch->resume_rx)) ||
	       READ_ONCE(ch->err) || READ_ONCE(sk->sk_err) ||
	       !READ_ONCE(ch->resuming);
}

/*
 * Waits until TCP carries the connection for writing (@tx) or reading.
 * Returns 0 when it does, or -errno: the reset, -EAGAIN once *@timeo ran
 * out, -EINTR and the like on a signal.
 */
int tsor_channel_resume_wait(struct sock *sk, struct tsor_channel *ch,
			     bool tx, long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int err = 0;

	lock_sock(sk);
	for (;;) {
		if (tx ? READ_ONCE(ch->resume_tx) : READ_ONCE(ch->resume_rx))
			break;
		err = READ_ONCE(ch->err);
		if (!err && READ_ONCE(sk->sk_err))
			err = -ECONNRESET;
		if (!err && !READ_ONCE(ch->resuming))
			err = -ECONNRESET;
		if (err)
			break;
		if (!*timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(*timeo);
			break;
		}
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, timeo, tsor_resume_ready(sk, ch, tx), &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
	}
	release_sock(sk);
	return err;
}

/*
 * close() on a resuming connection: lets the work finish for a while, so
 * that what was written is not lost, then stops it.  Returns when the work
 * no longer touches the socket.  Socket lock not held.
 */
void tsor_channel_resume_settle(struct sock *sk, struct tsor_channel *ch)
{
	if (!READ_ONCE(ch->lost))
		return;
	wait_var_event_timeout(&ch->resuming, !READ_ONCE(ch->resuming),
			       msecs_to_jiffies(READ_ONCE(resume_timeout_ms)));
	if (!READ_ONCE(ch->resuming))
		return;
	WRITE_ONCE(ch->resume_stop, true);
	tsor_channel_wake(sk, EPOLLIN | EPOLLOUT);
	wait_var_event(&ch->resuming, !READ_ONCE(ch->resuming));
}

int tsor_resume_init(void)
{
	tsor_resume_wq = alloc_workqueue("tsor_resume", WQ_UNBOUND, 0);
	return tsor_resume_wq ? 0 : -ENOMEM;
}

void tsor_resume_exit(void)
{
	destroy_workqueue(tsor_resume_wq);
}
