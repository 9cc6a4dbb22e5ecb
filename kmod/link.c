// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the RDMA transport. */
#include "channel.h"

static int tsor_rdma_pair(struct tsor_channel *ch, const struct tsor_addr *node,
			  const struct tsor_pair_req *req,
			  enum tsor_fallback *reason)
{
	*reason = TSOR_FALLBACK_NO_DEVICE;
	return -ENODEV;
}

const struct tsor_transport tsor_rdma_transport = {
	.name = "rdma",
	.path = TSOR_PATH_RDMA,
	.pair = tsor_rdma_pair,
};

int tsor_link_init(const struct tsor_xport_up *up)
{
	return 0;
}

void tsor_link_exit(void)
{
}

int tsor_link_walk(long skip,
		   int visit(const struct tsor_link_info *li, void *arg),
		   void *arg)
{
	return 0;
}
