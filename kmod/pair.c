// SPDX-License-Identifier: GPL-2.0
/*
 * Pairing a taken-over TCP connection with its peer (docs/design.md,
 * "Pairing"): the client asks once its TCP connection is established; the
 * server's node answers after proving the request comes from the real
 * client.  The pure rules (proof, switch point, state machine) are in
 * pair.h; this file applies them to sockets.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/ipv6.h>
#include <net/tcp.h>
#include "sock.h"

static unsigned int ring_kb = 512;
module_param(ring_kb, uint, 0644);
MODULE_PARM_DESC(ring_kb,
		 "Receive ring size in KiB when SO_RCVBUF was not set (default 512; 64..4096)");

/*
 * A receive ring holds what SO_RCVBUF says when the application set it;
 * TCP's autotuned buffer says little, so then the module default.
 */
u32 tsor_pair_ring_size(const struct sock *sk)
{
	u32 size = (sk->sk_userlocks & SOCK_RCVBUF_LOCK) ?
		   READ_ONCE(sk->sk_rcvbuf) : ring_kb << 10;

	size = clamp(size, TSOR_RING_MIN, TSOR_RING_MAX);
	return roundup_pow_of_two(size);
}

static bool tsor_ring_size_ok(u32 size)
{
	return is_power_of_2(size) && size >= TSOR_RING_MIN &&
	       size <= TSOR_RING_MAX;
}

/* The connection's 4-tuple; a v4-mapped IPv6 socket counts as IPv4. */
void tsor_pair_tuple(const struct sock *sk, struct tsor_pair_req *req)
{
	const struct inet_sock *inet = inet_sk(sk);

	memset(req, 0, sizeof(*req));
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 &&
	    !ipv6_addr_v4mapped(&sk->sk_v6_daddr)) {
		req->saddr.family = AF_INET6;
		req->daddr.family = AF_INET6;
		memcpy(req->saddr.raw, &sk->sk_v6_rcv_saddr, 16);
		memcpy(req->daddr.raw, &sk->sk_v6_daddr, 16);
		goto ports;
	}
#endif
	req->saddr.family = AF_INET;
	req->daddr.family = AF_INET;
	memcpy(req->saddr.raw, &inet->inet_saddr, 4);
	memcpy(req->daddr.raw, &inet->inet_daddr, 4);
#if IS_ENABLED(CONFIG_IPV6)
ports:
#endif
	req->sport = inet->inet_sport;
	req->dport = inet->inet_dport;
}

/* Settles @ts as plain TCP for @reason; socket lock held. */
static void tsor_pair_fall_back_sk(struct sock *sk, struct tsor_sock *ts,
				   enum tsor_fallback reason)
{
	WRITE_ONCE(ts->state, TSOR_SK_TCP);
	ts->reason = reason;
	tsor_stat_inc(tsor_net(sock_net(sk)), TSOR_STAT_FALLBACK(reason));
	tsor_channel_wake(sk, EPOLLOUT | EPOLLWRNORM | EPOLLIN);
}

/*
 * Client: starts pairing an established connection, once, whoever calls
 * first (connect(), a send, or the work the state change queued).
 * Process context, no locks held.
 */
