// SPDX-License-Identifier: GPL-2.0
/*
 * The RDMA transport: one RC queue pair per pair of nodes (a link), made
 * through rdma_cm at the first pairing towards a node, with every channel
 * between the two nodes multiplexed on it.  docs/rdma-link.md describes
 * the protocol; link.h has the wire format.
 *
 * Data goes by RDMA WRITE_WITH_IMM from the sender's staging buffer into
 * the receiver's ring, at the same offsets; the immediate names the
 * receiver's channel.  Control messages are SENDs into receive buffers
 * every link keeps posted.  Each ring is registered (FRWR) for remote
 * writes only while its channel lives, and its rkey goes only to the
 * peer of that channel.
 *
 * Locking and lifetimes:
 * - link->lock (bh) guards the link's state, its send queue accounting and
 *   backlog, and the state of its channels.  Upcalls that do not call back
 *   down (data, credit, peer_closed) are made under it, so that a close()
 *   (which takes it) is never followed by one of them.  answered() and
 *   confirmed() call back down and are made without it; the channel layer
 *   never closes a channel before those came.
 * - link->res_sem guards the link's device resources (QP, CQ, receive
 *   buffers, and its channels' MRs and DMA mappings): taken for reading
 *   to use them from process context, for writing by the one work that
 *   tears the link down (kill).  Softirq paths post only while !link->dead,
 *   which kill sets before it drains the QP.
 * - A link is referenced by the link list, by each of its channels, and by
 *   each work queued for it.  A channel's transport state (tsor_lchan) is
 *   referenced by the link's channel table until it is released, and by
 *   whatever is about to use it outside link->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <rdma/ib_cache.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>
#include "channel.h"
#include "link.h"

static unsigned int dial_timeout_ms = 10000;
module_param(dial_timeout_ms, uint, 0644);
MODULE_PARM_DESC(dial_timeout_ms,
		 "How long dialling a node's RDMA link may take (default 10000)");

static unsigned int down_cache_ms = 5000;
module_param(down_cache_ms, uint, 0644);
MODULE_PARM_DESC(down_cache_ms,
		 "How long new connections to a node whose link failed stay TCP without dialling again (default 5000)");

static unsigned int link_timeout_ms = 30000;
module_param(link_timeout_ms, uint, 0644);
MODULE_PARM_DESC(link_timeout_ms,
		 "How long a link may hold a send without completion before it is taken down; an idle link is probed (default 30000; 0: never)");

static unsigned int link_max_channels = 8192;
module_param(link_max_channels, uint, 0644);
MODULE_PARM_DESC(link_max_channels,
		 "Most connections one node link carries at once; more stay TCP (default 8192; 0: no cap)");

/* Send and receive queue depths; a data write takes one or two of each. */
#define TSOR_LINK_SQ	256
#define TSOR_LINK_RQ	256

struct tsor_link {
	struct list_head node;		/* tsor_links */
	refcount_t ref;
	struct tsor_addr local;
	struct tsor_addr remote;
	bool passive;			/* the peer dialled it */

	spinlock_t lock;		/* below, and the channels' states */
	enum tsor_link_state state;
	enum tsor_fallback reason;	/* why it went down */
	unsigned long down_until;	/* jiffies: no new dial before */
	bool dead;			/* nothing more is posted */
	bool drained;			/* no WR is outstanding any more */
	bool connected;			/* ESTABLISHED came */
	int sq_free;
	int sq_size;
	unsigned long last_done;	/* jiffies: a send completed, or the
					 * first of those outstanding went out
					 */
	struct list_head backlog;	/* tsor_ltx waiting for the SQ */
	struct xarray chans;		/* id -> tsor_lchan */
	u32 nchans;

	struct rw_semaphore res_sem;
	struct rdma_cm_id *id;
	struct ib_device *ibdev;	/* also under tsor_links_lock */
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;
	struct tsor_lrx *rx;
	u32 nrx;

	struct work_struct up_work;
	struct work_struct kill_work;
	struct work_struct err_work;
	struct delayed_work dial_work;
	struct delayed_work watch_work;
};

/* A chain of one or two send WRs, and the message it may carry. */
struct tsor_ltx {
	struct list_head node;
	struct ib_cqe cqe;
	struct tsor_link *link;
	struct tsor_lchan *close_lc;	/* a CLOSE: tells its channel */
	struct ib_device *ibdev;		/* what msg_dma is mapped on */
	struct ib_send_wr *first;
	int nwr;
	int pending;			/* completions still to come */
	u64 msg_dma;			/* 0: not mapped */
	struct ib_reg_wr reg;
	struct ib_rdma_wr wr[2];
	struct ib_sge sge[2];
	union tsor_msg msg;
};

struct tsor_lrx {
	struct ib_cqe cqe;
	struct tsor_link *link;
	u64 dma;
	union tsor_msg msg;
};

enum tsor_lc_state {
	TSOR_LC_WAIT_LINK,	/* client: the link is still being dialled */
	TSOR_LC_ASKED,		/* client: PAIR_REQ sent */
	TSOR_LC_ANSWERED,	/* client: the answer is being handled */
	TSOR_LC_SERVED,		/* server: answer sent, CONFIRM awaited */
	TSOR_LC_OPEN,		/* both ends may write */
	TSOR_LC_DONE,		/* never opened, or cancelled */
};

struct tsor_lchan {
	refcount_t ref;
	struct tsor_link *link;
	struct tsor_channel *ch;	/* referenced until released */
	u32 id;				/* ours, in the link's table */
	u32 peer_id;
	/* Under link->lock */
	enum tsor_lc_state state;
	bool closed;			/* close() came, or cancelled server */
	bool close_done;		/* our CLOSE completed */
	bool peer_gone;			/* the peer's CLOSE arrived */
	bool release_queued;
	struct tsor_ltx *close_tx;	/* ready, so close() cannot fail */

	struct tsor_pair_req req;	/* client, until sent */
	struct tsor_pair_ans ans;	/* client, with the peer's ring: */
	struct tsor_wire_ring peer_ring;
	u32 rx_prod;			/* what the peer wrote, for syncs */
	bool fin_wait;			/* the peer's FIN came before fin_at */
	u32 fin_at;			/* rx_prod at which its stream ends */

	/* Device resources, under link->res_sem */
	struct ib_mr *mr;
	struct scatterlist rx_sg;
	bool rx_mapped;
	void *tx_buf;
	u32 tx_size;
	u64 tx_dma;
	bool tx_mapped;

	struct list_head kill_node;
	struct work_struct ans_work;
	struct work_struct release_work;
};

/* A pairing request, waiting to be served in process context. */
struct tsor_lserve {
	struct work_struct work;
	struct tsor_link *link;
	struct tsor_msg_pair_req msg;
};

static const struct tsor_xport_up *tsor_link_up;
static struct workqueue_struct *tsor_link_wq;
static struct kmem_cache *tsor_ltx_cache;
static DEFINE_MUTEX(tsor_dial_mutex);	/* one dial per node at a time */
static DEFINE_SPINLOCK(tsor_links_lock);
static LIST_HEAD(tsor_links);
static bool tsor_links_live;		/* under tsor_links_lock */
static atomic_t tsor_links_count = ATOMIC_INIT(0);

static void tsor_link_put(struct tsor_link *l)
{
	if (!refcount_dec_and_test(&l->ref))
		return;
	xa_destroy(&l->chans);
	kfree(l);
	if (atomic_dec_and_test(&tsor_links_count))
		wake_up_var(&tsor_links_count);
}

/* Queues @work holding a reference on @l for it. */
static void tsor_link_queue(struct tsor_link *l, struct work_struct *work)
{
	refcount_inc(&l->ref);
	if (!queue_work(tsor_link_wq, work))
		tsor_link_put(l);
}

static void tsor_link_kill_locked(struct tsor_link *l,
				  enum tsor_fallback reason)
{
	lockdep_assert_held(&l->lock);
	if (l->dead)
		return;
	if (l->connected)
		tsor_stat_inc(tsor_net(&init_net), TSOR_STAT_LINK_DOWN);
	l->dead = true;
	l->state = TSOR_LINK_DOWN;
	l->reason = reason;
	l->down_until = jiffies + msecs_to_jiffies(down_cache_ms);
	tsor_link_queue(l, &l->kill_work);
}

/* Takes @l down: every channel on it is reset or refused. */
static void tsor_link_kill(struct tsor_link *l, enum tsor_fallback reason)
{
	spin_lock_bh(&l->lock);
	tsor_link_kill_locked(l, reason);
	spin_unlock_bh(&l->lock);
}

static void tsor_lchan_put(struct tsor_lchan *lc)
{
	struct tsor_link *l = lc->link;

	if (!refcount_dec_and_test(&lc->ref))
		return;
	if (lc->close_tx)
		kmem_cache_free(tsor_ltx_cache, lc->close_tx);
	tsor_buf_free(lc->tx_buf, lc->tx_size);
	kfree(lc);
	tsor_link_put(l);
}

/* Whether @nchans channels on one link are more than it may carry. */
static bool tsor_link_over(u32 nchans)
{
	unsigned int max = READ_ONCE(link_max_channels);

	return max && nchans > max;
}

/* Sending */

static struct tsor_ltx *tsor_ltx_alloc(struct tsor_link *l, gfp_t gfp)
{
	struct tsor_ltx *tx = kmem_cache_zalloc(tsor_ltx_cache, gfp);

	if (!tx)
		return NULL;
	tx->link = l;
	INIT_LIST_HEAD(&tx->node);
	return tx;
}

static void tsor_ltx_done(struct ib_cq *cq, struct ib_wc *wc);

