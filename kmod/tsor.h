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
#include <linux/netlink.h>
#include <linux/tsor.h>

/* Pure data-path logic, unit-tested in user space (selftests/unit). */
#include "ring.h"
#include "pair.h"

#define TSOR_VERSION	"0.1.0"

/* Per-CPU counter block; indexes are enum tsor_stat. */
struct tsor_stats {
	u64 v[__TSOR_STAT_MAX];
};

/* An IPv4 or IPv6 address; unused bytes are zero so memcmp() compares. */
struct tsor_addr {
	u8 family;		/* AF_INET or AF_INET6 */
	u8 raw[16];		/* network order; IPv4 uses the first 4 */
};

/* One exclusion: a port (prefix.family 0), or a CIDR (port 0). */
struct tsor_exclude {
	struct tsor_addr prefix;
	u8 prefixlen;
	u16 port;			/* host order */
};

/* A netns's exclusions, immutable once published; replaced whole. */
struct tsor_excludes {
	struct rcu_head rcu;
	unsigned int len;
	struct tsor_exclude entry[];
};

/* tsor's view of one network namespace. */
struct tsor_net {
	struct net *net;
	bool enabled;			/* READ_ONCE: read by the kprobe */
	/* RCU; NULL when empty.  Written under the pernet lock. */
	struct tsor_excludes __rcu *excludes;
	struct list_head node;		/* on the enabled list when enabled */
	struct tsor_stats __percpu *stats;
	spinlock_t socks_lock;		/* socks */
	struct list_head socks;		/* tsor sockets, for conn dumps */
	atomic_long_t ring_bytes;	/* receive rings its channels hold */
	/* Shared-memory rings kept for the namespace's next connections. */
	spinlock_t ring_cache_lock;
	struct list_head ring_cache;
	unsigned int ring_cached;
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
/* buf.c: frees the rings @tn kept for reuse. */
void tsor_ring_cache_drain(struct tsor_net *tn);

/* What one NETNS_SET changes, all at once. */
struct tsor_net_cfg {
	bool set_enabled;
	bool enabled;
	bool set_excludes;
	struct tsor_excludes *excludes;	/* given up to the netns; NULL: none */
};

void tsor_net_configure(struct tsor_net *tn, struct tsor_net_cfg *cfg);
/* Checks one entry, as NETNS_SET does before anything changes. */
int tsor_exclude_validate(const struct tsor_exclude *e,
			  struct netlink_ext_ack *extack);
/*
 * Whether @tn excludes a connection whose server listens on @port (host
 * order) and whose other end is @remote.  Any context.
 */
bool tsor_net_excluded(struct tsor_net *tn, const struct tsor_addr *remote,
		       u16 port);
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

/* channel.c: the channel layer and, below it, the transports. */
struct tsor_channel;
struct tsor_transport;
struct tsor_pair_req;
struct tsor_pair_ans;
/* @serve: how the socket layer answers a pairing request (transport.h). */
int tsor_channel_init(struct tsor_channel *serve(const struct tsor_pair_req *req,
						 const struct tsor_transport *xp,
						 struct tsor_pair_ans *ans));
void tsor_channel_exit(void);

/* sock.c */
int tsor_sock_init(void);
void tsor_sock_exit(void);
bool tsor_sock_ipv6(void);

/* One peer-table route: pods in prefix/prefixlen live on node. */
struct tsor_peer {
	struct tsor_addr prefix;
	struct tsor_addr node;
	u8 prefixlen;
};

/* A cluster has a CIDR per node; this leaves room for very large ones. */
#define TSOR_PEER_MAX	4096

/* peer.c */
/* @prefix/@plen fits its address family and has no host bits set. */
int tsor_prefix_validate(const struct tsor_addr *prefix, u8 plen,
			 struct netlink_ext_ack *extack);
bool tsor_prefix_match(const struct tsor_addr *prefix, u8 plen,
		       const struct tsor_addr *a);
int tsor_peer_validate(const struct tsor_peer *p,
		       struct netlink_ext_ack *extack);
int tsor_peer_add(const struct tsor_peer *p, struct netlink_ext_ack *extack);
int tsor_peer_del(const struct tsor_peer *p, struct netlink_ext_ack *extack);
int tsor_peer_replace(const struct tsor_peer *p, unsigned int len,
		      struct netlink_ext_ack *extack);
bool tsor_peer_lookup(const struct tsor_addr *pod, struct tsor_addr *node);
int tsor_peer_walk(long skip, int visit(const struct tsor_peer *p, void *arg),
		   void *arg);
void tsor_peer_exit(void);

/* dev.c: this node's RDMA endpoint, and which devices exist. */
struct tsor_dev_cfg {
	char ibdev[TSOR_IBDEV_NAME_MAX];	/* "": automatic */
	struct tsor_addr addr;			/* family 0: automatic */
	u16 port;				/* rdma_cm listener port */
	enum tsor_local_path local_path;
};

#define TSOR_DEV_PORT_DEFAULT	18515

/* Which fields tsor_dev_set() changes. */
#define TSOR_DEV_SET_IBDEV	BIT(0)
#define TSOR_DEV_SET_ADDR	BIT(1)
#define TSOR_DEV_SET_PORT	BIT(2)
#define TSOR_DEV_SET_LOCAL_PATH	BIT(3)

int tsor_dev_init(void);
void tsor_dev_exit(void);
/* The configuration, with automatic fields resolved where they can be. */
void tsor_dev_get(struct tsor_dev_cfg *cfg);
int tsor_dev_set(const struct tsor_dev_cfg *cfg, unsigned int mask,
		 struct netlink_ext_ack *extack);
enum tsor_local_path tsor_dev_local_path(void);
/* Whether @node is this node (an address of init_net). */
bool tsor_node_is_local(const struct tsor_addr *node);

/* link.c: node-pair links, as `tsorctl link show` lists them. */
struct tsor_link_info {
	struct tsor_addr local;
	struct tsor_addr remote;
	enum tsor_link_state state;
	u32 channels;
};

int tsor_link_walk(long skip,
		   int visit(const struct tsor_link_info *li, void *arg),
		   void *arg);

/* sock.c: taken-over connections, as `tsorctl conn show` lists them. */
struct tsor_conn_info {
	struct net *net;
	struct tsor_addr saddr;
	struct tsor_addr daddr;
	u16 sport;			/* host order */
	u16 dport;
	enum tsor_path path;
	enum tsor_fallback reason;
	u64 tx_bytes;
	u64 rx_bytes;
	u32 credits;
};

/*
 * Calls @visit on each established tsor connection of @tn after the
 * first @skip, until it returns non-zero; returns how many it finished.
 */
int tsor_conn_walk(struct tsor_net *tn, long skip,
		   int visit(const struct tsor_conn_info *ci, void *arg),
		   void *arg);

/* pair.c: answering a pairing request, as the server's node. */
struct tsor_channel *tsor_pair_serve(const struct tsor_pair_req *req,
				     const struct tsor_transport *xp,
				     struct tsor_pair_ans *ans);

/* hook.c */
int tsor_hook_init(void);
void tsor_hook_exit(void);

/* netlink.c */
int tsor_netlink_init(void);
void tsor_netlink_exit(void);

#endif /* _TSOR_H */
