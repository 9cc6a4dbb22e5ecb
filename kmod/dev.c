// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the node's RDMA endpoint arrives with the RDMA transport. */
#include <linux/inetdevice.h>
#include <net/addrconf.h>
#include <net/route.h>
#include "tsor.h"

int tsor_dev_init(void)
{
	return 0;
}

void tsor_dev_exit(void)
{
}

void tsor_dev_get(struct tsor_dev_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = TSOR_DEV_PORT_DEFAULT;
	cfg->local_path = TSOR_LOCAL_PATH_SHM;
}

int tsor_dev_set(const struct tsor_dev_cfg *cfg, unsigned int mask,
		 struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG(extack, "not implemented yet");
	return -EOPNOTSUPP;
}

enum tsor_local_path tsor_dev_local_path(void)
{
	return TSOR_LOCAL_PATH_SHM;
}

bool tsor_node_is_local(const struct tsor_addr *node)
{
	if (node->family == AF_INET) {
		__be32 a;

		memcpy(&a, node->raw, sizeof(a));
		return inet_addr_type(&init_net, a) == RTN_LOCAL;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (node->family == AF_INET6)
		return ipv6_chk_addr(&init_net, (const struct in6_addr *)node->raw,
				     NULL, 0);
#endif
	return false;
}
