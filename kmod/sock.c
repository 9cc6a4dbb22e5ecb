// SPDX-License-Identifier: GPL-2.0
/*
 * tsor sockets: TCP sockets whose struct proto is a clone of TCP's and whose
 * proto_ops are ours.  The clone lets us register a protosw of our own that
 * the creation hook can redirect to; the ops are where the data path plugs
 * in.  Until a connection is paired every op delegates to TCP unchanged.
 *
 * Per-socket state hangs off sk_user_data rather than a larger sock object:
 * TCPv6 finds its ipv6_pinfo at a fixed offset in tcp6_sock, so the clone
 * must keep TCP's object size.  Owning sk_user_data also makes sockmap and
 * reuseport arrays refuse tsor sockets, as they must.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/sockios.h>
#include <linux/termios.h>
#include <net/inet_common.h>
#include <net/ipv6.h>
#include <net/protocol.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include "sock.h"

/*
 * Copied from TCP's at init, since inet6_stream_ops is only reachable at
 * run time; __ro_after_init makes them read-only once init is done.
 */
static struct proto_ops tsor_inet_ops __ro_after_init;	/* const after init */
static struct proto_ops tsor_inet6_ops __ro_after_init;	/* const after init */

/* One address family's clone of TCP and what it wraps. */
struct tsor_family {
	struct proto prot;
	struct inet_protosw protosw;
	const struct proto_ops *ops;
	const struct proto *tcp_prot;
	const struct proto_ops *tcp_ops;
};

static struct tsor_family tsor_inet;
static struct tsor_family tsor_inet6;

static const struct tsor_family *tsor_family_of_sk(const struct sock *sk)
{
	return sk->sk_prot_creator == &tsor_inet6.prot ? &tsor_inet6 : &tsor_inet;
}

bool tsor_sk_is_ours(const struct sock *sk)
{
	return sk->sk_prot_creator == &tsor_inet.prot ||
	       (tsor_sock_ipv6() && sk->sk_prot_creator == &tsor_inet6.prot);
}

static const struct proto_ops *tcp_ops(const struct socket *sock)
{
	return sock->ops == &tsor_inet6_ops ? tsor_inet6.tcp_ops :
					      tsor_inet.tcp_ops;
}

/*
 * Our pointer is tagged NOCOPY (accepted children must not inherit it) and
 * nothing else; psock and reuseport tag theirs with other bits.
 */
struct tsor_sock *tsor_sk(const struct sock *sk)
{
	uintptr_t v = (uintptr_t)rcu_access_pointer(__sk_user_data(sk));

	if ((v & ~SK_USER_DATA_PTRMASK) != SK_USER_DATA_NOCOPY)
		return NULL;
	return (struct tsor_sock *)(v & SK_USER_DATA_PTRMASK);
}

static int tsor_sk_attach(struct sock *sk)
{
	struct tsor_net *tn = tsor_net(sock_net(sk));
	struct tsor_sock *ts;
	int err = 0;

	ts = kzalloc(sizeof(*ts), sk->sk_allocation);
	if (!ts)
		return -ENOMEM;
	ts->sk = sk;

	write_lock_bh(&sk->sk_callback_lock);
	if (rcu_access_pointer(__sk_user_data(sk)))
		err = -EBUSY;
	else
		__rcu_assign_sk_user_data_with_flags(sk, ts,
						     SK_USER_DATA_NOCOPY);
	write_unlock_bh(&sk->sk_callback_lock);

	if (err) {
		kfree(ts);
		return err;
	}
	spin_lock_bh(&tn->socks_lock);
	list_add_tail(&ts->node, &tn->socks);
	spin_unlock_bh(&tn->socks_lock);
	tsor_stat_inc(tn, TSOR_STAT_SOCK_ACTIVE);
	return 0;
}

/*
 * An accepted child has no state until accept() or a pairing request
 * reaches it, whichever comes first; both run under the socket lock.
 */
struct tsor_sock *tsor_sk_get_or_attach(struct sock *sk)
{
	struct tsor_sock *ts = tsor_sk(sk);

	if (ts || tsor_sk_attach(sk))
		return ts;
	tsor_stat_inc(tsor_net(sock_net(sk)), TSOR_STAT_SOCK_ACCEPTED);
	return tsor_sk(sk);
}

static void tsor_sk_detach(struct sock *sk)
{
	struct tsor_net *tn = tsor_net(sock_net(sk));
	struct tsor_sock *ts;

	write_lock_bh(&sk->sk_callback_lock);
	ts = tsor_sk(sk);
	if (ts)
		rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);

	if (!ts)
		return;
	spin_lock_bh(&tn->socks_lock);
	list_del(&ts->node);
	spin_unlock_bh(&tn->socks_lock);
	/* A channel left here was never released by close(): reset it. */
	if (ts->ch)
		tsor_channel_release(ts->ch, true);
	tsor_stat_add(tn, TSOR_STAT_SOCK_ACTIVE, -1);
	kfree_rcu(ts, rcu);
}

