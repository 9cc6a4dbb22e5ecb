// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace state: whether tsor takes over TCP sockets there,
 * which of its connections stay plain TCP all the same (its exclusions),
 * and the namespace's counters.  Namespaces are off until an operator
 * enables them.
 */
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "tsor.h"

unsigned int tsor_net_id __read_mostly;

/* Serialises changes of every tsor_net and guards the enabled list. */
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
	spin_lock_init(&tn->ring_cache_lock);
	INIT_LIST_HEAD(&tn->ring_cache);
	return 0;
}

static void __net_exit tsor_net_exit(struct net *net)
{
	struct tsor_net *tn = tsor_net(net);
	struct tsor_net_cfg cfg = {
		.set_enabled = true,
		.enabled = false,
		.set_excludes = true,
		.excludes = NULL,
	};

	/*
	 * Every tsor socket holds a reference on its netns, so none is left
	 * here; only the enabled flag, the list entry and the exclusions need
	 * tearing down.
	 */
	tsor_net_configure(tn, &cfg);
	/* Channels hold the netns too: every ring is back by now. */
	tsor_ring_cache_drain(tn);
	free_percpu(tn->stats);
}

static struct pernet_operations tsor_net_ops = {
	.init = tsor_net_init,
	.exit = tsor_net_exit,
	.id = &tsor_net_id,
	.size = sizeof(struct tsor_net),
};

/*
 * Exclusions first, and the flag published after them: a socket created
 * once the namespace is enabled must see the list that came with it.
 */
void tsor_net_configure(struct tsor_net *tn, struct tsor_net_cfg *cfg)
{
	struct tsor_excludes *old = NULL;
	bool enabled = cfg->enabled;

	mutex_lock(&tsor_net_lock);
	if (cfg->set_excludes)
		old = rcu_replace_pointer(tn->excludes, cfg->excludes,
					  lockdep_is_held(&tsor_net_lock));
	cfg->excludes = NULL;
	if (cfg->set_enabled) {
		if (enabled && !tn->enabled)
			list_add_tail(&tn->node, &tsor_enabled_list);
		else if (!enabled && tn->enabled)
			list_del_init(&tn->node);
		/* Ordered after the exclusions, as said above. */
		smp_store_release(&tn->enabled, enabled);
	}
	mutex_unlock(&tsor_net_lock);
	if (old)
		kfree_rcu(old, rcu);
}

int tsor_exclude_validate(const struct tsor_exclude *e,
			  struct netlink_ext_ack *extack)
{
	if (!e->prefix.family == !e->port) {
		NL_SET_ERR_MSG(extack,
			       "an exclusion is either a port or a prefix and its length");
		return -EINVAL;
	}
	if (e->port)
		return 0;
	return tsor_prefix_validate(&e->prefix, e->prefixlen, extack);
}

bool tsor_net_excluded(struct tsor_net *tn, const struct tsor_addr *remote,
		       u16 port)
{
	const struct tsor_excludes *ex;
	const struct tsor_exclude *e;
	bool hit = false;
	unsigned int i;

	if (!rcu_access_pointer(tn->excludes))
		return false;
	rcu_read_lock();
	ex = rcu_dereference(tn->excludes);
	for (i = 0; ex && i < ex->len && !hit; i++) {
		e = &ex->entry[i];
		hit = e->port ? e->port == port :
			tsor_prefix_match(&e->prefix, e->prefixlen, remote);
	}
	rcu_read_unlock();
	return hit;
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