/* Makes @tx one SEND of its message; link->lock held, link alive. */
static int tsor_ltx_msg_locked(struct tsor_link *l, struct tsor_ltx *tx)
{
	struct ib_send_wr *wr = &tx->wr[0].wr;

	tx->msg_dma = ib_dma_map_single(l->ibdev, &tx->msg, TSOR_MSG_SIZE,
					DMA_TO_DEVICE);
	if (ib_dma_mapping_error(l->ibdev, tx->msg_dma)) {
		tx->msg_dma = 0;
		return -ENOMEM;
	}
	tx->ibdev = l->ibdev;
	tx->cqe.done = tsor_ltx_done;
	tx->sge[0].addr = tx->msg_dma;
	tx->sge[0].length = TSOR_MSG_SIZE;
	tx->sge[0].lkey = l->pd->local_dma_lkey;
	wr->opcode = IB_WR_SEND;
	wr->send_flags = IB_SEND_SIGNALED;
	wr->wr_cqe = &tx->cqe;
	wr->sg_list = &tx->sge[0];
	wr->num_sge = 1;
	/* A REG_MR in front of it, if one was set up, goes first. */
	if (tx->reg.mr) {
		tx->reg.wr.next = wr;
		tx->first = &tx->reg.wr;
		tx->nwr = 2;
	} else {
		tx->first = wr;
		tx->nwr = 1;
	}
	tx->pending = tx->nwr;
	return 0;
}

/* Frees @tx, which is posted no more; never under link->lock. */
static void tsor_ltx_free(struct tsor_ltx *tx)
{
	if (tx->msg_dma)
		ib_dma_unmap_single(tx->ibdev, tx->msg_dma, TSOR_MSG_SIZE,
				    DMA_TO_DEVICE);
	if (tx->close_lc)
		tsor_lchan_put(tx->close_lc);
	kmem_cache_free(tsor_ltx_cache, tx);
}

static int tsor_link_post_now(struct tsor_link *l, struct tsor_ltx *tx)
{
	int err;

	/* The watchdog's clock starts with the first send outstanding. */
	if (l->sq_free == l->sq_size)
		l->last_done = jiffies;
	l->sq_free -= tx->nwr;
	err = ib_post_send(l->qp, tx->first, NULL);
	if (err)
		l->sq_free += tx->nwr;
	return err;
}

/*
 * Posts @tx, or queues it behind others while the send queue is full, so
 * that WRs always go out in the order they were handed to us.
 */
static int tsor_link_post_locked(struct tsor_link *l, struct tsor_ltx *tx)
{
	int err;

	lockdep_assert_held(&l->lock);
	if (l->dead)
		return -ECONNRESET;
	/* A passive end may be asked before ESTABLISHED: the QP is not RTS. */
	if (!l->connected || !list_empty(&l->backlog) ||
	    l->sq_free < tx->nwr) {
		list_add_tail(&tx->node, &l->backlog);
		return 0;
	}
	err = tsor_link_post_now(l, tx);
	if (err)
		tsor_link_kill_locked(l, TSOR_FALLBACK_LINK_DOWN);
	return err;
}

static void tsor_link_backlog_locked(struct tsor_link *l)
{
	struct tsor_ltx *tx;

	while (!l->dead && l->connected && !list_empty(&l->backlog)) {
		tx = list_first_entry(&l->backlog, struct tsor_ltx, node);
		if (l->sq_free < tx->nwr)
			break;
		list_del_init(&tx->node);
		if (tsor_link_post_now(l, tx)) {
			/* Kill frees what is left in the backlog. */
			list_add(&tx->node, &l->backlog);
			tsor_link_kill_locked(l, TSOR_FALLBACK_LINK_DOWN);
		}
	}
}

static void tsor_lchan_maybe_release(struct tsor_lchan *lc);

static void tsor_ltx_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct tsor_ltx *tx = container_of(wc->wr_cqe, struct tsor_ltx, cqe);
	struct tsor_link *l = tx->link;
	bool last;

	spin_lock_bh(&l->lock);
	if (wc->status != IB_WC_SUCCESS && wc->status != IB_WC_WR_FLUSH_ERR) {
		if (!l->dead)
			pr_warn_ratelimited("link to %*phN: send failed: %s\n",
					    l->remote.family == AF_INET ? 4 : 16,
					    l->remote.raw,
					    ib_wc_status_msg(wc->status));
		tsor_link_kill_locked(l, TSOR_FALLBACK_LINK_DOWN);
	}
	l->sq_free++;
	l->last_done = jiffies;
	last = --tx->pending == 0;
	if (last && tx->close_lc) {
		tx->close_lc->close_done = true;
		tsor_lchan_maybe_release(tx->close_lc);
	}
	tsor_link_backlog_locked(l);
	spin_unlock_bh(&l->lock);
	if (last)
		tsor_ltx_free(tx);
}

/* Sends @tx's message as a SEND on @l; on error @tx is still the caller's. */
static int tsor_link_post_msg(struct tsor_link *l, struct tsor_ltx *tx)
{
	int err;

	spin_lock_bh(&l->lock);
	err = l->dead ? -ECONNRESET : tsor_ltx_msg_locked(l, tx);
	if (!err)
		err = tsor_link_post_locked(l, tx);
	spin_unlock_bh(&l->lock);
	return err;
}

/* Sends a message of @type to the peer's channel @chan. */
static int tsor_link_send(struct tsor_link *l, u8 type, u8 flags, u32 chan,
			  const union tsor_msg *body)
{
	struct tsor_ltx *tx = tsor_ltx_alloc(l, GFP_ATOMIC);
	int err;

	if (!tx)
		return -ENOMEM;
	if (body)
		tx->msg = *body;
	tx->msg.hdr.type = type;
	tx->msg.hdr.flags = flags;
	tx->msg.hdr.chan = cpu_to_be32(chan);
	err = tsor_link_post_msg(l, tx);
	if (err)
		tsor_ltx_free(tx);
	return err;
}

/* Receiving */

static int tsor_lrx_post(struct tsor_link *l, struct tsor_lrx *rx)
{
	struct ib_sge sge = {
		.addr = rx->dma,
		.length = TSOR_MSG_SIZE,
		.lkey = l->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &rx->cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};

	return ib_post_recv(l->qp, &wr, NULL);
}

/* @len bytes of the peer landed in channel @id's ring; link->lock held. */
static void tsor_link_rx_data(struct tsor_link *l, u32 id, u32 len, bool fin)
{
	struct tsor_lchan *lc = xa_load(&l->chans, id);
	u64 dma;
	u32 size, off, first;

	if (!lc || lc->state != TSOR_LC_OPEN || lc->closed || !lc->rx_mapped)
		return;
	size = lc->ch->rx.size;
	dma = sg_dma_address(&lc->rx_sg);
	off = lc->rx_prod & (size - 1);
	first = min(len, size - off);
	if (first)
		ib_dma_sync_single_for_cpu(l->ibdev, dma + off, first,
					   DMA_FROM_DEVICE);
	if (len > first)
		ib_dma_sync_single_for_cpu(l->ibdev, dma, len - first,
					   DMA_FROM_DEVICE);
	lc->rx_prod += len;
	if (lc->fin_wait && lc->rx_prod == lc->fin_at) {
		lc->fin_wait = false;
		fin = true;
	}
	tsor_link_up->data(lc->ch, len, fin);
}

/*
 * The peer's FIN message, saying its stream ends at @at; link->lock held.
 * RC delivers in order, so the data is all here: if it is not, writes were
 * lost (a QP that failed half-way), and the stream must not end cleanly.
 * The FIN waits for the data; a link that lost it is killed, which resets.
 */
static void tsor_link_rx_fin(struct tsor_link *l, struct tsor_lchan *lc,
			     u32 id, u32 at)
{
	u32 ahead = at - lc->rx_prod;

	if (!ahead) {
		tsor_link_rx_data(l, id, 0, true);
		return;
	}
	if (lc->state != TSOR_LC_OPEN || lc->closed)
		return;
	if (ahead > lc->ch->rx.size) {
		/* Data beyond the end of the stream: no trust left. */
		tsor_link_up->peer_closed(lc->ch, -ECONNRESET);
		tsor_link_kill_locked(l, TSOR_FALLBACK_LINK_DOWN);
		return;
	}
	pr_warn_ratelimited("link to %*phN: FIN %u bytes ahead of the data\n",
			    l->remote.family == AF_INET ? 4 : 16,
			    l->remote.raw, ahead);
	lc->fin_wait = true;
	lc->fin_at = at;
}

static void tsor_link_serve_queue(struct tsor_link *l,
				  const struct tsor_msg_pair_req *m);

/* Takes a pinned channel of @l by id, in @states; NULL if not there. */
static struct tsor_lchan *tsor_lchan_take(struct tsor_link *l, u32 id,
					  enum tsor_lc_state state,
					  enum tsor_lc_state next)
{
	struct tsor_lchan *lc;

	spin_lock_bh(&l->lock);
	lc = xa_load(&l->chans, id);
	if (lc && lc->state == state) {
		lc->state = next;
		refcount_inc(&lc->ref);
	} else {
		lc = NULL;
	}
	spin_unlock_bh(&l->lock);
	return lc;
}