/*
 * Takes the channel away from the socket's state.  Under the list lock, so
 * that a conn dump never reads a channel being released.
 */
static struct tsor_channel *tsor_sk_take_channel(struct sock *sk,
						 struct tsor_sock *ts)
{
	struct tsor_net *tn = tsor_net(sock_net(sk));
	struct tsor_channel *ch;

	spin_lock_bh(&tn->socks_lock);
	ch = ts->ch;
	ts->ch = NULL;
	spin_unlock_bh(&tn->socks_lock);
	return ch;
}

/* struct proto hooks */

static int tsor_sk_init(struct sock *sk)
{
	struct tsor_net *tn = tsor_net(sock_net(sk));
	int err;

	/*
	 * TCP's init runs first even when we refuse: inet_create answers an
	 * init error with sk_common_release(), which calls TCP's destroy.
	 */
	err = tsor_family_of_sk(sk)->tcp_prot->init(sk);
	if (err)
		return err;

	/* IP headers carry sk_protocol: it must say TCP, not our number. */
	sk->sk_protocol = IPPROTO_TCP;

	/* Only the hook may create tsor sockets, and only where enabled. */
	if (!tsor_net_enabled(sock_net(sk))) {
		tsor_stat_inc(tn, TSOR_STAT_SOCK_REFUSED);
		return -EPROTONOSUPPORT;
	}

	err = tsor_sk_attach(sk);
	if (err)
		return err;
	tsor_stat_inc(tn, TSOR_STAT_SOCK_CREATED);
	return 0;
}

static void tsor_sk_destroy(struct sock *sk)
{
	tsor_family_of_sk(sk)->tcp_prot->destroy(sk);
	tsor_sk_detach(sk);
}

/* Pairing as the socket sees it */

/*
 * A paired socket's TCP data arrived.  After pairing nothing but a resume
 * record is sent there: bytes past the switch point mean the peer lost
 * the link, which this end may not have noticed yet.  Softirq, or the
 * socket's owner; never while another holds the socket lock.
 */
static void tsor_data_ready(struct sock *sk)
{
	struct tsor_sock *ts;
	u32 n;

	rcu_read_lock();
	ts = tsor_sk(sk);
	if (ts) {
		ts->tcp_data_ready(sk);
		if (READ_ONCE(ts->state) == TSOR_SK_PAIRED && ts->ch) {
			n = READ_ONCE(tcp_sk(sk)->rcv_nxt) - ts->tcp_rx_end;
			/* A FIN takes a sequence number but is no byte. */
			if (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN)
				n--;
			if ((s32)n > 0)
				tsor_channel_tcp_lost(ts->ch);
		}
	}
	rcu_read_unlock();
}

