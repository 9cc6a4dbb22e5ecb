/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A channel: one paired connection's pair of rings, and the socket-facing
 * data path over them (channel.c).  Transports see the fields marked
 * "transport" and the ring cursors; the rest belongs to channel.c.
 */
#ifndef _TSOR_CHANNEL_H
#define _TSOR_CHANNEL_H

#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <net/sock.h>
#include "tsor.h"
#include "transport.h"

/* Ring sizes: powers of two within these bounds. */
#define TSOR_RING_MIN	(64U << 10)
#define TSOR_RING_MAX	(4U << 20)

/*
 * A reader blocked on an empty ring lends the start of its own buffer, so
 * that the writer's copy is the only one (shared memory only).  It lives in
 * the reader's stack frame; the writer fills it under ch->lock's rules.
 */
#define TSOR_DIRECT_PAGES	32
#define TSOR_DIRECT_MIN		(16U << 10)	/* smaller reads use the ring */

struct tsor_direct {
	struct page *pages[TSOR_DIRECT_PAGES];
	unsigned int npages;
	size_t start;			/* offset into pages[0] */
	size_t len;			/* bytes lent */
	size_t filled;			/* bytes the writer put there */
	bool busy;			/* a writer is copying: keep it pinned */
	bool done;			/* filled: the reader must take it */
};

struct tsor_channel {
	refcount_t ref;
	spinlock_t lock;		/* cursors, flags, sk; taken with _bh */

	struct tsor_ring_rx rx;		/* our ring, which the peer fills */
	struct tsor_ring_tx tx;		/* the peer's ring, which we fill */
	void *rx_buf;			/* rx.size bytes, physically contiguous */
	void *tx_buf;			/* transport: where writes are staged */

	struct tsor_direct *direct;	/* lent by the blocked reader */

	const struct tsor_transport *xp;
	void *xp_priv;			/* transport */

	struct sock *sk;		/* NULL once the socket let go */
	struct net *net;		/* held: its ring budget and gauges */
	struct tsor_pair pair;		/* WAITING until answered/confirmed */
	u32 y;				/* client: server's seq after TCP */
	struct timer_list timer;	/* client: answer timeout */
	bool server;
	bool ready;			/* may send: the peer knows our ring */
	bool rx_fin;			/* peer's FIN seen */
	bool rd_shut;			/* shutdown(SHUT_RD) here */
	bool tx_fin;			/* our FIN sent */
	bool peer_closed;		/* peer's socket is gone */
	bool closed;			/* xp->close() called or due */
	int err;			/* reset: -ECONNRESET and the like */

	/*
	 * The transport was lost under an open channel and the connection
	 * goes on over its own TCP connection (resume.c).  Set under
	 * ch->lock; resume_rx and resume_tx only after lost, never cleared.
	 */
	bool lost;			/* TCP takes over */
	bool resuming;			/* the resume work runs */
	bool resume_rx;			/* peer's record read: TCP follows rx */
	bool resume_tx;			/* our unread bytes resent: TCP is ours */
	bool resume_stop;		/* close() gives up waiting for it */
	struct sock *resume_sk;		/* held by the work */
	struct work_struct resume_work;

	u64 tx_bytes;
	u64 rx_bytes;
};

/* buf.c: physically contiguous buffers for rings and staging copies. */
void *tsor_buf_alloc(u32 *size, u32 min, gfp_t gfp);
void tsor_buf_free(void *buf, u32 size);
void *tsor_ring_cache_get(struct tsor_net *tn, u32 size);
void tsor_ring_cache_put(struct tsor_net *tn, void *buf, u32 size);

static inline void tsor_channel_get(struct tsor_channel *ch)
{
	refcount_inc(&ch->ref);
}

void tsor_channel_put(struct tsor_channel *ch);

/* The socket-facing side, used by sock.c and pair.c. */
struct tsor_channel *tsor_channel_new(struct sock *sk, bool server,
				      u32 rx_size,
				      const struct tsor_transport *xp);
int tsor_channel_pair(struct tsor_channel *ch, const struct tsor_addr *node,
		      const struct tsor_pair_req *req);
bool tsor_channel_settled(struct tsor_channel *ch);
int tsor_channel_sendmsg(struct sock *sk, struct tsor_channel *ch,
			 struct msghdr *msg, size_t len);
int tsor_channel_recvmsg(struct sock *sk, struct tsor_channel *ch,
			 struct msghdr *msg, size_t len, int flags);
__poll_t tsor_channel_poll(struct sock *sk, struct tsor_channel *ch);
bool tsor_channel_shutdown(struct sock *sk, struct tsor_channel *ch,
			   int how);
bool tsor_channel_has_unread(struct tsor_channel *ch);
bool tsor_channel_failed(struct tsor_channel *ch);
void tsor_channel_release(struct tsor_channel *ch, bool abort);
u32 tsor_channel_inq(struct tsor_channel *ch);
u32 tsor_channel_outq(struct tsor_channel *ch);
void tsor_channel_wake(struct sock *sk, __poll_t mask);

/* resume.c: carrying on over TCP after the transport was lost. */
bool tsor_resume_start(struct tsor_channel *ch);
void tsor_channel_tcp_lost(struct tsor_channel *ch);
bool tsor_channel_resumed(struct tsor_channel *ch, bool *rx, bool *tx);
int tsor_channel_resume_wait(struct sock *sk, struct tsor_channel *ch,
			     bool tx, long *timeo);
void tsor_channel_resume_settle(struct sock *sk, struct tsor_channel *ch);
int tsor_resume_init(void);
void tsor_resume_exit(void);

#endif /* _TSOR_CHANNEL_H */