static void tsor_link_rx_msg(struct tsor_link *l, const union tsor_msg *m)
{
	u32 id = be32_to_cpu(m->hdr.chan);
	struct tsor_lchan *lc;

	switch (m->hdr.type) {
	case TSOR_MSG_NOP:
		return;
	case TSOR_MSG_PAIR_REQ:
		tsor_link_serve_queue(l, &m->req);
		return;
	case TSOR_MSG_PAIR_ANS:
		lc = tsor_lchan_take(l, id, TSOR_LC_ASKED, TSOR_LC_ANSWERED);
		if (!lc)
			return;
		lc->ans.reason = m->ans.reason < TSOR_FALLBACK_RESUMED ?
				 m->ans.reason : TSOR_FALLBACK_REFUSED;
		lc->ans.y = be32_to_cpu(m->ans.y);
		lc->ans.fin = m->ans.fin;
		lc->ans.ring_size = be32_to_cpu(m->ans.ring.size);
		lc->peer_ring = m->ans.ring;
		lc->peer_id = be32_to_cpu(m->ans.schan) & TSOR_IMM_CHAN_MASK;
		/* Its staging buffer is allocated where that may sleep. */
		tsor_link_queue(l, &lc->ans_work);
		return;
	case TSOR_MSG_CONFIRM:
		lc = tsor_lchan_take(l, id, TSOR_LC_SERVED, TSOR_LC_OPEN);
		if (!lc)
			return;
		tsor_link_up->confirmed(lc->ch, 0);
		tsor_lchan_put(lc);
		return;
	case TSOR_MSG_CANCEL:
		lc = tsor_lchan_take(l, id, TSOR_LC_SERVED, TSOR_LC_DONE);
		if (!lc)
			return;
		tsor_link_up->confirmed(lc->ch, -ECONNREFUSED);
		/* A cancelled server channel is ours to release. */
		spin_lock_bh(&l->lock);
		lc->closed = true;
		tsor_lchan_maybe_release(lc);
		spin_unlock_bh(&l->lock);
		tsor_lchan_put(lc);
		return;
	}

	spin_lock_bh(&l->lock);
	lc = xa_load(&l->chans, id);
	if (!lc)
		goto out;
	switch (m->hdr.type) {
	case TSOR_MSG_CREDIT:
		if (lc->state == TSOR_LC_OPEN && !lc->closed)
			tsor_link_up->credit(lc->ch,
					     be32_to_cpu(m->credit.cons));
		break;
	case TSOR_MSG_FIN:
		if (m->hdr.flags & TSOR_MSGF_FIN_AT)
			tsor_link_rx_fin(l, lc, id, be32_to_cpu(m->fin.prod));
		else
			tsor_link_rx_data(l, id, 0, true);
		break;
	case TSOR_MSG_CLOSE:
		lc->peer_gone = true;
		if (lc->state == TSOR_LC_OPEN && !lc->closed)
			tsor_link_up->peer_closed(lc->ch,
						  m->hdr.flags & TSOR_MSGF_ABORT ?
						  -ECONNRESET : 0);
		tsor_lchan_maybe_release(lc);
		break;
	}
out:
	spin_unlock_bh(&l->lock);
}

static void tsor_lrx_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct tsor_lrx *rx = container_of(wc->wr_cqe, struct tsor_lrx, cqe);
	struct tsor_link *l = rx->link;
	union tsor_msg m;
	bool msg = false;

	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR) {
			pr_warn_ratelimited("link to %*phN: receive failed: %s\n",
					    l->remote.family == AF_INET ? 4 : 16,
					    l->remote.raw,
					    ib_wc_status_msg(wc->status));
			tsor_link_kill(l, TSOR_FALLBACK_LINK_DOWN);
		}
		return;
	}
	if (wc->opcode == IB_WC_RECV_RDMA_WITH_IMM) {
		u32 imm = be32_to_cpu(wc->ex.imm_data);

		spin_lock_bh(&l->lock);
		tsor_link_rx_data(l, imm & TSOR_IMM_CHAN_MASK, wc->byte_len,
				  imm & TSOR_IMM_FIN);
		spin_unlock_bh(&l->lock);
	} else if (wc->opcode == IB_WC_RECV &&
		   wc->byte_len >= sizeof(struct tsor_msg_hdr)) {
		ib_dma_sync_single_for_cpu(l->ibdev, rx->dma, TSOR_MSG_SIZE,
					   DMA_FROM_DEVICE);
		m = rx->msg;
		if (wc->byte_len < TSOR_MSG_SIZE)
			memset(m.raw + wc->byte_len, 0,
			       TSOR_MSG_SIZE - wc->byte_len);
		ib_dma_sync_single_for_device(l->ibdev, rx->dma, TSOR_MSG_SIZE,
					      DMA_FROM_DEVICE);
		msg = true;
	}
	/* Repost first: the peer may be waiting for receive buffers. */
	if (tsor_lrx_post(l, rx))
		tsor_link_kill(l, TSOR_FALLBACK_LINK_DOWN);
	if (msg)
		tsor_link_rx_msg(l, &m);
}

/* Device resources of a link */

static void tsor_link_err_work(struct work_struct *work)
{
	struct tsor_link *l = container_of(work, struct tsor_link, err_work);

	tsor_link_kill(l, TSOR_FALLBACK_LINK_DOWN);
	tsor_link_put(l);
}

/* May come in any context: the kill is left to a work. */
static void tsor_link_qp_event(struct ib_event *ev, void *ctx)
{
	struct tsor_link *l = ctx;

	switch (ev->event) {
	case IB_EVENT_COMM_EST:
		/* Data before the CM's RTU: rdma_cm must move the QP on. */
		rdma_notify(l->id, ev->event);
		break;
	case IB_EVENT_QP_FATAL:
	case IB_EVENT_QP_REQ_ERR:
	case IB_EVENT_QP_ACCESS_ERR:
		pr_warn_ratelimited("link QP error: %s\n",
				    ib_event_msg(ev->event));
		tsor_link_queue(l, &l->err_work);
		break;
	default:
		break;
	}
}

/* Frees the link's QP, CQ and receive buffers; the QP is drained. */
static void tsor_link_free_res(struct tsor_link *l)
{
	u32 i;

	if (l->qp) {
		rdma_destroy_qp(l->id);
		l->qp = NULL;
	}
	if (l->cq) {
		ib_free_cq(l->cq);
		l->cq = NULL;
	}
	if (l->rx) {
		for (i = 0; i < l->nrx; i++)
			if (l->rx[i].dma)
				ib_dma_unmap_single(l->ibdev, l->rx[i].dma,
						    TSOR_MSG_SIZE,
						    DMA_FROM_DEVICE);
		kfree(l->rx);
		l->rx = NULL;
	}
	/* Its QP is gone, and every MR of its channels was deregistered. */
	if (l->pd) {
		ib_dealloc_pd(l->pd);
		l->pd = NULL;
	}
}

/* Makes the QP on the device rdma_cm resolved; res_sem held. */
static int tsor_link_setup(struct tsor_link *l)
{
	struct ib_device *ibdev = l->id->device;
	struct ib_qp_init_attr qa = {};
	struct ib_pd *pd;
	u32 sq, rq, i;
	int err;

	/* Seen by tsor_link_dev_removed() before the PD is looked up. */
	spin_lock_bh(&tsor_links_lock);
	l->ibdev = ibdev;
	spin_unlock_bh(&tsor_links_lock);
	if (!tsor_dev_pd(ibdev))
		return -ENODEV;
	/*
	 * A protection domain of the link's own: the rkeys of its channels'
	 * rings are valid only for requests that arrive on its QP, so a peer
	 * that learns or guesses another link's rkey and address still
	 * cannot write there (docs/rdma-link.md, "Memory").
	 */
	pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(pd))
		return PTR_ERR(pd);
	l->pd = pd;

	sq = min_t(u32, TSOR_LINK_SQ, ibdev->attrs.max_qp_wr - 1);
	rq = min_t(u32, TSOR_LINK_RQ, ibdev->attrs.max_qp_wr - 1);
	l->cq = ib_alloc_cq(ibdev, l, sq + rq + 2, 0, IB_POLL_SOFTIRQ);
	if (IS_ERR(l->cq)) {
		err = PTR_ERR(l->cq);
		l->cq = NULL;
		return err;
	}
	qa.event_handler = tsor_link_qp_event;
	qa.qp_context = l;
	qa.send_cq = l->cq;
	qa.recv_cq = l->cq;
	/* One more of each for ib_drain_qp(). */
	qa.cap.max_send_wr = sq + 1;
	qa.cap.max_recv_wr = rq + 1;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	qa.sq_sig_type = IB_SIGNAL_REQ_WR;
	qa.qp_type = IB_QPT_RC;
	err = rdma_create_qp(l->id, l->pd, &qa);
	if (err)
		return err;
	l->qp = l->id->qp;
	l->sq_free = sq;
	l->sq_size = sq;

	l->rx = kcalloc(rq, sizeof(*l->rx), GFP_KERNEL);
	if (!l->rx)
		return -ENOMEM;
	l->nrx = rq;
	for (i = 0; i < rq; i++) {
		struct tsor_lrx *rx = &l->rx[i];
		u64 dma;

		dma = ib_dma_map_single(ibdev, &rx->msg, TSOR_MSG_SIZE,
					DMA_FROM_DEVICE);
		if (ib_dma_mapping_error(ibdev, dma))
			return -ENOMEM;
		rx->dma = dma;
		rx->link = l;
		rx->cqe.done = tsor_lrx_done;
	}
	for (i = 0; i < rq; i++) {
		err = tsor_lrx_post(l, &l->rx[i]);
		if (err)
			return err;
	}
	return 0;
}

static void tsor_link_conn_param(struct rdma_conn_param *p,
				 const struct tsor_link_hello *hello)
{
	memset(p, 0, sizeof(*p));
	p->private_data = hello;
	p->private_data_len = sizeof(*hello);
	p->responder_resources = 1;
	p->initiator_depth = 1;
	p->retry_count = 7;
	/* Receivers repost at once; an empty queue is only a brief wait. */
	p->rnr_retry_count = 7;
}

static const struct tsor_link_hello tsor_hello = {
	.magic = cpu_to_be32(TSOR_LINK_MAGIC),
	.version = TSOR_LINK_VERSION,
};