/* From pairing on, TCP data is watched for resume records; lock held. */
static void tsor_sk_watch_tcp(struct sock *sk, struct tsor_sock *ts)
{
	write_lock_bh(&sk->sk_callback_lock);
	if (!ts->tcp_data_ready) {
		ts->tcp_data_ready = sk->sk_data_ready;
		sk->sk_data_ready = tsor_data_ready;
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Picks up the channel's outcome once pairing settled; socket lock held.
 * Returns the state.
 */
static enum tsor_sock_state tsor_sock_sync(struct tsor_sock *ts)
{
	struct tsor_channel *ch = ts->ch;

	if (ts->state != TSOR_SK_PAIRING || !tsor_channel_settled(ch))
		return ts->state;
	if (ch->pair.state == TSOR_PAIR_PAIRED) {
		if (!ch->server)
			ts->tcp_rx_end = ch->y;
		if (ch->xp->path == TSOR_PATH_RDMA)
			tsor_sk_watch_tcp(ts->sk, ts);
		WRITE_ONCE(ts->state, TSOR_SK_PAIRED);
	} else {
		ts->reason = ch->pair.reason;
		WRITE_ONCE(ts->state, TSOR_SK_TCP);
		tsor_channel_release(tsor_sk_take_channel(ts->sk, ts), false);
	}
	return ts->state;
}

/* Whether a call must wait for pairing to settle before going anywhere. */
static bool tsor_sock_unsettled(struct sock *sk, struct tsor_sock *ts)
{
	if (ts->state == TSOR_SK_PAIRING)
		return true;
	/* An established client whose pairing has not started yet. */
	return ts->state == TSOR_SK_IDLE &&
	       test_bit(TSOR_SKF_CLIENT, &ts->flags) &&
	       !test_bit(TSOR_SKF_STARTED, &ts->flags) &&
	       (1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT);
}

static bool tsor_sock_settled_cond(struct sock *sk, struct tsor_sock *ts)
{
	return !tsor_sock_unsettled(sk, ts) ||
	       (ts->state == TSOR_SK_PAIRING && tsor_channel_settled(ts->ch));
}

/*
 * Waits, socket lock held, until pairing settled; the answer is bounded
 * by the pairing timeout.  Returns the state, or -errno (-EAGAIN when
 * @timeo ran out, -EINTR and the like on a signal).
 */
static int tsor_sock_wait_settled(struct sock *sk, struct tsor_sock *ts,
				  long *timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	for (;;) {
		tsor_sock_sync(ts);
		if (!tsor_sock_unsettled(sk, ts))
			return ts->state;
		if (!*timeo)
			return -EAGAIN;
		if (signal_pending(current))
			return sock_intr_errno(*timeo);
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, timeo, tsor_sock_settled_cond(sk, ts), &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
	}
}

/*
 * Returns the settled state for a call that may wait as @nonblock says,
 * or -errno; the socket lock is not held on return.
 */
static int tsor_sock_settle(struct sock *sk, struct tsor_sock *ts,
			    bool nonblock, bool send)
{
	long timeo = send ? sock_sndtimeo(sk, nonblock) :
			    sock_rcvtimeo(sk, nonblock);
	int ret;

	if (READ_ONCE(ts->state) == TSOR_SK_PAIRED ||
	    READ_ONCE(ts->state) == TSOR_SK_TCP)
		return READ_ONCE(ts->state);
	lock_sock(sk);
	ret = tsor_sock_wait_settled(sk, ts, &timeo);
	release_sock(sk);
	return ret;
}

/*
 * Pairing started from softirq context runs from a work item of its own,
 * which holds the socket rather than its tsor state: the state may be
 * freed with the socket meanwhile.
 */
struct tsor_pair_work {
	struct work_struct work;
	struct sock *sk;
};

static void tsor_pair_work_fn(struct work_struct *work)
{
	struct tsor_pair_work *pw = container_of(work, struct tsor_pair_work,
						 work);

	tsor_pair_start(pw->sk);
	sock_put(pw->sk);
	kfree(pw);
}

static void tsor_pair_schedule(struct sock *sk)
{
	struct tsor_pair_work *pw = kmalloc(sizeof(*pw), GFP_ATOMIC);

	/* Without memory the next send or receive starts it instead. */
	if (!pw)
		return;
	INIT_WORK(&pw->work, tsor_pair_work_fn);
	pw->sk = sk;
	sock_hold(sk);
	schedule_work(&pw->work);
}

/* A client's TCP state changed; softirq context. */
static void tsor_state_change(struct sock *sk)
{
	struct tsor_sock *ts;

	rcu_read_lock();
	ts = tsor_sk(sk);
	if (ts) {
		ts->tcp_state_change(sk);
		/*
		 * A blocking connect() pairs on its own as it returns; a work
		 * item would only cost a second wake-up.
		 */
		if (sk->sk_state == TCP_ESTABLISHED &&
		    !test_bit(TSOR_SKF_STARTED, &ts->flags) &&
		    !test_bit(TSOR_SKF_CONNECTING, &ts->flags))
			tsor_pair_schedule(sk);
	}
	rcu_read_unlock();
}

/*
 * proto_ops.  Each op below dispatches on the connection's state: TCP's
 * op until it is paired (with byte accounting), the channel's after.
 */

static bool tsor_sock_tcp_left(struct sock *sk, struct tsor_sock *ts)
{
	return tsor_pair_tcp_left(READ_ONCE(tcp_sk(sk)->copied_seq),
				  ts->tcp_rx_end);
}

/*
 * A connection whose link died resumes over TCP (resume.c).  Once the
 * peer's record was read, our bytes resent and the ring drained, it is
 * TCP's for good.  The channel stays with the socket until close(), since
 * another thread may still be inside a channel call.
 */
static void tsor_sock_resume_end(struct sock *sk, struct tsor_sock *ts)
{
	struct tsor_channel *ch;
	bool rx, tx;

	lock_sock(sk);
	ch = ts->ch;
	if (ts->state == TSOR_SK_PAIRED && ch &&
	    tsor_channel_resumed(ch, &rx, &tx) && rx && tx &&
	    !READ_ONCE(ch->resuming) && !tsor_channel_failed(ch) &&
	    !tsor_channel_has_unread(ch) && !tsor_sock_tcp_left(sk, ts)) {
		ts->reason = TSOR_FALLBACK_RESUMED;
		WRITE_ONCE(ts->state, TSOR_SK_TCP);
	}
	release_sock(sk);
}

static int tsor_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct tsor_sock *ts = sk ? tsor_sk(sk) : NULL;

	if (ts) {
		struct tsor_channel *ch;
		bool abort;

		/* A resume in progress finishes, or gives up and resets. */
		lock_sock(sk);
		ch = ts->ch;
		if (ch)
			tsor_channel_get(ch);
		release_sock(sk);
		if (ch) {
			tsor_channel_resume_settle(sk, ch);
			tsor_channel_put(ch);
		}

		lock_sock(sk);
		tsor_sock_sync(ts);
		ch = tsor_sk_take_channel(sk, ts);
		/* Unread data makes TCP send a reset; so does the channel. */
		abort = ch && (tsor_channel_has_unread(ch) ||
			       tsor_sock_tcp_left(sk, ts));
		/*
		 * A channel that was reset (its link failed) resets TCP too:
		 * the peer may have fallen back to TCP, not knowing we wrote
		 * on the channel, and must not read a clean end of stream.
		 */
		if (ch && tsor_channel_failed(ch)) {
			sock_set_flag(sk, SOCK_LINGER);
			WRITE_ONCE(sk->sk_lingertime, 0);
		}
		release_sock(sk);
		if (ch)
			tsor_channel_release(ch, abort);
	}
	return tcp_ops(sock)->release(sock);
}

static int tsor_connect(struct socket *sock, struct sockaddr *uaddr,
			int addr_len, int flags)
{
	struct sock *sk = sock->sk;
	struct tsor_sock *ts = tsor_sk(sk);
	long timeo;
	int err;

	if (ts && !test_and_set_bit(TSOR_SKF_CLIENT, &ts->flags)) {
		write_lock_bh(&sk->sk_callback_lock);
		ts->tcp_state_change = sk->sk_state_change;
		sk->sk_state_change = tsor_state_change;
		write_unlock_bh(&sk->sk_callback_lock);
	}

	if (ts && !(flags & O_NONBLOCK))
		set_bit(TSOR_SKF_CONNECTING, &ts->flags);
	err = tcp_ops(sock)->connect(sock, uaddr, addr_len, flags);
	if (!ts)
		return err;
	if (!(flags & O_NONBLOCK)) {
		clear_bit(TSOR_SKF_CONNECTING, &ts->flags);
		/*
		 * Interrupted (or out of SO_SNDTIMEO) just as the connection
		 * came up, the work item was skipped: pair it now all the same,
		 * as the caller no longer waits for it.
		 */
		smp_mb__after_atomic();
		if (err)
			tsor_pair_start(sk);
	}
	if (err)
		return err;

	/* Blocking connect: pair now, and return once settled. */
	tsor_pair_start(sk);
	lock_sock(sk);
	timeo = MAX_SCHEDULE_TIMEOUT;
	/* A signal only ends the wait; pairing finishes behind the socket. */
	tsor_sock_wait_settled(sk, ts, &timeo);
	release_sock(sk);
	return 0;
}

static int tsor_accept(struct socket *sock, struct socket *newsock, int flags,
		       bool kern)
{
	int err;

	err = tcp_ops(sock)->accept(sock, newsock, flags, kern);
	if (err)
		return err;

	/*
	 * The child is a clone of the listener and TCP already set it up; a
	 * pairing request may have given it our state already.
	 */
	lock_sock(newsock->sk);
	tsor_sk_get_or_attach(newsock->sk);
	release_sock(newsock->sk);
	return 0;
}

static void tsor_count_tcp(struct socket *sock, enum tsor_stat id, int len)
{
	if (len > 0)
		tsor_stat_add(tsor_net(sock_net(sock->sk)), id, len);
}

/* A send on a connection resuming over TCP: 0 once TCP takes writes. */
static int tsor_resume_send_wait(struct sock *sk, struct tsor_sock *ts,
				 int flags)
{
	long timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);
	int err;

	err = tsor_channel_resume_wait(sk, ts->ch, true, &timeo);
	if (err)
		return err;
	tsor_sock_resume_end(sk, ts);
	return 0;
}

