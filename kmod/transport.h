/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boundary between a channel and the transport that carries it: the
 * RDMA link (link.c) between nodes, or shared memory (local.c) on one node.
 *
 * Calls go down through struct tsor_transport.  A transport reports up only
 * through the struct tsor_xport_up it was given at init, so it never knows
 * what a socket is.
 *
 * Pairing is a three-way exchange so that a client giving up never loses a
 * byte: REQ (client -> server), ANSWER (accept with the server's ring, or a
 * refusal), then CONFIRM or CANCEL (client -> server).  The server sends
 * nothing on the channel until CONFIRM; the client writes only after its
 * CONFIRM, which the transport delivers before any data.
 */
#ifndef _TSOR_TRANSPORT_H
#define _TSOR_TRANSPORT_H

#include <linux/types.h>
#include <linux/uio.h>
#include "tsor.h"

struct tsor_channel;

/* A pairing request, with the 4-tuple as the server sees it. */
struct tsor_pair_req {
	struct tsor_addr saddr;		/* client pod */
	struct tsor_addr daddr;		/* server pod, after any DNAT */
	__be16 sport;
	__be16 dport;
	struct tsor_pair_proof proof;
	u32 ring_size;			/* client's receive ring */
	struct tsor_addr node;		/* node that sent it (filled on receipt) */
};

/* The server's answer. */
struct tsor_pair_ans {
	enum tsor_fallback reason;	/* NONE: accepted */
	u32 y;				/* seq after the server's last TCP byte */
	u32 ring_size;			/* server's receive ring */
	bool fin;			/* the server had shut down sending */
};

/*
 * What a transport does for a channel.  Unless said otherwise, ops are
 * called in process context without the channel's lock; all but pair()
 * may also be called from softirq context and must not sleep.
 */
struct tsor_transport {
	const char *name;
	enum tsor_path path;

	/*
	 * Client: send @req for @ch towards @node.  @ch has its receive ring;
	 * the transport makes it writable by that peer only.  The answer comes
	 * later through up->answered(), exactly once, unless this returns an
	 * error (with *@reason set) in which case nothing more happens.  May
	 * sleep.
	 */
	int (*pair)(struct tsor_channel *ch, const struct tsor_addr *node,
		    const struct tsor_pair_req *req, enum tsor_fallback *reason);
	/*
	 * Client, after an accepting answer: @ok true sends CONFIRM, false
	 * CANCEL (the client gave up waiting).  Either way exactly once.
	 */
	void (*confirm)(struct tsor_channel *ch, bool ok);
	/*
	 * Writes what the channel copied into ch->tx_buf at @span[0..@n) into
	 * the same offsets of the peer's ring, and a FIN after them if @fin.
	 * @n may be 0 with @fin.  Spans were claimed from ch->tx, so the peer
	 * has room.  Returns 0, or -errno when the channel is dead: -ENOLINK
	 * when the transport is being lost, peer_closed(-ENOLINK) to follow.
	 */
	int (*write)(struct tsor_channel *ch, const struct tsor_span *span,
		     int n, bool fin);
	/*
	 * Optional, process context, may sleep: copies up to @len bytes from
	 * @from straight into a buffer the peer's blocked reader lent (see
	 * tsor_xport_up.direct).  Returns the bytes copied: 0 if the peer lent
	 * none (or at a fault, which the ring's copy then reports).  Only a
	 * transport whose peer's memory is this node's offers it.
	 */
	size_t (*direct)(struct tsor_channel *ch, struct iov_iter *from,
			 size_t len);
	/* Tells the peer the receiver has read up to cursor @cons. */
	int (*credit)(struct tsor_channel *ch, u32 cons);
	/*
	 * The socket is done with @ch.  Tells the peer (@abort: it sees a
	 * reset, as after a TCP RST), stops delivering upcalls other than
	 * released(), and calls up->released() once neither side can touch the
	 * rings any more.  Called exactly once for each channel handed to
	 * pair() successfully (whatever the answer), and for each channel
	 * serve() returned that was then confirmed; a cancelled server channel
	 * is the transport's to release without a close().
	 */
	void (*close)(struct tsor_channel *ch, bool abort);
};

/*
 * How a transport reports up, implemented by the channel layer.  These may
 * be called in softirq context unless said otherwise.
 */
struct tsor_xport_up {
	/*
	 * Client: the server's answer, or a failure of the transport before
	 * one came (ans->reason says which: PEER_NO_TSOR, LINK_DOWN, ...).  On
	 * an accepting answer the transport has set ch->tx_buf and ch->tx.size.
	 */
	void (*answered)(struct tsor_channel *ch,
			 const struct tsor_pair_ans *ans);
	/*
	 * Server, process context: a pairing request arrived through @xp.
	 * Returns a channel with its receive ring, ch->tx.size set from the
	 * request, and *@ans filled in; or NULL with ans->reason.  The channel
	 * must not send until confirmed().  The returned channel carries one
	 * reference, which the transport owns: it must not take another.
	 */
	struct tsor_channel *(*serve)(const struct tsor_pair_req *req,
				      const struct tsor_transport *xp,
				      struct tsor_pair_ans *ans);
	/*
	 * Server: how the pairing ended, exactly once per channel serve()
	 * returned.  0: CONFIRM arrived.  -ECONNREFUSED: CANCEL arrived, or
	 * the answer never left; the connection stays TCP.  -ECONNRESET: the
	 * answer left but the transport died before the client's verdict, so
	 * the client may be writing into the ring or into TCP; neither side
	 * can tell which bytes the other has, and the connection is reset.
	 * With any error the channel is the transport's to release, without
	 * a close().
	 */
	void (*confirmed)(struct tsor_channel *ch, int result);
	/* @len bytes landed in ch->rx_buf at the producer cursor; FIN after. */
	void (*data)(struct tsor_channel *ch, u32 len, bool fin);
	/* The peer read up to @cons. */
	void (*credit)(struct tsor_channel *ch, u32 cons);
	/*
	 * The peer closed the channel (after its FIN), or reset it (@err).
	 * -ENOLINK: the transport itself was lost with the channel open (the
	 * peer neither closed nor reset it); no more data() comes, so
	 * ch->rx.prod is final, and what the channel wrote since stays in
	 * ch->tx_buf until close().
	 */
	void (*peer_closed)(struct tsor_channel *ch, int err);
	/*
	 * Process context, may sleep: the peer's direct() towards @ch, which
	 * the transport keeps alive for the call.  Fills the buffer @ch's
	 * reader lent, if it lent one and its ring is empty, so that the
	 * bytes stay in order.
	 */
	size_t (*direct)(struct tsor_channel *ch, struct iov_iter *from,
			 size_t len);
	/* Nothing in the transport refers to @ch any more. */
	void (*released)(struct tsor_channel *ch);
};

/* link.c: the RDMA transport. */
extern const struct tsor_transport tsor_rdma_transport;
int tsor_link_init(const struct tsor_xport_up *up);
void tsor_link_exit(void);

/* local.c: the shared-memory transport between pods of one node. */
extern const struct tsor_transport tsor_local_transport;
int tsor_local_init(const struct tsor_xport_up *up);
void tsor_local_exit(void);

#endif /* _TSOR_TRANSPORT_H */