void tsor_pair_start(struct sock *sk)
{
	const struct tsor_transport *xp = &tsor_rdma_transport;
	struct tcp_sock *tp = tcp_sk(sk);
	struct tsor_channel *ch;
	struct tsor_pair_req req;
	struct tsor_addr node;
	struct tsor_sock *ts;

	lock_sock(sk);
	ts = tsor_sk(sk);
	if (!ts || ts->state != TSOR_SK_IDLE ||
	    !test_bit(TSOR_SKF_CLIENT, &ts->flags) ||
	    (1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV) ||
	    test_and_set_bit(TSOR_SKF_STARTED, &ts->flags)) {
		release_sock(sk);
		return;
	}
	/*
	 * The connection failed or was reset before we asked: stay TCP,
	 * which is no fallback, and let pollers see it.  (A server that sent
	 * its FIN already, CLOSE_WAIT here, can still be paired.)
	 */
	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		WRITE_ONCE(ts->state, TSOR_SK_TCP);
		tsor_channel_wake(sk, EPOLLOUT | EPOLLWRNORM | EPOLLIN);
		release_sock(sk);
		return;
	}
	/*
	 * The namespace's exclusions keep it TCP before anything is asked:
	 * the server's port, or the server's address.
	 */
	tsor_pair_tuple(sk, &req);
	if (tsor_net_excluded(tsor_net(sock_net(sk)), &req.daddr,
			      ntohs(req.dport))) {
		tsor_pair_fall_back_sk(sk, ts, TSOR_FALLBACK_EXCLUDED);
		release_sock(sk);
		return;
	}
	/* Bytes queued but not sent would reach the server after the switch. */
	if (tp->write_seq != tp->snd_nxt) {
		tsor_pair_fall_back_sk(sk, ts, TSOR_FALLBACK_REFUSED);
		release_sock(sk);
		return;
	}
	tsor_nat_resolve(sk, &req);
	if (!tsor_peer_lookup(&req.daddr, &node)) {
		tsor_pair_fall_back_sk(sk, ts, TSOR_FALLBACK_PEER_UNKNOWN);
		release_sock(sk);
		return;
	}
	if (tsor_node_is_local(&node) &&
	    tsor_dev_local_path() == TSOR_LOCAL_PATH_SHM)
		xp = &tsor_local_transport;

	/*
	 * Under memory pressure (the socket's memory cgroup's, or TCP's
	 * own), rings would only add to it: stay TCP, whose buffers shrink.
	 */
	if (tcp_under_memory_pressure(sk)) {
		tsor_pair_fall_back_sk(sk, ts, TSOR_FALLBACK_NOMEM);
		release_sock(sk);
		return;
	}
	ch = tsor_channel_new(sk, false, tsor_pair_ring_size(sk), xp);
	if (!ch) {
		tsor_pair_fall_back_sk(sk, ts, TSOR_FALLBACK_NOMEM);
		release_sock(sk);
		return;
	}
	req.proof.snd_nxt = tp->snd_nxt;
	req.proof.rcv_nxt = tp->rcv_nxt;
	req.ring_size = ch->rx.size;
	ts->ch = ch;
	WRITE_ONCE(ts->state, TSOR_SK_PAIRING);
	release_sock(sk);

	/* The outcome shows in ch->pair; the socket's calls pick it up. */
	tsor_channel_pair(ch, &node, &req);
}

/* Server side */

/*
 * How often a request sock is looked at again, about 1 ms apart: under
 * load a full accept queue holds the final ACK back for a while.
 */
#define TSOR_PAIR_LOOKUP_TRIES	1000
#define TSOR_PAIR_MISS_TRIES	20
/* How long a TCP send in progress is waited for, about 0.15 ms apart. */
#define TSOR_PAIR_BUSY_TRIES	300

struct tsor_pair_find {
	const struct tsor_pair_req *req;
	struct sock *sk;
	bool again;
};

/* An established socket with the request's 4-tuple in @net, referenced. */
static struct sock *tsor_pair_lookup(struct net *net,
				     const struct tsor_pair_req *req,
				     bool *again)
{
	struct inet_hashinfo *hinfo = net->ipv4.tcp_death_row.hashinfo;
	struct sock *sk = NULL;
	__be32 s4, d4;

	/* Seen from the server: the client is the remote end. */
	if (req->saddr.family == AF_INET) {
		memcpy(&s4, req->saddr.raw, 4);
		memcpy(&d4, req->daddr.raw, 4);
		sk = __inet_lookup_established(net, hinfo, s4, req->sport, d4,
					       ntohs(req->dport), 0, 0);
#if IS_ENABLED(CONFIG_IPV6)
	} else if (tsor_sock_ipv6()) {
		sk = __inet6_lookup_established(net, hinfo,
						(const struct in6_addr *)req->saddr.raw,
						req->sport,
						(const struct in6_addr *)req->daddr.raw,
						ntohs(req->dport), 0, 0);
#endif
	}
	if (sk && !((1 << sk->sk_state) & TSOR_PAIR_STATES)) {
		/*
		 * Request and timewait socks are not connections to pair; a
		 * request sock means the client's last ACK is still on its
		 * way, so the caller may look again.
		 */
		if (sk->sk_state == TCP_NEW_SYN_RECV)
			*again = true;
		sock_gen_put(sk);
		sk = NULL;
	}
	return sk;
}