/*
 * The settled state for a send, or -errno.  A server's TCP sends are
 * counted in tcp_busy first, under the socket lock, so that a pairing
 * request never freezes TCP in the middle of one.
 */
static int tsor_send_state(struct sock *sk, struct tsor_sock *ts, int flags,
			   bool *busy)
{
	int state, err = 0;

	*busy = false;
	/* A client's first bytes wait for the connection, then pairing. */
	if (test_bit(TSOR_SKF_CLIENT, &ts->flags) &&
	    READ_ONCE(ts->state) == TSOR_SK_IDLE) {
		long timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);

		lock_sock(sk);
		if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
			err = sk_stream_wait_connect(sk, &timeo);
		release_sock(sk);
		if (err)
			return err;
		tsor_pair_start(sk);
	}
	state = tsor_sock_settle(sk, ts, flags & MSG_DONTWAIT, true);
	if (state != TSOR_SK_IDLE)
		return state;
	lock_sock(sk);
	state = tsor_sock_sync(ts);
	if (state == TSOR_SK_IDLE) {
		atomic_inc(&ts->tcp_busy);
		*busy = true;
	}
	release_sock(sk);
	if (state == TSOR_SK_PAIRING)
		return tsor_sock_settle(sk, ts, flags & MSG_DONTWAIT, true);
	return state;
}