/* Channels */

static void tsor_lchan_ans_work(struct work_struct *work);
static void tsor_lchan_release_work(struct work_struct *work);

static struct tsor_lchan *tsor_lchan_new(struct tsor_link *l)
{
	struct tsor_lchan *lc = kzalloc(sizeof(*lc), GFP_KERNEL);

	if (!lc)
		return NULL;
	lc->close_tx = tsor_ltx_alloc(l, GFP_KERNEL);
	if (!lc->close_tx) {
		kfree(lc);
		return NULL;
	}
	refcount_set(&lc->ref, 1);
	refcount_inc(&l->ref);
	lc->link = l;
	INIT_LIST_HEAD(&lc->kill_node);
	INIT_WORK(&lc->ans_work, tsor_lchan_ans_work);
	INIT_WORK(&lc->release_work, tsor_lchan_release_work);
	return lc;
}

/* Frees what @lc holds of the device; res_sem held. */
static void tsor_lchan_free_res(struct tsor_lchan *lc)
{
	struct tsor_link *l = lc->link;

	if (lc->mr) {
		/* The ring is no longer writable from anywhere. */
		ib_dereg_mr(lc->mr);
		lc->mr = NULL;
	}
	if (lc->rx_mapped) {
		ib_dma_unmap_sg(l->ibdev, &lc->rx_sg, 1, DMA_FROM_DEVICE);
		lc->rx_mapped = false;
	}
	if (lc->tx_mapped) {
		ib_dma_unmap_single(l->ibdev, lc->tx_dma, lc->tx_size,
				    DMA_TO_DEVICE);
		lc->tx_mapped = false;
	}
}

static void tsor_lchan_release_work(struct work_struct *work)
{
	struct tsor_lchan *lc = container_of(work, struct tsor_lchan,
					     release_work);
	struct tsor_link *l = lc->link;
	struct tsor_channel *ch = lc->ch;

	down_read(&l->res_sem);
	tsor_lchan_free_res(lc);
	up_read(&l->res_sem);

	spin_lock_bh(&l->lock);
	if (lc->id) {
		xa_erase(&l->chans, lc->id);
		l->nchans--;
	}
	spin_unlock_bh(&l->lock);

	/* Its staging buffer goes with it; the channel is done with it. */
	ch->tx_buf = NULL;
	lc->ch = NULL;
	tsor_link_up->released(ch);
	tsor_channel_put(ch);
	tsor_lchan_put(lc);
	tsor_link_put(l);
}

/*
 * Releases @lc once neither side can touch the rings: closed here, and
 * either never opened, or the peer's CLOSE came and ours went out (the
 * peer writes nothing after its CLOSE, and ours completes after our last
 * write), or the link is drained.  link->lock held.
 */
static void tsor_lchan_maybe_release(struct tsor_lchan *lc)
{
	struct tsor_link *l = lc->link;

	lockdep_assert_held(&l->lock);
	if (lc->release_queued || !lc->closed)
		return;
	if (lc->state == TSOR_LC_OPEN && !l->drained &&
	    !(lc->close_done && lc->peer_gone))
		return;
	lc->release_queued = true;
	/* The table's reference on @lc goes to the work. */
	tsor_link_queue(l, &lc->release_work);
}

/* Registers @lc's ring for remote writes; res_sem held, link alive. */
static int tsor_lchan_rx_setup(struct tsor_lchan *lc, struct tsor_ltx *tx)
{
	struct tsor_link *l = lc->link;
	struct ib_device *ibdev = l->ibdev;
	u32 size = lc->ch->rx.size;
	u32 ps = PAGE_SIZE;
	struct ib_mr *mr;

	sg_init_one(&lc->rx_sg, lc->ch->rx_buf, size);
	if (!ib_dma_map_sg(ibdev, &lc->rx_sg, 1, DMA_FROM_DEVICE))
		return -ENOMEM;
	lc->rx_mapped = true;

	/*
	 * The ring is physically contiguous and aligned to its size, so a
	 * page size up to the ring's own keeps the page list short.
	 */
	while (size / ps > ibdev->attrs.max_fast_reg_page_list_len && ps < size)
		ps <<= 1;
	if (!(ibdev->attrs.page_size_cap & ps) ||
	    size / ps > ibdev->attrs.max_fast_reg_page_list_len)
		return -EOPNOTSUPP;
	mr = ib_alloc_mr(l->pd, IB_MR_TYPE_MEM_REG, size / ps);
	if (IS_ERR(mr))
		return PTR_ERR(mr);
	lc->mr = mr;
	if (ib_map_mr_sg(mr, &lc->rx_sg, 1, NULL, ps) != 1)
		return -EINVAL;

	tx->reg.wr.opcode = IB_WR_REG_MR;
	tx->reg.wr.send_flags = IB_SEND_SIGNALED;
	tx->reg.wr.wr_cqe = &tx->cqe;
	tx->reg.mr = mr;
	tx->reg.key = mr->rkey;
	/* Remote write needs local write; nothing may read it remotely. */
	tx->reg.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE;
	return 0;
}

static void tsor_lchan_ring(const struct tsor_lchan *lc,
			    struct tsor_wire_ring *ring)
{
	ring->addr = cpu_to_be64(lc->mr->iova);
	ring->rkey = cpu_to_be32(lc->mr->rkey);
	ring->size = cpu_to_be32(lc->ch->rx.size);
}

/* Maps a staging buffer of @size bytes for sending; res_sem held. */
static int tsor_lchan_tx_setup(struct tsor_lchan *lc, u32 size)
{
	struct tsor_link *l = lc->link;
	u64 dma;

	if (!lc->tx_buf) {
		lc->tx_size = size;
		lc->tx_buf = tsor_buf_alloc(&lc->tx_size, size, GFP_KERNEL);
		if (!lc->tx_buf)
			return -ENOMEM;
	}
	dma = ib_dma_map_single(l->ibdev, lc->tx_buf, lc->tx_size,
				DMA_TO_DEVICE);
	if (ib_dma_mapping_error(l->ibdev, dma))
		return -ENOMEM;
	lc->tx_dma = dma;
	lc->tx_mapped = true;
	return 0;
}

static void tsor_wire_addr_put(struct tsor_wire_addr *w,
			       const struct tsor_addr *a)
{
	w->family = a->family;
	memcpy(w->raw, a->raw, sizeof(w->raw));
}

static void tsor_wire_addr_get(struct tsor_addr *a,
			       const struct tsor_wire_addr *w)
{
	memset(a, 0, sizeof(*a));
	a->family = w->family;
	if (a->family == AF_INET)
		memcpy(a->raw, w->raw, 4);
	else if (a->family == AF_INET6)
		memcpy(a->raw, w->raw, 16);
}

/* Client: registers the ring and sends PAIR_REQ; res_sem held, link up. */
static int tsor_lchan_ask(struct tsor_lchan *lc)
{
	struct tsor_link *l = lc->link;
	struct tsor_msg_pair_req *m;
	struct tsor_ltx *tx;
	int err;

	tx = tsor_ltx_alloc(l, GFP_KERNEL);
	if (!tx)
		return -ENOMEM;
	err = tsor_lchan_rx_setup(lc, tx);
	if (err)
		goto fail;
	m = &tx->msg.req;
	m->hdr.type = TSOR_MSG_PAIR_REQ;
	m->cchan = cpu_to_be32(lc->id);
	m->snd_nxt = cpu_to_be32(lc->req.proof.snd_nxt);
	m->rcv_nxt = cpu_to_be32(lc->req.proof.rcv_nxt);
	m->sport = lc->req.sport;
	m->dport = lc->req.dport;
	tsor_wire_addr_put(&m->saddr, &lc->req.saddr);
	tsor_wire_addr_put(&m->daddr, &lc->req.daddr);
	tsor_lchan_ring(lc, &m->ring);

	err = tsor_link_post_msg(l, tx);
	if (!err)
		return 0;
fail:
	tsor_ltx_free(tx);
	return err;
}

/* Client: the link came up; ask for the channels that waited for it. */
static void tsor_link_up_work(struct work_struct *work)
{
	struct tsor_link *l = container_of(work, struct tsor_link, up_work);
	struct tsor_lchan *lc, *tmp;
	unsigned long idx;
	LIST_HEAD(ask);

	down_read(&l->res_sem);
	spin_lock_bh(&l->lock);
	if (!l->dead) {
		xa_for_each(&l->chans, idx, lc) {
			if (lc->state != TSOR_LC_WAIT_LINK)
				continue;
			lc->state = TSOR_LC_ASKED;
			refcount_inc(&lc->ref);
			list_add_tail(&lc->kill_node, &ask);
		}
	}
	spin_unlock_bh(&l->lock);

	list_for_each_entry_safe(lc, tmp, &ask, kill_node) {
		int err;

		list_del_init(&lc->kill_node);
		err = tsor_lchan_ask(lc);
		if (err) {
			struct tsor_pair_ans ans = {
				.reason = err == -ENOMEM ? TSOR_FALLBACK_NOMEM :
					  TSOR_FALLBACK_LINK_DOWN,
			};
			bool answer;

			spin_lock_bh(&l->lock);
			answer = lc->state == TSOR_LC_ASKED;
			if (answer)
				lc->state = TSOR_LC_DONE;
			spin_unlock_bh(&l->lock);
			if (answer)
				tsor_link_up->answered(lc->ch, &ans);
		}
		tsor_lchan_put(lc);
	}
	up_read(&l->res_sem);
	tsor_link_put(l);
}

