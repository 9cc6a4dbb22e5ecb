// SPDX-License-Identifier: GPL-2.0
/*
 * Ring memory.  A ring is one physically contiguous, page-aligned buffer:
 * an RDMA write into it then needs a single SGE and its registration a
 * single range, and a copy across its end is the only split a transfer
 * ever has.  Large orders can fail on a fragmented node, so an allocation
 * halves its size down to a floor before giving up, as net/smc does for
 * its buffers.
 */
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include "channel.h"

/*
 * Each namespace keeps a few shared-memory rings its closed connections
 * left, for its next ones.  The kernel zeroes every page it hands out
 * (Debian boots with init_on_alloc=1), and zeroing two 512 KiB rings was
 * most of what pairing a connection cost.  Old bytes in a reused ring are
 * never read: a local reader sees only what its writer put there since.
 * Rings that a remote node writes are never kept: a peer announcing bytes
 * it did not write must find zeroes.  The pages stay charged to the
 * memory cgroup that first allocated them, normally the same pod's.
 */
#define TSOR_RING_CACHE_MAX	8

struct tsor_ring_cached {		/* at the start of a cached ring */
	struct list_head node;
	u32 size;
};

/*
 * Allocates a buffer of *@size bytes (a power of two), or of a smaller
 * power of two down to @min, and says which in *@size.  It is zeroed only
 * if @gfp says __GFP_ZERO: a reader sees only bytes a writer put there, so
 * only memory that an untrusted writer (a remote node) fills needs it.
 */
void *tsor_buf_alloc(u32 *size, u32 min, gfp_t gfp)
{
	u32 len;

	for (len = *size; len >= min && len >= PAGE_SIZE; len >>= 1) {
		struct page *page;

		page = alloc_pages(gfp | __GFP_NOWARN |
				   __GFP_NORETRY, get_order(len));
		if (page) {
			*size = len;
			return page_address(page);
		}
	}
	return NULL;
}

void tsor_buf_free(void *buf, u32 size)
{
	if (buf)
		free_pages((unsigned long)buf, get_order(size));
}

/* A cached ring of exactly @size bytes from @tn, or NULL. */
void *tsor_ring_cache_get(struct tsor_net *tn, u32 size)
{
	struct tsor_ring_cached *c, *found = NULL;

	spin_lock_bh(&tn->ring_cache_lock);
	list_for_each_entry(c, &tn->ring_cache, node) {
		if (c->size == size) {
			list_del(&c->node);
			tn->ring_cached--;
			found = c;
			break;
		}
	}
	spin_unlock_bh(&tn->ring_cache_lock);
	if (found)
		tsor_stat_add(tn, TSOR_STAT_RING_CACHED_BYTES, -(s64)size);
	return found;
}

/* Keeps @buf for @tn's next connection, or frees it when the cache is full. */
void tsor_ring_cache_put(struct tsor_net *tn, void *buf, u32 size)
{
	struct tsor_ring_cached *c = buf;
	bool kept = false;

	spin_lock_bh(&tn->ring_cache_lock);
	if (tn->ring_cached < TSOR_RING_CACHE_MAX) {
		c->size = size;
		list_add(&c->node, &tn->ring_cache);
		tn->ring_cached++;
		kept = true;
	}
	spin_unlock_bh(&tn->ring_cache_lock);
	if (kept)
		tsor_stat_add(tn, TSOR_STAT_RING_CACHED_BYTES, size);
	else
		tsor_buf_free(buf, size);
}

void tsor_ring_cache_drain(struct tsor_net *tn)
{
	struct tsor_ring_cached *c, *tmp;
	LIST_HEAD(list);

	spin_lock_bh(&tn->ring_cache_lock);
	list_splice_init(&tn->ring_cache, &list);
	tn->ring_cached = 0;
	spin_unlock_bh(&tn->ring_cache_lock);
	list_for_each_entry_safe(c, tmp, &list, node) {
		tsor_stat_add(tn, TSOR_STAT_RING_CACHED_BYTES, -(s64)c->size);
		tsor_buf_free(c, c->size);
	}
}