static int tsor_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	struct sock *sk = sock->sk;
	struct tsor_sock *ts = tsor_sk(sk);
	bool busy = false;
	int ret;

	if (ts) {
		ret = tsor_send_state(sk, ts, msg->msg_flags, &busy);
		if (ret < 0)
			return ret;
		if (ret == TSOR_SK_PAIRED) {
			ret = tsor_channel_sendmsg(sk, ts->ch, msg, size);
			if (ret != -ENOLINK)
				return ret;
			ret = tsor_resume_send_wait(sk, ts, msg->msg_flags);
			if (ret)
				return ret;
		}
	}
	ret = tcp_ops(sock)->sendmsg(sock, msg, size);
	if (ts && busy)
		atomic_dec(&ts->tcp_busy);
	tsor_count_tcp(sock, TSOR_STAT_TCP_TX_BYTES, ret);
	return ret;
}

static ssize_t tsor_sendpage(struct socket *sock, struct page *page,
			     int offset, size_t size, int flags)
{
	struct sock *sk = sock->sk;
	struct tsor_sock *ts = tsor_sk(sk);
	bool busy = false;
	ssize_t ret;

	if (ts) {
		ret = tsor_send_state(sk, ts, flags, &busy);
		if (ret < 0)
			return ret;
		if (ret == TSOR_SK_PAIRED) {
			/* The generic path: a copy like any other send. */
			struct msghdr msg = { .msg_flags = flags };
			struct bio_vec bv = {
				.bv_page = page,
				.bv_offset = offset,
				.bv_len = size,
			};

			iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bv, 1, size);
			ret = tsor_channel_sendmsg(sk, ts->ch, &msg, size);
			if (ret != -ENOLINK)
				return ret;
			ret = tsor_resume_send_wait(sk, ts, flags);
			if (ret)
				return ret;
		}
	}
	ret = tcp_ops(sock)->sendpage(sock, page, offset, size, flags);
	if (ts && busy)
		atomic_dec(&ts->tcp_busy);
	tsor_count_tcp(sock, TSOR_STAT_TCP_TX_BYTES, ret);
	return ret;
}

/* TCP reads of a paired socket: what the peer sent before the switch. */
static int tsor_recv_tcp_part(struct socket *sock, struct tsor_sock *ts,
			      struct msghdr *msg, size_t size, int flags)
{
	u32 left = tsor_sock_tcp_left(sock->sk, ts);
	int ret;

	ret = tcp_ops(sock)->recvmsg(sock, msg, min_t(size_t, size, left),
				     flags);
	if (!(flags & MSG_PEEK))
		tsor_count_tcp(sock, TSOR_STAT_TCP_RX_BYTES, ret);
	return ret;
}

static bool tsor_tcp_readable(struct sock *sk)
{
	return READ_ONCE(tcp_sk(sk)->rcv_nxt) != READ_ONCE(tcp_sk(sk)->copied_seq);
}

/*
 * A server socket that may still be asked to pair reads TCP without
 * blocking in it, so that a pairing request can take it over meanwhile.
 */
static bool tsor_recv_pairable(struct sock *sk, struct tsor_sock *ts)
{
	return READ_ONCE(ts->state) == TSOR_SK_IDLE &&
	       !test_bit(TSOR_SKF_CLIENT, &ts->flags) &&
	       (1 << READ_ONCE(sk->sk_state)) & TSOR_PAIR_STATES &&
	       !READ_ONCE(tcp_sk(sk)->bytes_received);
}

static bool tsor_recv_wake_cond(struct sock *sk, struct tsor_sock *ts)
{
	return tsor_tcp_readable(sk) || READ_ONCE(sk->sk_err) ||
	       (sk->sk_shutdown & RCV_SHUTDOWN) ||
	       !tsor_recv_pairable(sk, ts);
}