/* Client: the server's answer, in process context. */
static void tsor_lchan_ans_work(struct work_struct *work)
{
	struct tsor_lchan *lc = container_of(work, struct tsor_lchan, ans_work);
	struct tsor_link *l = lc->link;
	struct tsor_channel *ch = lc->ch;
	struct tsor_pair_ans ans;
	bool mine;

	down_read(&l->res_sem);
	spin_lock_bh(&l->lock);
	mine = lc->state == TSOR_LC_ANSWERED && !l->dead;
	ans = lc->ans;
	spin_unlock_bh(&l->lock);
	/* Otherwise the link went down, and said so. */
	if (!mine)
		goto out;

	if (ans.reason == TSOR_FALLBACK_NONE) {
		if (!is_power_of_2(ans.ring_size) ||
		    ans.ring_size < TSOR_RING_MIN ||
		    ans.ring_size > TSOR_RING_MAX) {
			ans.reason = TSOR_FALLBACK_REFUSED;
		} else if (tsor_lchan_tx_setup(lc, ans.ring_size)) {
			ans.reason = TSOR_FALLBACK_NOMEM;
		} else {
			ch->tx_buf = lc->tx_buf;
			ch->tx.size = lc->tx_size;
		}
		/* The server holds a channel for us: let it go. */
		if (ans.reason != TSOR_FALLBACK_NONE)
			tsor_link_send(l, TSOR_MSG_CANCEL, 0, lc->peer_id, NULL);
	}
	if (ans.reason != TSOR_FALLBACK_NONE) {
		spin_lock_bh(&l->lock);
		lc->state = TSOR_LC_DONE;
		spin_unlock_bh(&l->lock);
	}
	/* confirm() and close() come from in here. */
	tsor_link_up->answered(ch, &ans);
out:
	up_read(&l->res_sem);
	tsor_lchan_put(lc);
	tsor_link_put(l);
}

/* Server: a pairing request, in process context. */
static void tsor_link_serve_work(struct work_struct *work)
{
	struct tsor_lserve *s = container_of(work, struct tsor_lserve, work);
	const struct tsor_msg_pair_req *m = &s->msg;
	struct tsor_link *l = s->link;
	u32 cchan = be32_to_cpu(m->cchan) & TSOR_IMM_CHAN_MASK;
	struct tsor_pair_ans ans = { .reason = TSOR_FALLBACK_REFUSED };
	struct tsor_channel *ch = NULL;
	struct tsor_pair_req req = {};
	struct tsor_lchan *lc = NULL;
	union tsor_msg reply = {};
	struct tsor_ltx *tx = NULL;
	int err;

	tsor_wire_addr_get(&req.saddr, &m->saddr);
	tsor_wire_addr_get(&req.daddr, &m->daddr);
	req.sport = m->sport;
	req.dport = m->dport;
	req.proof.snd_nxt = be32_to_cpu(m->snd_nxt);
	req.proof.rcv_nxt = be32_to_cpu(m->rcv_nxt);
	req.ring_size = be32_to_cpu(m->ring.size);
	req.node = l->remote;
	if (!is_power_of_2(req.ring_size) || req.ring_size < TSOR_RING_MIN ||
	    req.ring_size > TSOR_RING_MAX) {
		/* Malformed: counted as pair.c counts a bad ring size. */
		tsor_stat_inc(tsor_net(&init_net), TSOR_STAT_PAIR_DENY_PROOF);
		goto refuse;
	}
	/* Before any work; checked again once the channel is counted. */
	if (tsor_link_over(READ_ONCE(l->nchans) + 1)) {
		ans.reason = TSOR_FALLBACK_LINK_FULL;
		goto refuse;
	}

	ans.reason = TSOR_FALLBACK_NOMEM;
	lc = tsor_lchan_new(l);
	tx = tsor_ltx_alloc(l, GFP_KERNEL);
	if (!lc || !tx)
		goto refuse;
	/* The staging buffer first: a channel once served is hard to undo. */
	lc->tx_size = req.ring_size;
	lc->tx_buf = tsor_buf_alloc(&lc->tx_size, req.ring_size, GFP_KERNEL);
	if (!lc->tx_buf)
		goto refuse;

	ch = tsor_link_up->serve(&req, &tsor_rdma_transport, &ans);
	if (!ch)
		goto refuse;
	/* serve()'s reference is ours. */
	lc->ch = ch;
	lc->peer_id = cchan;
	lc->peer_ring = m->ring;
	lc->state = TSOR_LC_SERVED;
	ch->xp_priv = lc;
	ch->tx_buf = lc->tx_buf;

	down_read(&l->res_sem);
	err = l->dead ? -ECONNRESET : 0;
	if (!err)
		err = xa_alloc(&l->chans, &lc->id, lc,
			       XA_LIMIT(1, TSOR_CHAN_MAX), GFP_KERNEL);
	if (!err) {
		spin_lock_bh(&l->lock);
		l->nchans++;
		if (tsor_link_over(l->nchans))
			err = -EBUSY;
		spin_unlock_bh(&l->lock);
	}
	if (!err)
		err = tsor_lchan_rx_setup(lc, tx);
	if (!err)
		err = tsor_lchan_tx_setup(lc, lc->tx_size);
	if (!err) {
		struct tsor_msg_pair_ans *a = &tx->msg.ans;

		a->hdr.type = TSOR_MSG_PAIR_ANS;
		a->hdr.chan = cpu_to_be32(cchan);
		a->schan = cpu_to_be32(lc->id);
		a->y = cpu_to_be32(ans.y);
		a->reason = TSOR_FALLBACK_NONE;
		a->fin = ans.fin;
		tsor_lchan_ring(lc, &a->ring);
		err = tsor_link_post_msg(l, tx);
		if (!err)
			tx = NULL;
	}
	if (err) {
		/*
		 * Served but never answered: the channel is cancelled, and
		 * ours to release.  A live link still tells the client.
		 */
		tsor_link_up->confirmed(ch, -ECONNREFUSED);
		spin_lock_bh(&l->lock);
		lc->state = TSOR_LC_DONE;
		lc->closed = true;
		tsor_lchan_maybe_release(lc);
		spin_unlock_bh(&l->lock);
		lc = NULL;
		ans.reason = err == -ENOMEM ? TSOR_FALLBACK_NOMEM :
			     err == -EBUSY ? TSOR_FALLBACK_LINK_FULL :
			     TSOR_FALLBACK_LINK_DOWN;
		up_read(&l->res_sem);
		goto refuse;
	}
	up_read(&l->res_sem);
	goto out;

refuse:
	if (lc)
		tsor_lchan_put(lc);
	reply.ans.reason = ans.reason == TSOR_FALLBACK_NONE ?
			   TSOR_FALLBACK_REFUSED : ans.reason;
	tsor_link_send(l, TSOR_MSG_PAIR_ANS, 0, cchan, &reply);
out:
	if (tx)
		tsor_ltx_free(tx);
	kfree(s);
	tsor_link_put(l);
}

static void tsor_link_serve_queue(struct tsor_link *l,
				  const struct tsor_msg_pair_req *m)
{
	struct tsor_lserve *s = kmalloc(sizeof(*s), GFP_ATOMIC);

	/* Without memory the client times out and stays TCP. */
	if (!s)
		return;
	INIT_WORK(&s->work, tsor_link_serve_work);
	s->link = l;
	s->msg = *m;
	refcount_inc(&l->ref);
	queue_work(tsor_link_wq, &s->work);
}

/* Links */

static void tsor_lchan_link_down(struct tsor_lchan *lc)
{
	struct tsor_link *l = lc->link;
	struct tsor_pair_ans ans = { .reason = l->reason };
	bool answer = false, cancel = false;

	spin_lock_bh(&l->lock);
	switch (lc->state) {
	case TSOR_LC_WAIT_LINK:
	case TSOR_LC_ASKED:
	case TSOR_LC_ANSWERED:
		lc->state = TSOR_LC_DONE;
		answer = true;
		break;
	case TSOR_LC_SERVED:
		lc->state = TSOR_LC_DONE;
		cancel = true;
		break;
	case TSOR_LC_OPEN:
		/*
		 * The link, not the peer, failed: the connection may go on
		 * over TCP.  A peer whose CLOSE came is gone, and resets.
		 */
		if (!lc->closed)
			tsor_link_up->peer_closed(lc->ch, lc->peer_gone ?
						  -ECONNRESET : -ENOLINK);
		break;
	case TSOR_LC_DONE:
		break;
	}
	if (!answer && !cancel)
		tsor_lchan_maybe_release(lc);
	spin_unlock_bh(&l->lock);

	if (answer)
		tsor_link_up->answered(lc->ch, &ans);
	if (cancel) {
		/* The answer left: the client may be using the ring already. */
		tsor_link_up->confirmed(lc->ch, -ECONNRESET);
		spin_lock_bh(&l->lock);
		lc->closed = true;
		tsor_lchan_maybe_release(lc);
		spin_unlock_bh(&l->lock);
	}
}

static void tsor_link_unlist(struct tsor_link *l)
{
	bool listed;

	spin_lock_bh(&tsor_links_lock);
	listed = !list_empty(&l->node);
	list_del_init(&l->node);
	spin_unlock_bh(&tsor_links_lock);
	if (listed)
		tsor_link_put(l);
}

