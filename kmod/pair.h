/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pairing logic of a tsor connection, without any I/O, so it builds both
 * into the module and into a user-space unit test.  The includer provides
 * u8, u32 and bool, and <linux/tsor.h> for enum tsor_fallback.
 *
 * See docs/design.md, "Pairing": the client proves it is an endpoint of the
 * TCP connection with its sequence numbers, the server answers with the
 * sequence number Y after its last byte sent over TCP, and the client's
 * reads drain TCP up to Y before taking from the ring.
 */
#ifndef _TSOR_PAIR_H
#define _TSOR_PAIR_H

/* Sequence-space comparisons, modulo 2^32 as TCP's before()/after(). */
static inline bool tsor_seq_before(u32 a, u32 b)
{
	return (int)(a - b) < 0;
}

static inline bool tsor_seq_between(u32 seq, u32 lo, u32 hi)
{
	return hi - lo >= seq - lo;
}

/* What a PAIR_REQ claims about the connection, from the client's side. */
struct tsor_pair_proof {
	u32 snd_nxt;	/* client: next sequence number it will send */
	u32 rcv_nxt;	/* client: next sequence number it expects */
};

/* The server socket's own view, read under its lock. */
struct tsor_pair_tcp {
	u32 snd_isn1;	/* its first sequence number after the SYN (ISN + 1) */
	u32 snd_nxt;	/* next sequence number it will send */
	u32 rcv_nxt;	/* next sequence number it expects */
};

/*
 * Whether a PAIR_REQ comes from the connection's real client.  The client
 * has written nothing yet (connect() has not returned), so its snd_nxt is
 * exactly what the server expects next; what it had received when it asked
 * lies between the server's first sequence number and what it sent.  (Not
 * from what the server saw acknowledged: the client keeps acknowledging
 * while its request travels.)
 */
static inline bool tsor_pair_proof_ok(const struct tsor_pair_proof *req,
				      const struct tsor_pair_tcp *srv)
{
	return req->snd_nxt == srv->rcv_nxt &&
	       tsor_seq_between(req->rcv_nxt, srv->snd_isn1, srv->snd_nxt);
}

/* Where the client's socket is in pairing. */
enum tsor_pair_state {
	TSOR_PAIR_IDLE,		/* TCP not established yet */
	TSOR_PAIR_WAITING,	/* PAIR_REQ sent, no answer yet */
	TSOR_PAIR_PAIRED,	/* the channel carries the bytes */
	TSOR_PAIR_TCP,		/* plain TCP for good; see the reason */
};

enum tsor_pair_event {
	TSOR_PAIR_EV_ESTABLISHED,	/* TCP up, peer table consulted */
	TSOR_PAIR_EV_ACK,
	TSOR_PAIR_EV_NAK,
	TSOR_PAIR_EV_TIMEOUT,
	TSOR_PAIR_EV_LINK_DOWN,
};

struct tsor_pair {
	enum tsor_pair_state state;
	enum tsor_fallback reason;	/* with TSOR_PAIR_TCP */
};

static inline void tsor_pair_fall_back(struct tsor_pair *p,
				       enum tsor_fallback reason)
{
	p->state = TSOR_PAIR_TCP;
	p->reason = reason;
}

/*
 * Advances the client's pairing on @ev.  @reason says why with
 * ESTABLISHED (NONE: a peer node was found and PAIR_REQ sent; otherwise
 * why not) and with NAK (the peer's reason).  Events that do not fit the
 * state (a late ACK after a timeout, say) change nothing, and the caller
 * drops them.  Returns whether the event was taken.
 */
static inline bool tsor_pair_step(struct tsor_pair *p,
				  enum tsor_pair_event ev,
				  enum tsor_fallback reason)
{
	switch (p->state) {
	case TSOR_PAIR_IDLE:
		if (ev != TSOR_PAIR_EV_ESTABLISHED)
			return false;
		if (reason == TSOR_FALLBACK_NONE)
			p->state = TSOR_PAIR_WAITING;
		else
			tsor_pair_fall_back(p, reason);
		return true;
	case TSOR_PAIR_WAITING:
		switch (ev) {
		case TSOR_PAIR_EV_ACK:
			p->state = TSOR_PAIR_PAIRED;
			return true;
		case TSOR_PAIR_EV_NAK:
			tsor_pair_fall_back(p, reason == TSOR_FALLBACK_NONE ?
					    TSOR_FALLBACK_REFUSED : reason);
			return true;
		case TSOR_PAIR_EV_TIMEOUT:
			tsor_pair_fall_back(p, TSOR_FALLBACK_TIMEOUT);
			return true;
		case TSOR_PAIR_EV_LINK_DOWN:
			tsor_pair_fall_back(p, TSOR_FALLBACK_LINK_DOWN);
			return true;
		default:
			return false;
		}
	default:
		return false;
	}
}

/* connect() returns, and a non-blocking one turns writable, only then. */
static inline bool tsor_pair_settled(const struct tsor_pair *p)
{
	return p->state == TSOR_PAIR_PAIRED || p->state == TSOR_PAIR_TCP;
}

/*
 * How many bytes a paired client must still read from TCP before the
 * ring: those the server sent on TCP up to @y, beyond what was read
 * (@copied_seq).  Zero means the ring is next.
 */
static inline u32 tsor_pair_tcp_left(u32 copied_seq, u32 y)
{
	return tsor_seq_before(copied_seq, y) ? y - copied_seq : 0;
}

#endif /* _TSOR_PAIR_H */