static int tsor_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
			int flags)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct tsor_sock *ts = tsor_sk(sk);
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	int ret, more;

	if (!ts)
		goto tcp;
	for (;;) {
		ret = tsor_sock_settle(sk, ts, flags & MSG_DONTWAIT, false);
		if (ret < 0)
			return ret;
		if (ret == TSOR_SK_PAIRED) {
			if (tsor_sock_tcp_left(sk, ts)) {
				ret = tsor_recv_tcp_part(sock, ts, msg, size,
							 flags);
				if (ret <= 0 || ret == size ||
				    !(flags & MSG_WAITALL))
					return ret;
				/* MSG_WAITALL goes on into the ring. */
				more = tsor_channel_recvmsg(sk, ts->ch, msg,
							    size - ret, flags);
				return more > 0 ? ret + more : ret;
			}
			ret = tsor_channel_recvmsg(sk, ts->ch, msg, size, flags);
			if (ret != -ENOLINK)
				return ret;
			/* Resumed: the ring was drained, TCP has the rest. */
			tsor_sock_resume_end(sk, ts);
			goto tcp;
		}
		if (ret == TSOR_SK_TCP || !timeo)
			goto tcp;
		if (!tsor_recv_pairable(sk, ts)) {
			/*
			 * A pairing request took the socket since it settled:
			 * settle again rather than block in TCP, whose only
			 * news would then be the FIN after the ring's data.
			 */
			if (READ_ONCE(ts->state) != TSOR_SK_IDLE)
				continue;
			goto tcp;
		}

		ret = tcp_ops(sock)->recvmsg(sock, msg, size,
					     flags | MSG_DONTWAIT);
		if (ret != -EAGAIN) {
			if (!(flags & MSG_PEEK))
				tsor_count_tcp(sock, TSOR_STAT_TCP_RX_BYTES,
					       ret);
			return ret;
		}
		if (signal_pending(current))
			return sock_intr_errno(timeo);
		lock_sock(sk);
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, &timeo, tsor_recv_wake_cond(sk, ts), &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
		release_sock(sk);
		if (!timeo && !tsor_recv_wake_cond(sk, ts))
			return -EAGAIN;
	}
tcp:
	ret = tcp_ops(sock)->recvmsg(sock, msg, size, flags);
	if (!(flags & MSG_PEEK))
		tsor_count_tcp(sock, TSOR_STAT_TCP_RX_BYTES, ret);
	return ret;
}

static ssize_t tsor_splice_read(struct socket *sock, loff_t *ppos,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags)
{
	struct tsor_sock *ts = tsor_sk(sock->sk);
	ssize_t ret;

	/* Paired (or pairable) sockets splice through their recvmsg. */
	if (ts && READ_ONCE(ts->state) != TSOR_SK_TCP)
		return generic_file_splice_read(sock->file, ppos, pipe, len,
						flags);
	ret = tcp_ops(sock)->splice_read(sock, ppos, pipe, len, flags);
	tsor_count_tcp(sock, TSOR_STAT_TCP_RX_BYTES, ret);
	return ret;
}

static __poll_t tsor_sock_poll_paired(struct file *file, struct socket *sock,
				      struct tsor_sock *ts)
{
	struct sock *sk = sock->sk;
	__poll_t mask = tsor_channel_poll(sk, ts->ch);
	__poll_t tcp;
	bool rx, tx;

	if (tsor_sock_tcp_left(sk, ts) && tsor_tcp_readable(sk))
		mask |= EPOLLIN | EPOLLRDNORM;
	/* Resuming: each direction is TCP's once it resumed. */
	if (tsor_channel_resumed(ts->ch, &rx, &tx) && (rx || tx)) {
		tcp = tcp_ops(sock)->poll(file, sock, NULL);
		if (rx)
			mask |= tcp & (EPOLLIN | EPOLLRDNORM | EPOLLRDHUP);
		if (tx)
			mask |= tcp & (EPOLLOUT | EPOLLWRNORM);
		if (rx && tx)
			mask |= tcp & (EPOLLERR | EPOLLHUP);
	}
	return mask;
}

static __poll_t tsor_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct tsor_sock *ts = tsor_sk(sk);
	bool unsettled;
	__poll_t mask;

	if (!ts)
		return tcp_ops(sock)->poll(file, sock, wait);

	switch (READ_ONCE(ts->state)) {
	case TSOR_SK_PAIRED:
		sock_poll_wait(file, sock, wait);
		return tsor_sock_poll_paired(file, sock, ts);
	case TSOR_SK_TCP:
		return tcp_ops(sock)->poll(file, sock, wait);
	default:
		break;
	}

	mask = tcp_ops(sock)->poll(file, sock, wait);
	if (!tsor_sock_unsettled(sk, ts))
		return mask;
	/*
	 * Now that the poller is queued, pick up an outcome that may have
	 * arrived before: its wake-up would have been missed.
	 */
	lock_sock(sk);
	tsor_sock_sync(ts);
	unsettled = tsor_sock_unsettled(sk, ts);
	release_sock(sk);
	if (READ_ONCE(ts->state) == TSOR_SK_PAIRED)
		return tsor_sock_poll_paired(file, sock, ts);
	/* Writable only once pairing settled. */
	if (unsettled)
		mask &= ~(EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND);
	return mask;
}