static void tsor_link_kill_work(struct work_struct *work)
{
	struct tsor_link *l = container_of(work, struct tsor_link, kill_work);
	struct tsor_lchan *lc, *ltmp;
	struct tsor_ltx *tx, *ttmp;
	struct rdma_cm_id *id;
	unsigned long idx;
	LIST_HEAD(backlog);
	LIST_HEAD(chans);

	if (cancel_delayed_work(&l->dial_work))
		tsor_link_put(l);
	/* Dead now: a watch still running does not arm itself again. */
	if (cancel_delayed_work(&l->watch_work))
		tsor_link_put(l);

	down_write(&l->res_sem);
	if (l->qp && l->connected) {
		rdma_disconnect(l->id);
		ib_drain_qp(l->qp);
	}
	spin_lock_bh(&l->lock);
	l->drained = true;
	list_splice_init(&l->backlog, &backlog);
	xa_for_each(&l->chans, idx, lc) {
		refcount_inc(&lc->ref);
		list_add_tail(&lc->kill_node, &chans);
	}
	spin_unlock_bh(&l->lock);
	list_for_each_entry_safe(tx, ttmp, &backlog, node) {
		list_del_init(&tx->node);
		tsor_ltx_free(tx);
	}
	/*
	 * The QP before the MRs: rxe's responder keeps the MR of a write it
	 * was taking when the QP failed until the QP goes, and deregistering
	 * that MR first waits for it (50 s, then a WARN in rxe_pool.c).
	 */
	if (l->qp) {
		rdma_destroy_qp(l->id);
		l->qp = NULL;
	}
	list_for_each_entry(lc, &chans, kill_node)
		tsor_lchan_free_res(lc);
	tsor_link_free_res(l);
	id = l->id;
	l->id = NULL;
	spin_lock_bh(&tsor_links_lock);
	l->ibdev = NULL;
	spin_unlock_bh(&tsor_links_lock);
	up_write(&l->res_sem);
	if (id)
		rdma_destroy_id(id);

	/* Accepted links are not remembered; a failed dial is, for a while. */
	if (l->passive)
		tsor_link_unlist(l);

	list_for_each_entry_safe(lc, ltmp, &chans, kill_node) {
		list_del_init(&lc->kill_node);
		tsor_lchan_link_down(lc);
		tsor_lchan_put(lc);
	}
	tsor_link_put(l);
}

static void tsor_link_dial_timeout(struct work_struct *work)
{
	struct tsor_link *l = container_of(to_delayed_work(work),
					   struct tsor_link, dial_work);

	spin_lock_bh(&l->lock);
	if (l->state == TSOR_LINK_CONNECTING) {
		pr_info("link to %*phN: no answer in %u ms\n",
			l->remote.family == AF_INET ? 4 : 16, l->remote.raw,
			dial_timeout_ms);
		tsor_link_kill_locked(l, TSOR_FALLBACK_PEER_NO_TSOR);
	}
	spin_unlock_bh(&l->lock);
	tsor_link_put(l);
}

static void tsor_link_watch(struct work_struct *work);

static struct tsor_link *tsor_link_alloc(void)
{
	struct tsor_link *l = kzalloc(sizeof(*l), GFP_KERNEL);

	if (!l)
		return NULL;
	refcount_set(&l->ref, 1);
	INIT_LIST_HEAD(&l->node);
	spin_lock_init(&l->lock);
	l->state = TSOR_LINK_CONNECTING;
	INIT_LIST_HEAD(&l->backlog);
	xa_init_flags(&l->chans, XA_FLAGS_ALLOC1);
	init_rwsem(&l->res_sem);
	INIT_WORK(&l->up_work, tsor_link_up_work);
	INIT_WORK(&l->kill_work, tsor_link_kill_work);
	INIT_WORK(&l->err_work, tsor_link_err_work);
	INIT_DELAYED_WORK(&l->dial_work, tsor_link_dial_timeout);
	INIT_DELAYED_WORK(&l->watch_work, tsor_link_watch);
	atomic_inc(&tsor_links_count);
	return l;
}

/* Puts @l on the list, which holds a reference; false once unloading. */
static bool tsor_link_list(struct tsor_link *l)
{
	bool live;

	spin_lock_bh(&tsor_links_lock);
	live = tsor_links_live;
	if (live) {
		refcount_inc(&l->ref);
		list_add_tail(&l->node, &tsor_links);
	}
	spin_unlock_bh(&tsor_links_lock);
	return live;
}

static void tsor_link_arm_timeout(struct tsor_link *l)
{
	refcount_inc(&l->ref);
	if (!queue_delayed_work(tsor_link_wq, &l->dial_work,
				msecs_to_jiffies(dial_timeout_ms)))
		tsor_link_put(l);
}

/*
 * The link's watchdog.  RC retries end in an error completion, which takes
 * a link down, but a QP can also stall without one (rxe after its netdev
 * went down and up), and a link with nothing to send never learns that
 * its peer died.  So: a send outstanding for link_timeout_ms without any
 * completion takes the link down, and an idle link sends a NOP every
 * half of that, which the same rule then covers.
 */
static void tsor_link_watch_arm(struct tsor_link *l)
{
	unsigned int ms = READ_ONCE(link_timeout_ms);

	lockdep_assert_held(&l->lock);
	if (l->dead || !ms)
		return;
	refcount_inc(&l->ref);
	if (!queue_delayed_work(tsor_link_wq, &l->watch_work,
				msecs_to_jiffies(max(ms / 4, 250U))))
		refcount_dec(&l->ref);	/* never the last: the caller has one */
}

static void tsor_link_watch(struct work_struct *work)
{
	struct tsor_link *l = container_of(to_delayed_work(work),
					   struct tsor_link, watch_work);
	unsigned long limit = msecs_to_jiffies(READ_ONCE(link_timeout_ms));
	bool probe = false;

	spin_lock_bh(&l->lock);
	if (!l->dead && l->connected && limit) {
		if (l->sq_free < l->sq_size &&
		    time_after(jiffies, l->last_done + limit)) {
			pr_warn("link to %*phN: no send completed in %u ms, taking it down\n",
				l->remote.family == AF_INET ? 4 : 16,
				l->remote.raw, jiffies_to_msecs(limit));
			tsor_link_kill_locked(l, TSOR_FALLBACK_LINK_DOWN);
		} else if (l->sq_free == l->sq_size &&
			   time_after(jiffies, l->last_done + limit / 2)) {
			/* Its completion (or none) moves last_done. */
			probe = true;
		}
	}
	tsor_link_watch_arm(l);
	spin_unlock_bh(&l->lock);
	if (probe)
		tsor_link_send(l, TSOR_MSG_NOP, 0, 0, NULL);
	tsor_link_put(l);
}

static void tsor_link_established(struct tsor_link *l)
{
	bool up;

	spin_lock_bh(&l->lock);
	up = !l->dead;
	if (up) {
		tsor_stat_inc(tsor_net(&init_net), TSOR_STAT_LINK_UP);
		l->state = TSOR_LINK_UP;
		l->connected = true;
		l->last_done = jiffies;
		tsor_link_backlog_locked(l);
		tsor_link_watch_arm(l);
	}
	spin_unlock_bh(&l->lock);
	if (!up)
		return;
	if (cancel_delayed_work(&l->dial_work))
		tsor_link_put(l);
	/* Our own pairings may have found an accepted link connecting, too. */
	tsor_link_queue(l, &l->up_work);
}

/* Active side, in the ROUTE_RESOLVED handler: QP, then connect. */
static int tsor_link_connect(struct tsor_link *l)
{
	struct rdma_conn_param param;
	int err;

	down_read(&l->res_sem);
	err = l->dead ? -ECONNRESET : tsor_link_setup(l);
	if (!err) {
		tsor_addr_from_sockaddr(&l->local,
					(struct sockaddr *)&l->id->route.addr.src_addr);
		tsor_link_conn_param(&param, &tsor_hello);
		err = rdma_connect_locked(l->id, &param);
	}
	up_read(&l->res_sem);
	return err;
}

static int tsor_link_cm_handler(struct rdma_cm_id *id,
				struct rdma_cm_event *ev)
{
	struct tsor_link *l = id->context;
	int err;

	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		err = rdma_resolve_route(id, dial_timeout_ms);
		if (err)
			tsor_link_kill(l, TSOR_FALLBACK_LINK_DOWN);
		break;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		err = tsor_link_connect(l);
		if (err)
			tsor_link_kill(l, err == -ENODEV ?
				       TSOR_FALLBACK_NO_DEVICE :
				       TSOR_FALLBACK_LINK_DOWN);
		break;
	case RDMA_CM_EVENT_ESTABLISHED:
		tsor_link_established(l);
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
		/* No RDMA device here reaches that address. */
		tsor_link_kill(l, TSOR_FALLBACK_NO_DEVICE);
		break;
	case RDMA_CM_EVENT_ROUTE_ERROR:
		tsor_link_kill(l, TSOR_FALLBACK_LINK_DOWN);
		break;
	case RDMA_CM_EVENT_REJECTED:
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_CONNECT_ERROR:
		/* Nothing listens there, or not tsor. */
		tsor_link_kill(l, TSOR_FALLBACK_PEER_NO_TSOR);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
	case RDMA_CM_EVENT_ADDR_CHANGE:
		tsor_link_kill(l, TSOR_FALLBACK_LINK_DOWN);
		break;
	default:
		break;
	}
	/* Never non-zero: kill destroys the id, from process context. */
	return 0;
}

