// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state: whether tsor takes over TCP sockets there,
 * and the namespace's counters.  Namespaces are off until an operator
 * enables them.
 */
#include <linux/mutex.h>
#include "tsor.h"

unsigned int tsor_net_id __read_mostly;

/* Serialises enable/disable and guards the enabled list. */
static DEFINE_MUTEX(tsor_net_lock);
static LIST_HEAD(tsor_enabled_list);

static int __net_init tsor_net_init(struct net *net)
{
	struct tsor_net *tn = tsor_net(net);

	tn->stats = alloc_percpu(struct tsor_stats);
	if (!tn->stats)
		return -ENOMEM;
	tn->net = net;
	INIT_LIST_HEAD(&tn->node);
	spin_lock_init(&tn->socks_lock);
	INIT_LIST_HEAD(&tn->socks);
	return 0;
}

static void __net_exit tsor_net_exit(struct net *net)
{
	struct tsor_net *tn = tsor_net(net);

	/*
	 * Every tsor socket holds a reference on its netns, so none is left
	 * here; only the enabled flag and the list entry need tearing down.
	 */
	tsor_net_set_enabled(tn, false);
	free_percpu(tn->stats);
}

static struct pernet_operations tsor_net_ops = {
	.init = tsor_net_init,
	.exit = tsor_net_exit,
	.id = &tsor_net_id,
	.size = sizeof(struct tsor_net),
};

void tsor_net_set_enabled(struct tsor_net *tn, bool enabled)
{
	mutex_lock(&tsor_net_lock);
	if (enabled && !tn->enabled)
		list_add_tail(&tn->node, &tsor_enabled_list);
	else if (!enabled && tn->enabled)
		list_del_init(&tn->node);
	WRITE_ONCE(tn->enabled, enabled);
	mutex_unlock(&tsor_net_lock);
}

int tsor_net_walk_enabled(long skip,
			  int visit(struct tsor_net *tn, void *arg),
			  void *arg)
{
	struct tsor_net *tn;
	int done = 0;

	mutex_lock(&tsor_net_lock);
	list_for_each_entry(tn, &tsor_enabled_list, node) {
		if (skip-- > 0)
			continue;
		if (visit(tn, arg))
			break;
		done++;
	}
	mutex_unlock(&tsor_net_lock);
	return done;
}

int tsor_pernet_init(void)
{
	return register_pernet_subsys(&tsor_net_ops);
}

void tsor_pernet_exit(void)
{
	/* Runs tsor_net_exit for every namespace, enabled ones included. */
	unregister_pernet_subsys(&tsor_net_ops);
}
