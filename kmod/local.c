// SPDX-License-Identifier: GPL-2.0
/*
 * The shared-memory transport: both ends of the connection live on this
 * node, so each side's staging area is simply the other side's ring.  A
 * send copies once, into the peer's ring, and a receive copies once, out
 * of its own; a "write" only tells the peer how far the bytes go.  When
 * the peer's reader is blocked on an empty ring, direct() copies into the
 * reader's own buffer instead: one copy in all.
 *
 * The two channels are joined by a struct tsor_local_pair, which holds a
 * reference on each until both were closed.  Its lock makes a close and
 * the other side's upcalls exclusive, so no upcall reaches a closed side.
 */
#include <linux/slab.h>
#include "channel.h"

struct tsor_local_pair {
	spinlock_t lock;		/* ch[] and closed[] */
	struct tsor_channel *ch[2];	/* [0] client, [1] server */
	bool closed[2];
};

static const struct tsor_xport_up *tsor_local_up;

static int tsor_local_side(const struct tsor_channel *ch)
{
	return ch->server ? 1 : 0;
}

/* Drops the pair's hold on side @i; the pair goes with its last side. */
static void tsor_local_drop(struct tsor_local_pair *lp, int i)
{
	struct tsor_channel *ch = lp->ch[i];
	bool last;

	spin_lock_bh(&lp->lock);
	lp->closed[i] = true;
	lp->ch[i] = NULL;
	last = !lp->ch[!i];
	spin_unlock_bh(&lp->lock);

	tsor_local_up->released(ch);
	tsor_channel_put(ch);
	if (last)
		kfree(lp);
}

static int tsor_local_pair(struct tsor_channel *ch,
			   const struct tsor_addr *node,
			   const struct tsor_pair_req *req,
			   enum tsor_fallback *reason)
{
	struct tsor_pair_req sreq = *req;
	struct tsor_local_pair *lp;
	struct tsor_channel *srv;
	struct tsor_pair_ans ans;

	lp = kzalloc(sizeof(*lp), GFP_KERNEL);
	if (!lp) {
		*reason = TSOR_FALLBACK_NOMEM;
		return -ENOMEM;
	}
	spin_lock_init(&lp->lock);

	/*
	 * The server checks that the client's address belongs to the node
	 * that asks; here that is this node, if the peer table says so.
	 */
	if (!tsor_peer_lookup(&req->saddr, &sreq.node) ||
	    !tsor_node_is_local(&sreq.node))
		memset(&sreq.node, 0, sizeof(sreq.node));

	srv = tsor_local_up->serve(&sreq, &tsor_local_transport, &ans);
	if (!srv) {
		kfree(lp);
		*reason = ans.reason;
		return -ECONNREFUSED;
	}

	tsor_channel_get(ch);
	lp->ch[0] = ch;
	lp->ch[1] = srv;		/* serve()'s reference is ours */
	ch->xp_priv = lp;
	srv->xp_priv = lp;
	ch->tx_buf = srv->rx_buf;
	ch->tx.size = srv->rx.size;
	srv->tx_buf = ch->rx_buf;

	tsor_local_up->answered(ch, &ans);
	return 0;
}

static void tsor_local_confirm(struct tsor_channel *ch, bool ok)
{
	struct tsor_local_pair *lp = ch->xp_priv;

	tsor_local_up->confirmed(lp->ch[1], ok ? 0 : -ECONNREFUSED);
	/* A cancelled server side is ours to let go, without a close(). */
	if (!ok)
		tsor_local_drop(lp, 1);
}

/* The other side of @ch, or NULL once it closed; under lp->lock. */
static struct tsor_channel *tsor_local_peer(struct tsor_local_pair *lp,
					    struct tsor_channel *ch)
{
	int peer = !tsor_local_side(ch);

	lockdep_assert_held(&lp->lock);
	return lp->closed[peer] ? NULL : lp->ch[peer];
}

static int tsor_local_write(struct tsor_channel *ch, const struct tsor_span *span,
			    int n, bool fin)
{
	struct tsor_local_pair *lp = ch->xp_priv;
	struct tsor_channel *peer;
	u32 len = 0;
	int i;

	for (i = 0; i < n; i++)
		len += span[i].len;
	spin_lock_bh(&lp->lock);
	peer = tsor_local_peer(lp, ch);
	if (peer)
		tsor_local_up->data(peer, len, fin);
	spin_unlock_bh(&lp->lock);
	return 0;
}

static int tsor_local_credit(struct tsor_channel *ch, u32 cons)
{
	struct tsor_local_pair *lp = ch->xp_priv;
	struct tsor_channel *peer;

	spin_lock_bh(&lp->lock);
	peer = tsor_local_peer(lp, ch);
	if (peer)
		tsor_local_up->credit(peer, cons);
	spin_unlock_bh(&lp->lock);
	return 0;
}

static size_t tsor_local_direct(struct tsor_channel *ch,
				struct iov_iter *from, size_t len)
{
	struct tsor_local_pair *lp = ch->xp_priv;
	struct tsor_channel *peer;
	size_t n;

	spin_lock_bh(&lp->lock);
	peer = tsor_local_peer(lp, ch);
	if (peer)
		tsor_channel_get(peer);
	spin_unlock_bh(&lp->lock);
	if (!peer)
		return 0;
	n = tsor_local_up->direct(peer, from, len);
	tsor_channel_put(peer);
	return n;
}

static void tsor_local_close(struct tsor_channel *ch, bool abort)
{
	struct tsor_local_pair *lp = ch->xp_priv;
	struct tsor_channel *peer;

	spin_lock_bh(&lp->lock);
	peer = tsor_local_peer(lp, ch);
	if (peer)
		tsor_local_up->peer_closed(peer, abort ? -ECONNRESET : 0);
	spin_unlock_bh(&lp->lock);
	tsor_local_drop(lp, tsor_local_side(ch));
}

const struct tsor_transport tsor_local_transport = {
	.name = "shm",
	.path = TSOR_PATH_SHM,
	.pair = tsor_local_pair,
	.confirm = tsor_local_confirm,
	.write = tsor_local_write,
	.direct = tsor_local_direct,
	.credit = tsor_local_credit,
	.close = tsor_local_close,
};

int tsor_local_init(const struct tsor_xport_up *up)
{
	tsor_local_up = up;
	return 0;
}

void tsor_local_exit(void)
{
}