static int tsor_pair_find_visit(struct tsor_net *tn, void *arg)
{
	struct tsor_pair_find *f = arg;

	f->sk = tsor_pair_lookup(tn->net, f->req, &f->again);
	return !!f->sk;
}

/* Whether the connection exists in a namespace tsor is off in. */
static bool tsor_pair_in_disabled_net(const struct tsor_pair_req *req)
{
	struct sock *sk = NULL;
	struct net *net;
	bool again;

	rcu_read_lock();
	for_each_net_rcu(net) {
		if (tsor_net_enabled(net))
			continue;
		sk = tsor_pair_lookup(net, req, &again);
		if (sk)
			break;
	}
	rcu_read_unlock();
	if (sk)
		sock_gen_put(sk);
	return sk;
}

static struct tsor_channel *tsor_pair_deny(struct tsor_net *tn,
					   enum tsor_stat id,
					   enum tsor_fallback reason,
					   struct tsor_pair_ans *ans)
{
	tsor_stat_inc(tn, id);
	ans->reason = reason;
	return NULL;
}

/* Checks @req against the socket and attaches a channel; socket locked. */
static struct tsor_channel *tsor_pair_serve_sk(struct sock *sk,
					       const struct tsor_pair_req *req,
					       const struct tsor_transport *xp,
					       struct tsor_pair_ans *ans)
{
	struct tsor_net *tn = tsor_net(sock_net(sk));
	struct tcp_sock *tp = tcp_sk(sk);
	struct tsor_pair_tcp srv;
	struct tsor_channel *ch;
	struct tsor_sock *ts;

	if (!((1 << sk->sk_state) & TSOR_PAIR_STATES))
		return tsor_pair_deny(tn, TSOR_STAT_PAIR_DENY_NO_SOCKET,
				      TSOR_FALLBACK_REFUSED, ans);
	/* snd_una less what was acknowledged: the first data sequence. */
	srv.snd_isn1 = tp->snd_una - (u32)tp->bytes_acked;
	srv.snd_nxt = tp->snd_nxt;
	srv.rcv_nxt = tp->rcv_nxt;
	if (!tsor_pair_proof_ok(&req->proof, &srv))
		return tsor_pair_deny(tn, TSOR_STAT_PAIR_DENY_PROOF,
				      TSOR_FALLBACK_REFUSED, ans);
	/*
	 * Only a proven client learns that this namespace keeps the
	 * connection TCP: its own port, or the client's address.
	 */
	if (tsor_net_excluded(tn, &req->saddr, ntohs(req->dport)))
		return tsor_pair_deny(tn, TSOR_STAT_PAIR_DENY_EXCLUDED,
				      TSOR_FALLBACK_EXCLUDED, ans);

	/* A child still in the accept queue gets its state here. */
	ts = tsor_sk_get_or_attach(sk);
	if (!ts)
		return tsor_pair_deny(tn, TSOR_STAT_PAIR_DENY_NOMEM,
				      TSOR_FALLBACK_NOMEM, ans);
	/*
	 * Only a connection that has not carried client bytes on TCP, and
	 * whose TCP sends are all done, can switch without losing order.
	 */
	if (ts->state != TSOR_SK_IDLE || test_bit(TSOR_SKF_CLIENT, &ts->flags) ||
	    atomic_read(&ts->tcp_busy) || tp->bytes_received)
		return tsor_pair_deny(tn, TSOR_STAT_PAIR_DENY_BUSY,
				      TSOR_FALLBACK_REFUSED, ans);
	if (!tsor_ring_size_ok(req->ring_size))
		return tsor_pair_deny(tn, TSOR_STAT_PAIR_DENY_PROOF,
				      TSOR_FALLBACK_REFUSED, ans);
	/* As the client does, for the server socket's memory. */
	if (tcp_under_memory_pressure(sk))
		return tsor_pair_deny(tn, TSOR_STAT_PAIR_DENY_NOMEM,
				      TSOR_FALLBACK_NOMEM, ans);

