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
