/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ring and credit arithmetic of a tsor channel, without any I/O, so it
 * builds both into the module and into a user-space unit test (Debian's
 * kernel has no KUnit).  The includer provides u32 and bool.
 *
 * Each direction of a channel has one ring, owned by the receiver, which
 * the sender fills remotely (RDMA WRITE_WITH_IMM, or a memcpy on one node).
 * Cursors are free-running u32 byte counts; a byte's place in the ring is
 * its cursor modulo the ring size, a power of two.  Differences of cursors
 * are exact as long as less than 2^32 bytes are in flight, which the ring
 * size bounds.
 *
 * Credits: the sender may have at most `size` bytes unread.  It learns what
 * was read from consumer cursors the receiver announces, and the receiver
 * announces only after half the ring has been freed since the last one, so
 * credit traffic costs at most two messages per ring's worth of data.  A
 * sender stalls only with a full ring; the receiver then frees all of it
 * on reading and must announce, so the protocol cannot deadlock.
 */
#ifndef _TSOR_RING_H
#define _TSOR_RING_H

/* A contiguous piece of a ring; a transfer wraps into at most two. */
struct tsor_span {
	u32 off;
	u32 len;
};

/* The sender's view of the peer's ring. */
struct tsor_ring_tx {
	u32 size;	/* power of two */
	u32 prod;	/* bytes written so far */
	u32 cons;	/* bytes the receiver has announced as read */
};

/* The receiver's own ring. */
struct tsor_ring_rx {
	u32 size;	/* power of two */
	u32 prod;	/* bytes the sender has written */
	u32 cons;	/* bytes the application has read */
	u32 announced;	/* cons as last told to the sender */
};

/* Splits @len bytes at cursor @pos of a ring of @size into spans. */
static inline int tsor_ring_spans(u32 size, u32 pos, u32 len,
				  struct tsor_span span[2])
{
	u32 off = pos & (size - 1);
	u32 first = size - off < len ? size - off : len;

	span[0].off = off;
	span[0].len = first;
	span[1].off = 0;
	span[1].len = len - first;
	return span[1].len ? 2 : (first ? 1 : 0);
}

static inline u32 tsor_tx_space(const struct tsor_ring_tx *r)
{
	return r->size - (r->prod - r->cons);
}

/*
 * Claims up to @len bytes of space for writing and says where they go.
 * Returns how many bytes were claimed (0 with a full ring).
 */
static inline u32 tsor_tx_claim(struct tsor_ring_tx *r, u32 len,
				struct tsor_span span[2])
{
	u32 space = tsor_tx_space(r);

	if (len > space)
		len = space;
	tsor_ring_spans(r->size, r->prod, len, span);
	r->prod += len;
	return len;
}

/*
 * Takes a consumer cursor announced by the receiver.  It may only move
 * forward and never past what was written; anything else is a protocol
 * error from the peer and the channel must be torn down.
 */
static inline bool tsor_tx_credit(struct tsor_ring_tx *r, u32 cons)
{
	if (cons - r->cons > r->prod - r->cons)
		return false;
	r->cons = cons;
	return true;
}

static inline u32 tsor_rx_avail(const struct tsor_ring_rx *r)
{
	return r->prod - r->cons;
}

/*
 * Accounts @len bytes the sender wrote.  More than the free space means
 * the peer ignored its credits: a protocol error.
 */
static inline bool tsor_rx_produced(struct tsor_ring_rx *r, u32 len)
{
	if (len > r->size - tsor_rx_avail(r))
		return false;
	r->prod += len;
	return true;
}

/* Where the next @len readable bytes (at most what is there) lie. */
static inline u32 tsor_rx_peek(const struct tsor_ring_rx *r, u32 len,
			       struct tsor_span span[2])
{
	u32 avail = tsor_rx_avail(r);

	if (len > avail)
		len = avail;
	tsor_ring_spans(r->size, r->cons, len, span);
	return len;
}

static inline void tsor_rx_consume(struct tsor_ring_rx *r, u32 len)
{
	r->cons += len;
}

/*
 * Whether the receiver should announce its cursor now: once half the ring
 * was freed since the last announcement.  Marks it announced when so.
 */
static inline bool tsor_rx_announce(struct tsor_ring_rx *r)
{
	if (r->cons - r->announced < r->size / 2)
		return false;
	r->announced = r->cons;
	return true;
}

#endif /* _TSOR_RING_H */