static int tsor_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct tsor_sock *ts = tsor_sk(sk);
	int answer;

	if (!ts || READ_ONCE(ts->state) != TSOR_SK_PAIRED)
		return tcp_ops(sock)->ioctl(sock, cmd, arg);

	switch (cmd) {
	case SIOCINQ:
		answer = tsor_sock_tcp_left(sk, ts) + tsor_channel_inq(ts->ch);
		break;
	case SIOCOUTQ:
		answer = tsor_channel_outq(ts->ch);
		break;
	case SIOCOUTQNSD:
		answer = 0;	/* a write is handed to the transport at once */
		break;
	default:
		return tcp_ops(sock)->ioctl(sock, cmd, arg);
	}
	return put_user(answer, (int __user *)arg);
}

static int tsor_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct tsor_sock *ts = tsor_sk(sk);
	int state;

	if (!ts || how < SHUT_RD || how > SHUT_RDWR)
		return tcp_ops(sock)->shutdown(sock, how);
	state = tsor_sock_settle(sk, ts, false, true);
	/* Resumed, TCP sends its FIN after the bytes resent. */
	if (state == TSOR_SK_PAIRED && !tsor_channel_shutdown(sk, ts->ch, how))
		return 0;
	return tcp_ops(sock)->shutdown(sock, how);
}

static int tsor_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	/*
	 * A ULP would replace sk_prot under us and its bytes would bypass the
	 * data path; refuse it as net/smc does.
	 */
	if (level == SOL_TCP && optname == TCP_ULP)
		return -EOPNOTSUPP;
	return tcp_ops(sock)->setsockopt(sock, level, optname, optval, optlen);
}

/* Registration */

static void tsor_family_setup(struct tsor_family *f, const char *name,
			      const struct proto *tcp_prot,
			      const struct proto_ops *tcp_ops,
			      struct proto_ops *ops)	/* const after init */
{
	f->tcp_prot = tcp_prot;
	f->tcp_ops = tcp_ops;
	f->ops = ops;

	f->prot = *tcp_prot;
	strscpy(f->prot.name, name, sizeof(f->prot.name));
	f->prot.owner = THIS_MODULE;
	f->prot.init = tsor_sk_init;
	f->prot.destroy = tsor_sk_destroy;
	f->prot.slab = NULL;
	INIT_LIST_HEAD(&f->prot.node);

	*ops = *tcp_ops;
	ops->owner = THIS_MODULE;
	ops->release = tsor_release;
	ops->connect = tsor_connect;
	ops->accept = tsor_accept;
	ops->sendmsg = tsor_sendmsg;
	ops->sendpage = tsor_sendpage;
	ops->recvmsg = tsor_recvmsg;
	ops->splice_read = tsor_splice_read;
	ops->poll = tsor_poll;
	ops->ioctl = tsor_ioctl;
	ops->shutdown = tsor_shutdown;
	ops->setsockopt = tsor_setsockopt;

	f->protosw.type = SOCK_STREAM;
	f->protosw.protocol = TSOR_IPPROTO;
	f->protosw.prot = &f->prot;
	f->protosw.ops = f->ops;
	f->protosw.flags = INET_PROTOSW_ICSK;
}

/*
 * The clone shares TCP's request and timewait socks.  proto_register() and
 * proto_unregister() would create and destroy slabs for them, overwriting
 * TCP's own, so they are hidden from both calls.
 */
static int tsor_proto_register(struct proto *prot)
{
	struct request_sock_ops *rsk = prot->rsk_prot;
	struct timewait_sock_ops *twsk = prot->twsk_prot;
	int err;

	prot->rsk_prot = NULL;
	prot->twsk_prot = NULL;
	err = proto_register(prot, 1);
	prot->rsk_prot = rsk;
	prot->twsk_prot = twsk;
	return err;
}

static void tsor_proto_unregister(struct proto *prot)
{
	prot->rsk_prot = NULL;
	prot->twsk_prot = NULL;
	proto_unregister(prot);
}

/* inet6_stream_ops is not exported; a kernel TCPv6 socket carries it. */
static const struct proto_ops *tsor_tcpv6_ops(void)
{
	const struct proto_ops *ops;
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET6, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return ERR_PTR(err);
	ops = sock->ops;
	sock_release(sock);
	return ops;
}