int tsor_link_cm_request(struct rdma_cm_id *id,
			 const struct rdma_cm_event *ev)
{
	const struct tsor_link_hello *hello = ev->param.conn.private_data;
	struct rdma_conn_param param;
	struct tsor_link *l;
	int err;

	if (!READ_ONCE(tsor_link_up) ||
	    ev->param.conn.private_data_len < sizeof(*hello) || !hello ||
	    hello->magic != cpu_to_be32(TSOR_LINK_MAGIC) ||
	    hello->version != TSOR_LINK_VERSION)
		return -ECONNREFUSED;	/* rdma_cm rejects and destroys it */

	l = tsor_link_alloc();
	if (!l)
		return -ENOMEM;
	l->passive = true;
	l->id = id;
	tsor_addr_from_sockaddr(&l->remote,
				(struct sockaddr *)&id->route.addr.dst_addr);
	tsor_addr_from_sockaddr(&l->local,
				(struct sockaddr *)&id->route.addr.src_addr);
	if (!tsor_link_list(l)) {
		tsor_link_put(l);
		return -ECONNREFUSED;
	}

	down_read(&l->res_sem);
	err = tsor_link_setup(l);
	if (!err) {
		/* Its later events are the link's, not the listener's. */
		id->context = l;
		id->event_handler = tsor_link_cm_handler;
		tsor_link_conn_param(&param, &tsor_hello);
		err = rdma_accept(id, &param);
	}
	if (err) {
		/* rdma_cm destroys the id when we return non-zero. */
		spin_lock_bh(&l->lock);
		l->dead = true;
		l->drained = true;
		l->state = TSOR_LINK_DOWN;
		spin_unlock_bh(&l->lock);
		tsor_link_free_res(l);
		l->id = NULL;
		spin_lock_bh(&tsor_links_lock);
		l->ibdev = NULL;
		spin_unlock_bh(&tsor_links_lock);
		up_read(&l->res_sem);
		tsor_link_unlist(l);
		tsor_link_put(l);
		return err;
	}
	up_read(&l->res_sem);
	/* The dialler may vanish before ESTABLISHED. */
	tsor_link_arm_timeout(l);
	tsor_link_put(l);
	return 0;
}

/* Dials @node; the new link is listed and returned referenced. */
static struct tsor_link *tsor_link_dial(const struct tsor_addr *node,
					enum tsor_fallback *reason)
{
	struct sockaddr_storage src, dst;
	struct tsor_addr local;
	bool have_src;
	struct tsor_link *l;
	int err;

	*reason = TSOR_FALLBACK_NOMEM;
	l = tsor_link_alloc();
	if (!l)
		return NULL;
	l->remote = *node;
	have_src = tsor_dev_src_addr(&local);
	if (have_src) {
		if (local.family != node->family) {
			/* The node is reached in the other family. */
			have_src = false;
		} else {
			l->local = local;
			tsor_addr_to_sockaddr(&local, 0, &src);
		}
	}
	l->id = rdma_create_id(&init_net, tsor_link_cm_handler, l,
			       RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(l->id)) {
		l->id = NULL;
		tsor_link_put(l);
		return NULL;
	}
	if (!tsor_link_list(l)) {
		rdma_destroy_id(l->id);
		l->id = NULL;
		tsor_link_put(l);
		*reason = TSOR_FALLBACK_NO_DEVICE;
		return NULL;
	}
	tsor_link_arm_timeout(l);
	tsor_addr_to_sockaddr(node, tsor_dev_port(), &dst);
	err = rdma_resolve_addr(l->id, have_src ? (struct sockaddr *)&src : NULL,
				(struct sockaddr *)&dst, dial_timeout_ms);
	if (err) {
		*reason = err == -ENODEV || err == -EADDRNOTAVAIL ?
			  TSOR_FALLBACK_NO_DEVICE : TSOR_FALLBACK_LINK_DOWN;
		tsor_link_kill(l, *reason);
		tsor_link_put(l);
		return NULL;
	}
	return l;
}

/*
 * The link to @node, referenced: one that is up or being dialled, else a
 * new dial, unless the node failed a moment ago (then NULL and *@reason).
 */
static struct tsor_link *tsor_link_get(const struct tsor_addr *node,
				       enum tsor_fallback *reason)
{
	struct tsor_link *l, *tmp, *found = NULL;
	enum tsor_fallback down = TSOR_FALLBACK_NONE;
	LIST_HEAD(expired);

	if (!tsor_dev_any()) {
		*reason = TSOR_FALLBACK_NO_DEVICE;
		return NULL;
	}
	mutex_lock(&tsor_dial_mutex);
	spin_lock_bh(&tsor_links_lock);
	list_for_each_entry_safe(l, tmp, &tsor_links, node) {
		if (memcmp(&l->remote, node, sizeof(*node)))
			continue;
		if (READ_ONCE(l->state) != TSOR_LINK_DOWN) {
			found = l;
			break;
		}
		if (time_before(jiffies, READ_ONCE(l->down_until)))
			down = READ_ONCE(l->reason);
		else if (!l->passive)	/* those its kill unlists */
			list_move(&l->node, &expired);
	}
	if (found)
		refcount_inc(&found->ref);
	spin_unlock_bh(&tsor_links_lock);
	list_for_each_entry_safe(l, tmp, &expired, node) {
		list_del_init(&l->node);
		tsor_link_put(l);
	}
	if (!found && down != TSOR_FALLBACK_NONE)
		*reason = down;
	else if (!found)
		found = tsor_link_dial(node, reason);
	mutex_unlock(&tsor_dial_mutex);
	return found;
}

/* The transport */

static int tsor_rdma_pair(struct tsor_channel *ch, const struct tsor_addr *node,
			  const struct tsor_pair_req *req,
			  enum tsor_fallback *reason)
{
	struct tsor_lchan *lc;
	struct tsor_link *l;
	bool ask = false;
	int err;

	l = tsor_link_get(node, reason);
	if (!l)
		return -ENETUNREACH;
	lc = tsor_lchan_new(l);
	if (!lc) {
		tsor_link_put(l);
		*reason = TSOR_FALLBACK_NOMEM;
		return -ENOMEM;
	}
	lc->ch = ch;
	lc->req = *req;
	lc->state = TSOR_LC_WAIT_LINK;
	ch->xp_priv = lc;

	/* Kill cannot run while we hold res_sem: it sees all or nothing. */
	down_read(&l->res_sem);
	err = l->dead ? -ECONNRESET : 0;
	if (!err)
		err = xa_alloc(&l->chans, &lc->id, lc,
			       XA_LIMIT(1, TSOR_CHAN_MAX), GFP_KERNEL);
	if (!err) {
		spin_lock_bh(&l->lock);
		l->nchans++;
		/* Counted first, so that pairings at once keep to the cap. */
		if (tsor_link_over(l->nchans)) {
			lc->state = TSOR_LC_DONE;	/* the up work skips it */
			err = -EBUSY;
		/* Up now, or the up work finds it waiting. */
		} else if (l->state == TSOR_LINK_UP) {
			lc->state = TSOR_LC_ASKED;
			ask = true;
		}
		spin_unlock_bh(&l->lock);
		if (ask)
			err = tsor_lchan_ask(lc);
	}
	if (err) {
		*reason = err == -ENOMEM ? TSOR_FALLBACK_NOMEM :
			  err == -EBUSY ? TSOR_FALLBACK_LINK_FULL : l->reason;
		if (*reason == TSOR_FALLBACK_NONE)
			*reason = TSOR_FALLBACK_LINK_DOWN;
		tsor_lchan_free_res(lc);
		if (lc->id) {
			spin_lock_bh(&l->lock);
			xa_erase(&l->chans, lc->id);
			l->nchans--;
			spin_unlock_bh(&l->lock);
		}
		up_read(&l->res_sem);
		ch->xp_priv = NULL;
		lc->ch = NULL;
		tsor_lchan_put(lc);
		tsor_link_put(l);
		return err;
	}
	/* The answer holds the channel until it was released. */
	tsor_channel_get(ch);
	up_read(&l->res_sem);
	tsor_link_put(l);
	return 0;
}

static void tsor_rdma_confirm(struct tsor_channel *ch, bool ok)
{
	struct tsor_lchan *lc = ch->xp_priv;
	struct tsor_link *l = lc->link;
	bool send;

	spin_lock_bh(&l->lock);
	send = lc->state == TSOR_LC_ANSWERED;
	if (send)
		lc->state = ok ? TSOR_LC_OPEN : TSOR_LC_DONE;
	spin_unlock_bh(&l->lock);
	/* A failure shows as the link going down, which resets the channel. */
	if (send)
		tsor_link_send(l, ok ? TSOR_MSG_CONFIRM : TSOR_MSG_CANCEL, 0,
			       lc->peer_id, NULL);
}

static int tsor_rdma_write(struct tsor_channel *ch, const struct tsor_span *span,
			   int n, bool fin)
{
	struct tsor_lchan *lc = ch->xp_priv;
	struct tsor_link *l = lc->link;
	u64 raddr = be64_to_cpu(lc->peer_ring.addr);
	u32 rkey = be32_to_cpu(lc->peer_ring.rkey);
	struct tsor_ltx *tx;
	int i, err;

	if (!n) {
		union tsor_msg m = {};

		if (!fin)
			return 0;
		/* No write comes after a FIN: the cursor is final. */
		m.fin.prod = cpu_to_be32(READ_ONCE(ch->tx.prod));
		return tsor_link_send(l, TSOR_MSG_FIN, TSOR_MSGF_FIN_AT,
				      lc->peer_id, &m);
	}
	tx = tsor_ltx_alloc(l, GFP_ATOMIC);
	if (!tx)
		return -ENOMEM;
	tx->cqe.done = tsor_ltx_done;
	for (i = 0; i < n; i++) {
		struct ib_rdma_wr *wr = &tx->wr[i];
		u32 imm = lc->peer_id;

		/* FIN rides on the last write, so it cannot pass the data. */
		if (fin && i == n - 1)
			imm |= TSOR_IMM_FIN;
		tx->sge[i].addr = lc->tx_dma + span[i].off;
		tx->sge[i].length = span[i].len;
		tx->sge[i].lkey = 0;
		wr->wr.opcode = IB_WR_RDMA_WRITE_WITH_IMM;
		wr->wr.send_flags = IB_SEND_SIGNALED;
		wr->wr.wr_cqe = &tx->cqe;
		wr->wr.ex.imm_data = cpu_to_be32(imm);
		wr->wr.sg_list = &tx->sge[i];
		wr->wr.num_sge = 1;
		wr->wr.next = i + 1 < n ? &tx->wr[i + 1].wr : NULL;
		wr->remote_addr = raddr + span[i].off;
		wr->rkey = rkey;
	}
	tx->first = &tx->wr[0].wr;
	tx->nwr = n;
	tx->pending = n;

	spin_lock_bh(&l->lock);
	err = -ECONNRESET;
	if (!l->dead && lc->state == TSOR_LC_OPEN && lc->tx_mapped) {
		for (i = 0; i < n; i++) {
			tx->sge[i].lkey = l->pd->local_dma_lkey;
			ib_dma_sync_single_for_device(l->ibdev,
						      tx->sge[i].addr,
						      span[i].len,
						      DMA_TO_DEVICE);
		}
		err = tsor_link_post_locked(l, tx);
	}
	/*
	 * A dying link: the bytes stay in the staging buffer, and the
	 * channel may still send them over TCP (peer_closed(-ENOLINK)).
	 */
	if (err && l->dead)
		err = -ENOLINK;
	spin_unlock_bh(&l->lock);
	if (err)
		tsor_ltx_free(tx);
	return err;
}

