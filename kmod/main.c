// SPDX-License-Identifier: GPL-2.0
/*
 * tsor: TCP sockets over RDMA for containers.
 *
 * Init order builds from the bottom up so that nothing can reach a half-made
 * layer: counters, per-netns state, the node's RDMA endpoint, the channel
 * layer with its transports, the protocol clones, the netlink family, and
 * last the hook that starts redirecting sockets.  Exit runs in reverse.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>
#include "tsor.h"

static int __init tsor_init(void)
{
	int err;

	err = tsor_stats_init();
	if (err)
		return err;
	err = tsor_pernet_init();
	if (err)
		goto out_stats;
	err = tsor_dev_init();
	if (err)
		goto out_pernet;
	err = tsor_channel_init(tsor_pair_serve);
	if (err)
		goto out_dev;
	err = tsor_sock_init();
	if (err)
		goto out_channel;
	err = tsor_netlink_init();
	if (err)
		goto out_sock;
	err = tsor_hook_init();
	if (err)
		goto out_netlink;

	pr_info("version %s loaded\n", TSOR_VERSION);
	return 0;

out_netlink:
	tsor_netlink_exit();
	tsor_peer_exit();
out_sock:
	tsor_sock_exit();
out_channel:
	tsor_channel_exit();
out_dev:
	tsor_dev_exit();
out_pernet:
	tsor_pernet_exit();
out_stats:
	tsor_stats_exit();
	return err;
}

static void __exit tsor_exit(void)
{
	tsor_hook_exit();
	tsor_netlink_exit();
	tsor_peer_exit();
	tsor_sock_exit();
	tsor_channel_exit();
	tsor_dev_exit();
	tsor_pernet_exit();
	tsor_stats_exit();
	pr_info("unloaded\n");
}

module_init(tsor_init);
module_exit(tsor_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tsor: TCP sockets over RDMA for containers");
MODULE_VERSION(TSOR_VERSION);
MODULE_ALIAS_GENL_FAMILY(TSOR_GENL_NAME);
