/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsor: internal interfaces between the module's files.
 *
 * Layering: hook (socket creation) -> sock (our proto_ops around TCP) ->
 * channel -> transport.  netlink and stats only read and configure; they
 * never sit on the data path.
 */
#ifndef _TSOR_H
#define _TSOR_H

#include <linux/list.h>
#include <linux/percpu.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/tsor.h>

#define TSOR_VERSION	"0.1.0"

/* Per-CPU counter block; indexes are enum tsor_stat. */
struct tsor_stats {
	u64 v[__TSOR_STAT_MAX];
};

/* tsor's view of one network namespace. */
struct tsor_net {
	struct net *net;
	bool enabled;			/* READ_ONCE: read by the kprobe */
	struct list_head node;		/* on the enabled list when enabled */
	struct tsor_stats __percpu *stats;
};

/* pernet.c */
extern unsigned int tsor_net_id;

static inline struct tsor_net *tsor_net(const struct net *net)
{
	return net_generic(net, tsor_net_id);
}

static inline bool tsor_net_enabled(const struct net *net)
{
	return READ_ONCE(tsor_net(net)->enabled);
}

int tsor_pernet_init(void);
void tsor_pernet_exit(void);
void tsor_net_set_enabled(struct tsor_net *tn, bool enabled);
/*
 * Calls @visit on each enabled namespace after the first @skip, in order,
 * until it returns non-zero; returns how many it finished, so a netlink
 * dump can resume where it stopped.
 */
int tsor_net_walk_enabled(long skip,
			  int visit(struct tsor_net *tn, void *arg),
			  void *arg);

/* stats.c */
int tsor_stats_init(void);
void tsor_stats_exit(void);
void tsor_stat_add(struct tsor_net *tn, enum tsor_stat id, s64 delta);
void tsor_stats_sum(const struct tsor_stats __percpu *stats,
		    u64 out[__TSOR_STAT_MAX]);
const struct tsor_stats __percpu *tsor_stats_global(void);
const char *tsor_stat_name(enum tsor_stat id);

static inline void tsor_stat_inc(struct tsor_net *tn, enum tsor_stat id)
{
	tsor_stat_add(tn, id, 1);
}

/* sock.c */
int tsor_sock_init(void);
void tsor_sock_exit(void);

/* hook.c */
int tsor_hook_init(void);
void tsor_hook_exit(void);

/* netlink.c */
int tsor_netlink_init(void);
void tsor_netlink_exit(void);

#endif /* _TSOR_H */