	ch = tsor_channel_new(sk, true, tsor_pair_ring_size(sk), xp);
	if (!ch)
		return tsor_pair_deny(tn, TSOR_STAT_PAIR_DENY_NOMEM,
				      TSOR_FALLBACK_NOMEM, ans);
	ch->tx.size = req->ring_size;

	/* The transport owns one reference, the socket the other. */
	tsor_channel_get(ch);
	ts->ch = ch;
	ts->tcp_rx_end = tp->rcv_nxt;
	WRITE_ONCE(ts->state, TSOR_SK_PAIRING);
	tsor_stat_inc(tn, TSOR_STAT_PAIR_SERVED);

	ans->reason = TSOR_FALLBACK_NONE;
	ans->y = tp->write_seq;
	ans->ring_size = ch->rx.size;
	if (sk->sk_shutdown & SEND_SHUTDOWN) {
		/* The FIN took a sequence number of its own. */
		ans->fin = true;
		ans->y--;
		ch->tx_fin = true;
	}
	/* A reader blocked on TCP must now wait for the outcome instead. */
	tsor_channel_wake(sk, EPOLLIN | EPOLLRDNORM);
	return ch;
}

struct tsor_channel *tsor_pair_serve(const struct tsor_pair_req *req,
				     const struct tsor_transport *xp,
				     struct tsor_pair_ans *ans)
{
	struct tsor_net *node_tn = tsor_net(&init_net);
	struct tsor_pair_find f = { .req = req };
	struct tsor_channel *ch;
	struct tsor_addr node;
	struct sock *sk;
	int tries;

	memset(ans, 0, sizeof(*ans));
	if (req->saddr.family != req->daddr.family ||
	    (req->saddr.family != AF_INET && req->saddr.family != AF_INET6))
		return tsor_pair_deny(node_tn, TSOR_STAT_PAIR_DENY_NO_SOCKET,
				      TSOR_FALLBACK_REFUSED, ans);

	/* Only the node that owns the client's address may speak for it. */
	if (!tsor_peer_lookup(&req->saddr, &node) ||
	    memcmp(&node, &req->node, sizeof(node)))
		return tsor_pair_deny(node_tn, TSOR_STAT_PAIR_DENY_NODE,
				      TSOR_FALLBACK_REFUSED, ans);

	/*
	 * The client pairs as soon as it saw the SYN-ACK; give the ACK that
	 * completes the server's side a moment to arrive.  A lockless lookup
	 * can also miss a request sock being replaced by its child, so a
	 * miss is looked at again a few times too.
	 */
	for (tries = 0; tries < TSOR_PAIR_LOOKUP_TRIES; tries++) {
		f.again = false;
		tsor_net_walk_enabled(0, tsor_pair_find_visit, &f);
		if (f.sk || (!f.again && tries >= TSOR_PAIR_MISS_TRIES))
			break;
		usleep_range(500, 1000);
	}
	sk = f.sk;
	if (!sk) {
		if (tsor_pair_in_disabled_net(req))
			return tsor_pair_deny(node_tn,
					      TSOR_STAT_PAIR_DENY_DISABLED,
					      TSOR_FALLBACK_PEER_DISABLED, ans);
		return tsor_pair_deny(node_tn, TSOR_STAT_PAIR_DENY_NO_SOCKET,
				      TSOR_FALLBACK_REFUSED, ans);
	}
	if (!tsor_sk_is_ours(sk)) {
		ch = tsor_pair_deny(tsor_net(sock_net(sk)),
				    TSOR_STAT_PAIR_DENY_NOT_TSOR,
				    TSOR_FALLBACK_PEER_DISABLED, ans);
		sock_put(sk);
		return ch;
	}

	lock_sock(sk);
	/* A TCP send in progress ends soon unless it waits for memory. */
	for (tries = 0; tries < TSOR_PAIR_BUSY_TRIES; tries++) {
		struct tsor_sock *ts = tsor_sk(sk);

		if (!ts || !atomic_read(&ts->tcp_busy))
			break;
		release_sock(sk);
		usleep_range(100, 200);
		lock_sock(sk);
	}
	ch = tsor_pair_serve_sk(sk, req, xp, ans);
	release_sock(sk);
	sock_put(sk);
	return ch;
}