static int tsor_rdma_credit(struct tsor_channel *ch, u32 cons)
{
	struct tsor_lchan *lc = ch->xp_priv;
	union tsor_msg m = {};

	m.credit.cons = cpu_to_be32(cons);
	return tsor_link_send(lc->link, TSOR_MSG_CREDIT, 0, lc->peer_id, &m);
}

static void tsor_rdma_close(struct tsor_channel *ch, bool abort)
{
	struct tsor_lchan *lc = ch->xp_priv;
	struct tsor_link *l = lc->link;
	struct tsor_ltx *tx = NULL;

	spin_lock_bh(&l->lock);
	lc->closed = true;
	if (lc->state == TSOR_LC_OPEN && !l->dead && lc->close_tx) {
		/* After our last write, which it cannot pass. */
		tx = lc->close_tx;
		lc->close_tx = NULL;
		tx->msg.hdr.type = TSOR_MSG_CLOSE;
		tx->msg.hdr.flags = abort ? TSOR_MSGF_ABORT : 0;
		tx->msg.hdr.chan = cpu_to_be32(lc->peer_id);
		tx->close_lc = lc;
		refcount_inc(&lc->ref);
		if (!tsor_ltx_msg_locked(l, tx) && !tsor_link_post_locked(l, tx))
			tx = NULL;
		else
			tsor_link_kill_locked(l, TSOR_FALLBACK_LINK_DOWN);
	}
	tsor_lchan_maybe_release(lc);
	spin_unlock_bh(&l->lock);
	if (tx)
		tsor_ltx_free(tx);
}

const struct tsor_transport tsor_rdma_transport = {
	.name = "rdma",
	.path = TSOR_PATH_RDMA,
	.pair = tsor_rdma_pair,
	.confirm = tsor_rdma_confirm,
	.write = tsor_rdma_write,
	.credit = tsor_rdma_credit,
	.close = tsor_rdma_close,
};

void tsor_link_dev_removed(struct ib_device *ibdev)
{
	struct tsor_link *l, *found;

	for (;;) {
		found = NULL;
		spin_lock_bh(&tsor_links_lock);
		list_for_each_entry(l, &tsor_links, node) {
			if (l->ibdev == ibdev) {
				found = l;
				refcount_inc(&l->ref);
				break;
			}
		}
		spin_unlock_bh(&tsor_links_lock);
		if (!found)
			return;
		tsor_link_kill(found, TSOR_FALLBACK_LINK_DOWN);
		/* Its kill clears l->ibdev, so the loop ends. */
		flush_work(&found->kill_work);
		tsor_link_put(found);
	}
}

/*
 * Whether @l's QP lost the source GID it was connected with: the address
 * left the netdev, or the netdev's MAC changed (a bridge's follows its
 * ports), which deletes and re-adds every GID.  rxe fails the QP's next
 * packet then, without a completion on every side, so the peer would only
 * notice through its watchdog.
 */
static bool tsor_link_gid_stale(struct tsor_link *l)
{
	const struct ib_gid_attr *sgid, *now;
	bool stale = false;

	down_read(&l->res_sem);
	/* After ESTABLISHED nothing changes the QP's address vector. */
	sgid = l->qp && READ_ONCE(l->connected) ? l->qp->av_sgid_attr : NULL;
	if (sgid) {
		now = rdma_get_gid_attr(sgid->device, sgid->port_num,
					sgid->index);
		stale = IS_ERR(now) || now != sgid;
		if (!IS_ERR(now))
			rdma_put_gid_attr(now);
	}
	up_read(&l->res_sem);
	return stale;
}

/*
 * Not in the GID-change event itself: that runs under the GID table's
 * lock, which destroying a QP (in a kill) takes too.
 */
static void tsor_link_gid_work_fn(struct work_struct *work)
{
	struct tsor_link **links, *l;
	unsigned int max = 0, n = 0, i;

	spin_lock_bh(&tsor_links_lock);
	list_for_each_entry(l, &tsor_links, node)
		max++;
	spin_unlock_bh(&tsor_links_lock);
	links = kmalloc_array(max, sizeof(*links), GFP_KERNEL);
	if (!links)
		return;		/* the links' watchdogs remain */
	spin_lock_bh(&tsor_links_lock);
	list_for_each_entry(l, &tsor_links, node) {
		if (n == max)
			break;
		if (!l->ibdev)
			continue;
		refcount_inc(&l->ref);
		links[n++] = l;
	}
	spin_unlock_bh(&tsor_links_lock);
	for (i = 0; i < n; i++) {
		l = links[i];
		if (tsor_link_gid_stale(l)) {
			pr_info("link to %*phN: its source address went away, taking it down\n",
				l->remote.family == AF_INET ? 4 : 16,
				l->remote.raw);
			tsor_link_kill(l, TSOR_FALLBACK_LINK_DOWN);
		}
		tsor_link_put(l);
	}
	kfree(links);
}

static DECLARE_WORK(tsor_gid_work, tsor_link_gid_work_fn);

void tsor_link_gid_changed(void)
{
	spin_lock_bh(&tsor_links_lock);
	if (tsor_links_live)
		schedule_work(&tsor_gid_work);
	spin_unlock_bh(&tsor_links_lock);
}

/* Forgets failed dials whose time in the negative cache is over. */
static void tsor_link_prune(void)
{
	struct tsor_link *l, *tmp;
	LIST_HEAD(expired);

	spin_lock_bh(&tsor_links_lock);
	list_for_each_entry_safe(l, tmp, &tsor_links, node) {
		if (!l->passive && READ_ONCE(l->state) == TSOR_LINK_DOWN &&
		    !time_before(jiffies, READ_ONCE(l->down_until)))
			list_move(&l->node, &expired);
	}
	spin_unlock_bh(&tsor_links_lock);
	list_for_each_entry_safe(l, tmp, &expired, node) {
		list_del_init(&l->node);
		tsor_link_put(l);
	}
}

int tsor_link_walk(long skip,
		   int visit(const struct tsor_link_info *li, void *arg),
		   void *arg)
{
	struct tsor_link_info li;
	struct tsor_link *l;
	long i, n = skip;
	bool got;

	if (!skip)
		tsor_link_prune();

	for (;;) {
		got = false;
		i = 0;
		spin_lock_bh(&tsor_links_lock);
		list_for_each_entry(l, &tsor_links, node) {
			if (i++ < n)
				continue;
			memset(&li, 0, sizeof(li));
			li.local = l->local;
			li.remote = l->remote;
			li.state = READ_ONCE(l->state);
			li.channels = READ_ONCE(l->nchans);
			got = true;
			break;
		}
		spin_unlock_bh(&tsor_links_lock);
		if (!got || visit(&li, arg))
			break;
		n++;
	}
	return n;
}

int tsor_link_init(const struct tsor_xport_up *up)
{
	tsor_ltx_cache = KMEM_CACHE(tsor_ltx, 0);
	if (!tsor_ltx_cache)
		return -ENOMEM;
	tsor_link_wq = alloc_workqueue("tsor_link", WQ_MEM_RECLAIM, 0);
	if (!tsor_link_wq) {
		kmem_cache_destroy(tsor_ltx_cache);
		return -ENOMEM;
	}
	spin_lock_bh(&tsor_links_lock);
	tsor_links_live = true;
	spin_unlock_bh(&tsor_links_lock);
	WRITE_ONCE(tsor_link_up, up);
	return 0;
}

void tsor_link_exit(void)
{
	struct tsor_link *l;

	spin_lock_bh(&tsor_links_lock);
	tsor_links_live = false;
	spin_unlock_bh(&tsor_links_lock);
	cancel_work_sync(&tsor_gid_work);
	for (;;) {
		spin_lock_bh(&tsor_links_lock);
		l = list_first_entry_or_null(&tsor_links, struct tsor_link,
					     node);
		if (l)
			list_del_init(&l->node);
		spin_unlock_bh(&tsor_links_lock);
		if (!l)
			break;
		tsor_link_kill(l, TSOR_FALLBACK_LINK_DOWN);
		flush_work(&l->kill_work);
		tsor_link_put(l);
	}
	/* Serve, answer and release works still queued finish here. */
	flush_workqueue(tsor_link_wq);
	wait_var_event(&tsor_links_count, !atomic_read(&tsor_links_count));
	WRITE_ONCE(tsor_link_up, NULL);
	destroy_workqueue(tsor_link_wq);
	kmem_cache_destroy(tsor_ltx_cache);
}