/* False when the kernel runs with IPv6 disabled (ipv6.disable=1). */
static bool tsor_have_ipv6 __ro_after_init;

bool tsor_sock_ipv6(void)
{
	return tsor_have_ipv6;
}

int tsor_sock_init(void)
{
	const struct proto_ops *ops6;
	int err;

	ops6 = tsor_tcpv6_ops();
	if (IS_ERR(ops6) && PTR_ERR(ops6) != -EAFNOSUPPORT)
		return PTR_ERR(ops6);

	tsor_family_setup(&tsor_inet, "TSOR", &tcp_prot, &inet_stream_ops,
			  &tsor_inet_ops);
	err = tsor_proto_register(&tsor_inet.prot);
	if (err)
		return err;
	inet_register_protosw(&tsor_inet.protosw);

	if (IS_ERR(ops6)) {
		pr_info("IPv6 is disabled: taking over IPv4 sockets only\n");
		return 0;
	}
	tsor_family_setup(&tsor_inet6, "TSORv6", &tcpv6_prot, ops6,
			  &tsor_inet6_ops);
	err = tsor_proto_register(&tsor_inet6.prot);
	if (err)
		goto out_inet;
	err = inet6_register_protosw(&tsor_inet6.protosw);
	if (err)
		goto out_prot6;
	tsor_have_ipv6 = true;
	return 0;

out_prot6:
	tsor_proto_unregister(&tsor_inet6.prot);
out_inet:
	inet_unregister_protosw(&tsor_inet.protosw);
	tsor_proto_unregister(&tsor_inet.prot);
	return err;
}

void tsor_sock_exit(void)
{
	/* Both unregister calls wait for RCU readers of the protosw lists. */
	if (tsor_have_ipv6) {
		inet6_unregister_protosw(&tsor_inet6.protosw);
		tsor_proto_unregister(&tsor_inet6.prot);
	}
	inet_unregister_protosw(&tsor_inet.protosw);
	tsor_proto_unregister(&tsor_inet.prot);
}

static void tsor_conn_fill(struct sock *sk, struct tsor_sock *ts,
			   struct tsor_conn_info *ci)
{
	struct tsor_pair_req t;
	struct tsor_channel *ch;

	memset(ci, 0, sizeof(*ci));
	ci->net = sock_net(sk);
	tsor_pair_tuple(sk, &t);
	ci->saddr = t.saddr;
	ci->daddr = t.daddr;
	ci->sport = ntohs(t.sport);
	ci->dport = ntohs(t.dport);
	ci->path = TSOR_PATH_TCP;
	ci->reason = READ_ONCE(ts->state) == TSOR_SK_TCP ? ts->reason :
							  TSOR_FALLBACK_NONE;
	ci->tx_bytes = tcp_sk(sk)->bytes_acked;
	ci->rx_bytes = tcp_sk(sk)->bytes_received;
	ch = ts->ch;
	if (READ_ONCE(ts->state) != TSOR_SK_PAIRED || !ch)
		return;
	spin_lock_bh(&ch->lock);
	ci->path = ch->xp->path;
	/* Its link died: TCP carries it now, or will once resumed. */
	if (ch->lost) {
		ci->path = TSOR_PATH_TCP;
		ci->reason = TSOR_FALLBACK_RESUMED;
	}
	ci->tx_bytes = ch->tx_bytes;
	ci->rx_bytes = ch->rx_bytes;
	ci->credits = ch->ready ? tsor_tx_space(&ch->tx) : 0;
	spin_unlock_bh(&ch->lock);
}

/*
 * Lists the namespace's connected tsor sockets.  The socket list lock
 * keeps each socket and its state alive while it is read; a paired
 * socket's channel stays until its tsor state goes.
 */
int tsor_conn_walk(struct tsor_net *tn, long skip,
		   int visit(const struct tsor_conn_info *ci, void *arg),
		   void *arg)
{
	struct tsor_conn_info ci;
	struct tsor_sock *ts;
	int done = 0;

	spin_lock_bh(&tn->socks_lock);
	list_for_each_entry(ts, &tn->socks, node) {
		struct sock *sk = ts->sk;

		if (!((1 << READ_ONCE(sk->sk_state)) &
		      (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT | TCPF_FIN_WAIT1 |
		       TCPF_FIN_WAIT2 | TCPF_LAST_ACK | TCPF_CLOSING)))
			continue;
		if (skip-- > 0)
			continue;
		tsor_conn_fill(sk, ts, &ci);
		if (visit(&ci, arg))
			break;
		done++;
	}
	spin_unlock_bh(&tn->socks_lock);
	return done;
}
