// SPDX-License-Identifier: GPL-2.0
/*
 * The "tsor" generic netlink family: how operators configure and observe
 * tsor.  Every command has a strict policy of its own, so an attribute a
 * command does not use is rejected rather than ignored.  Changing state
 * needs CAP_NET_ADMIN in the initial user namespace; reading one's own
 * namespace does not, reading another's needs CAP_NET_ADMIN over it.
 */
#include <linux/capability.h>
#include <linux/inet.h>
#include <linux/slab.h>
#include <linux/stringify.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>
#include "tsor.h"

static struct genl_family tsor_genl_family;

/* Commands that select a namespace: a netns fd, a pid, or the caller's. */
#define TSOR_NETNS_SELECTOR						\
	[TSOR_ATTR_NETNS_FD] = { .type = NLA_U32 },			\
	[TSOR_ATTR_NETNS_PID] = NLA_POLICY_MIN(NLA_U32, 1)

static const struct nla_policy tsor_netns_get_policy[TSOR_ATTR_NETNS_PID + 1] = {
	TSOR_NETNS_SELECTOR,
};

static const struct nla_policy tsor_stats_policy[TSOR_ATTR_GLOBAL + 1] = {
	TSOR_NETNS_SELECTOR,
	[TSOR_ATTR_GLOBAL] = { .type = NLA_FLAG },
};

static int tsor_nl_validate_addr(const struct nlattr *attr,
				 struct netlink_ext_ack *extack)
{
	if (nla_len(attr) == sizeof(struct in_addr) ||
	    nla_len(attr) == sizeof(struct in6_addr))
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, attr, "address must be 4 or 16 bytes");
	return -EINVAL;
}

#define TSOR_ADDR_POLICY						\
	NLA_POLICY_VALIDATE_FN(NLA_BINARY, tsor_nl_validate_addr,	\
			       sizeof(struct in6_addr))

static const struct nla_policy tsor_exclude_attr_policy[TSOR_EXCLUDE_ATTR_MAX + 1] = {
	[TSOR_EXCLUDE_ATTR_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[TSOR_EXCLUDE_ATTR_PREFIX] = TSOR_ADDR_POLICY,
	[TSOR_EXCLUDE_ATTR_PREFIXLEN] = NLA_POLICY_MAX(NLA_U8, 128),
};

/* EXCLUDES holds EXCLUDE entries, each checked against the entry policy. */
static const struct nla_policy tsor_netns_set_policy[TSOR_ATTR_EXCLUDES + 1] = {
	TSOR_NETNS_SELECTOR,
	[TSOR_ATTR_ENABLED] = NLA_POLICY_MAX(NLA_U8, 1),
	[TSOR_ATTR_EXCLUDES] = NLA_POLICY_NESTED_ARRAY(tsor_exclude_attr_policy),
};

static const struct nla_policy tsor_peer_attr_policy[TSOR_PEER_ATTR_MAX + 1] = {
	[TSOR_PEER_ATTR_PREFIX] = TSOR_ADDR_POLICY,
	[TSOR_PEER_ATTR_PREFIXLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[TSOR_PEER_ATTR_NODE] = TSOR_ADDR_POLICY,
};

static const struct nla_policy tsor_peer_policy[TSOR_ATTR_PEER + 1] = {
	[TSOR_ATTR_PEER] = NLA_POLICY_NESTED(tsor_peer_attr_policy),
};

static const struct nla_policy tsor_dev_attr_policy[TSOR_DEV_ATTR_MAX + 1] = {
	[TSOR_DEV_ATTR_IBDEV] = { .type = NLA_NUL_STRING,
				  .len = TSOR_IBDEV_NAME_MAX - 1 },
	[TSOR_DEV_ATTR_ADDR] = TSOR_ADDR_POLICY,
	[TSOR_DEV_ATTR_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[TSOR_DEV_ATTR_LOCAL_PATH] = NLA_POLICY_MAX(NLA_U8,
						    TSOR_LOCAL_PATH_RDMA),
};

static const struct nla_policy tsor_dev_policy[TSOR_ATTR_DEV + 1] = {
	[TSOR_ATTR_DEV] = NLA_POLICY_NESTED(tsor_dev_attr_policy),
};

/* Namespace selection */

/* Returns the selected namespace with a reference held. */
static struct net *tsor_nl_get_net(struct nlattr **attrs, struct net *caller,
				   struct netlink_ext_ack *extack)
{
	struct nlattr *fd = attrs[TSOR_ATTR_NETNS_FD];
	struct nlattr *pid = attrs[TSOR_ATTR_NETNS_PID];
	struct net *net;

	if (fd && pid) {
		NL_SET_ERR_MSG_ATTR(extack, pid,
				    "select a netns by fd or by pid, not both");
		return ERR_PTR(-EINVAL);
	}
	if (fd) {
		net = get_net_ns_by_fd(nla_get_u32(fd));
		if (PTR_ERR_OR_ZERO(net) == -EBADF)
			NL_SET_ERR_MSG_ATTR(extack, fd,
					    "netns fd is not an open file");
		else if (IS_ERR(net))
			NL_SET_ERR_MSG_ATTR(extack, fd,
					    "netns fd is not a network namespace");
		return net;
	}
	if (pid) {
		net = get_net_ns_by_pid(nla_get_u32(pid));
		if (IS_ERR(net))
			NL_SET_ERR_MSG_ATTR(extack, pid, "no process with that pid");
		return net;
	}
	return get_net(caller);
}

/* Reading another namespace reveals its activity: require power over it. */
static int tsor_nl_may_read(const struct sk_buff *skb, struct net *caller,
			    struct net *net, struct netlink_ext_ack *extack)
{
	if (net == caller ||
	    netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN))
		return 0;
	NL_SET_ERR_MSG(extack,
		       "reading another netns needs CAP_NET_ADMIN over it");
	return -EPERM;
}

static struct net *tsor_nl_get_readable_net(struct sk_buff *skb,
					    struct genl_info *info)
{
	struct net *caller = genl_info_net(info);
	struct net *net;
	int err;

	net = tsor_nl_get_net(info->attrs, caller, info->extack);
	if (IS_ERR(net))
		return net;
	err = tsor_nl_may_read(skb, caller, net, info->extack);
	if (err) {
		put_net(net);
		return ERR_PTR(err);
	}
	return net;
}

/* Message builders */

static int tsor_nl_put_netns(struct sk_buff *msg, struct net *caller,
			     struct tsor_net *tn)
{
	if (nla_put_u32(msg, TSOR_ATTR_NETNS_INUM, tn->net->ns.inum) ||
	    nla_put_s32(msg, TSOR_ATTR_NETNS_NSID,
			peernet2id(caller, tn->net)) ||
	    nla_put_u8(msg, TSOR_ATTR_ENABLED, READ_ONCE(tn->enabled)))
		return -EMSGSIZE;
	return 0;
}

static int tsor_nl_put_stats(struct sk_buff *msg,
			     const struct tsor_stats __percpu *stats)
{
	u64 val[__TSOR_STAT_MAX];
	struct nlattr *all, *one;
	int i;

	tsor_stats_sum(stats, val);
	all = nla_nest_start(msg, TSOR_ATTR_STATS);
	if (!all)
		return -EMSGSIZE;
	for (i = 0; i < __TSOR_STAT_MAX; i++) {
		one = nla_nest_start(msg, TSOR_ATTR_STAT);
		if (!one ||
		    nla_put_u32(msg, TSOR_STAT_ATTR_ID, i) ||
		    nla_put_string(msg, TSOR_STAT_ATTR_NAME, tsor_stat_name(i)) ||
		    nla_put_u64_64bit(msg, TSOR_STAT_ATTR_VALUE, val[i],
				      TSOR_STAT_ATTR_PAD)) {
			nla_nest_cancel(msg, all);
			return -EMSGSIZE;
		}
		nla_nest_end(msg, one);
	}
	nla_nest_end(msg, all);
	return 0;
}

static int tsor_nl_put_addr(struct sk_buff *msg, int type,
			    const struct tsor_addr *a)
{
	return nla_put(msg, type, a->family == AF_INET ?
		       sizeof(struct in_addr) : sizeof(struct in6_addr), a->raw);
}

static int tsor_nl_put_exclude(struct sk_buff *msg,
			       const struct tsor_exclude *e)
{
	struct nlattr *nest = nla_nest_start(msg, TSOR_ATTR_EXCLUDE);

	if (!nest)
		return -EMSGSIZE;
	if (e->port ?
	    nla_put_u16(msg, TSOR_EXCLUDE_ATTR_PORT, e->port) :
	    tsor_nl_put_addr(msg, TSOR_EXCLUDE_ATTR_PREFIX, &e->prefix) ||
	    nla_put_u8(msg, TSOR_EXCLUDE_ATTR_PREFIXLEN, e->prefixlen)) {
		nla_nest_cancel(msg, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* The namespace's exclusions; the nest is there even when empty. */
static int tsor_nl_put_excludes(struct sk_buff *msg, struct tsor_net *tn)
{
	const struct tsor_excludes *ex;
	struct nlattr *all;
	unsigned int i;
	int err = 0;

	all = nla_nest_start(msg, TSOR_ATTR_EXCLUDES);
	if (!all)
		return -EMSGSIZE;
	rcu_read_lock();
	ex = rcu_dereference(tn->excludes);
	for (i = 0; ex && i < ex->len && !err; i++)
		err = tsor_nl_put_exclude(msg, &ex->entry[i]);
	rcu_read_unlock();
	if (err) {
		nla_nest_cancel(msg, all);
		return err;
	}
	nla_nest_end(msg, all);
	return 0;
}

/* What one namespace's reply carries, per command. */
static int tsor_nl_put_net_reply(struct sk_buff *msg, u8 cmd,
				 struct net *caller, struct tsor_net *tn)
{
	int err = tsor_nl_put_netns(msg, caller, tn);

	if (!err && cmd == TSOR_CMD_NETNS_GET)
		err = tsor_nl_put_excludes(msg, tn);
	if (!err && cmd == TSOR_CMD_STATS_GET)
		err = tsor_nl_put_stats(msg, tn->stats);
	return err;
}

/* A reply to a doit request, built by @fill. */
static int tsor_nl_reply(struct genl_info *info,
			 int (*fill)(struct sk_buff *msg, void *arg), void *arg)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tsor_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr) {
		err = -EMSGSIZE;
		goto out_free;
	}
	err = fill(msg, arg);
	if (err)
		goto out_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

out_free:
	nlmsg_free(msg);
	return err;
}

/* Commands */

static int tsor_nl_fill_version(struct sk_buff *msg, void *arg)
{
	u32 features = TSOR_FEATURE_TAKEOVER | TSOR_FEATURE_PEERS |
		       TSOR_FEATURE_EXCLUDE | TSOR_FEATURE_RDMA |
		       TSOR_FEATURE_SHM;

	if (tsor_sock_ipv6())
		features |= TSOR_FEATURE_IPV6;
	if (nla_put_string(msg, TSOR_ATTR_VERSION, TSOR_VERSION) ||
	    nla_put_u32(msg, TSOR_ATTR_FEATURES, features) ||
	    nla_put_u32(msg, TSOR_ATTR_PROTOCOL, TSOR_IPPROTO))
		return -EMSGSIZE;
	return 0;
}

static int tsor_nl_version_get(struct sk_buff *skb, struct genl_info *info)
{
	return tsor_nl_reply(info, tsor_nl_fill_version, NULL);
}

struct tsor_nl_net_arg {
	u8 cmd;
	struct net *caller;
	struct tsor_net *tn;
};

static int tsor_nl_fill_net(struct sk_buff *msg, void *arg)
{
	struct tsor_nl_net_arg *a = arg;

	return tsor_nl_put_net_reply(msg, a->cmd, a->caller, a->tn);
}

static int tsor_nl_fill_global(struct sk_buff *msg, void *arg)
{
	return tsor_nl_put_stats(msg, tsor_stats_global());
}

/* NETNS_GET and STATS_GET of one namespace. */
static int tsor_nl_net_get(struct sk_buff *skb, struct genl_info *info)
{
	struct tsor_nl_net_arg a = {
		.cmd = info->genlhdr->cmd,
		.caller = genl_info_net(info),
	};
	struct net *net;
	int err;

	net = tsor_nl_get_readable_net(skb, info);
	if (IS_ERR(net))
		return PTR_ERR(net);
	a.tn = tsor_net(net);
	err = tsor_nl_reply(info, tsor_nl_fill_net, &a);
	put_net(net);
	return err;
}

/* STATS_GET: the module's totals with GLOBAL, else one namespace's. */
static int tsor_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *global = info->attrs[TSOR_ATTR_GLOBAL];

	if (!global)
		return tsor_nl_net_get(skb, info);
	if (info->attrs[TSOR_ATTR_NETNS_FD] || info->attrs[TSOR_ATTR_NETNS_PID]) {
		NL_SET_ERR_MSG_ATTR(info->extack, global,
				    "global stats take no netns selector");
		return -EINVAL;
	}
	return tsor_nl_reply(info, tsor_nl_fill_global, NULL);
}

static void tsor_nl_get_addr(const struct nlattr *attr, struct tsor_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = nla_len(attr) == sizeof(struct in_addr) ? AF_INET : AF_INET6;
	nla_memcpy(a->raw, attr, sizeof(a->raw));
}

static bool tsor_exclude_same(const struct tsor_exclude *a,
			      const struct tsor_exclude *b)
{
	return a->port == b->port && a->prefixlen == b->prefixlen &&
	       !memcmp(&a->prefix, &b->prefix, sizeof(a->prefix));
}

/* One EXCLUDE entry into @e, checked; @ex holds the ones before it. */
static int tsor_nl_parse_exclude(const struct nlattr *attr,
				 const struct tsor_excludes *ex,
				 struct tsor_exclude *e,
				 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[TSOR_EXCLUDE_ATTR_MAX + 1];
	unsigned int i;
	int err;

	err = nla_parse_nested(tb, TSOR_EXCLUDE_ATTR_MAX, attr,
			       tsor_exclude_attr_policy, extack);
	if (err)
		return err;
	memset(e, 0, sizeof(*e));
	if (tb[TSOR_EXCLUDE_ATTR_PORT])
		e->port = nla_get_u16(tb[TSOR_EXCLUDE_ATTR_PORT]);
	if (tb[TSOR_EXCLUDE_ATTR_PREFIX] || tb[TSOR_EXCLUDE_ATTR_PREFIXLEN]) {
		if (NL_REQ_ATTR_CHECK(extack, attr, tb,
				      TSOR_EXCLUDE_ATTR_PREFIX) ||
		    NL_REQ_ATTR_CHECK(extack, attr, tb,
				      TSOR_EXCLUDE_ATTR_PREFIXLEN)) {
			NL_SET_ERR_MSG(extack,
				       "an excluded prefix needs its address and its length");
			return -EINVAL;
		}
		tsor_nl_get_addr(tb[TSOR_EXCLUDE_ATTR_PREFIX], &e->prefix);
		e->prefixlen = nla_get_u8(tb[TSOR_EXCLUDE_ATTR_PREFIXLEN]);
	}
	err = tsor_exclude_validate(e, extack);
	if (err) {
		NL_SET_BAD_ATTR(extack, attr);
		return err;
	}
	for (i = 0; i < ex->len; i++) {
		if (tsor_exclude_same(&ex->entry[i], e)) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "duplicate exclusion");
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The whole list of an EXCLUDES nest, every entry valid, or an error and
 * nothing.  *@out is NULL for an empty list.
 */
static int tsor_nl_parse_excludes(const struct nlattr *nest,
				  struct tsor_excludes **out,
				  struct netlink_ext_ack *extack)
{
	struct tsor_excludes *ex;
	const struct nlattr *attr;
	unsigned int n = 0;
	int rem, err;

	*out = NULL;
	nla_for_each_nested(attr, nest, rem) {
		if (nla_type(attr) != TSOR_ATTR_EXCLUDE) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "exclusions hold only exclude entries");
			return -EINVAL;
		}
		if (++n > TSOR_EXCLUDE_MAX) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "too many exclusions (at most "
					    __stringify(TSOR_EXCLUDE_MAX) ")");
			return -E2BIG;
		}
	}
	if (!n)
		return 0;
	ex = kzalloc(struct_size(ex, entry, n), GFP_KERNEL);
	if (!ex)
		return -ENOMEM;
	nla_for_each_nested(attr, nest, rem) {
		err = tsor_nl_parse_exclude(attr, ex, &ex->entry[ex->len],
					    extack);
		if (err) {
			kfree(ex);
			return err;
		}
		ex->len++;
	}
	*out = ex;
	return 0;
}

/* Enables or disables a namespace, replaces its exclusions, or both. */
static int tsor_nl_netns_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *enabled = info->attrs[TSOR_ATTR_ENABLED];
	struct nlattr *excludes = info->attrs[TSOR_ATTR_EXCLUDES];
	struct tsor_net_cfg cfg = {};
	struct net *net;
	int err;

	if (!enabled && !excludes) {
		NL_SET_ERR_MSG(info->extack,
			       "missing the enabled or the excludes attribute");
		return -EINVAL;
	}
	/* Everything is checked before anything changes. */
	if (excludes) {
		err = tsor_nl_parse_excludes(excludes, &cfg.excludes,
					     info->extack);
		if (err)
			return err;
		cfg.set_excludes = true;
	}
	if (enabled) {
		cfg.set_enabled = true;
		cfg.enabled = nla_get_u8(enabled);
	}
	net = tsor_nl_get_net(info->attrs, genl_info_net(info), info->extack);
	if (IS_ERR(net)) {
		kfree(cfg.excludes);
		return PTR_ERR(net);
	}
	tsor_net_configure(tsor_net(net), &cfg);
	put_net(net);
	return 0;
}

struct tsor_nl_dump_arg {
	u8 cmd;
	struct sk_buff *skb;
	struct netlink_callback *cb;
	struct net *caller;
	bool privileged;
	bool full;		/* the last message did not fit */
};

static int tsor_nl_dump_one(struct tsor_net *tn, void *arg)
{
	struct tsor_nl_dump_arg *a = arg;
	void *hdr;

	/* Unprivileged callers see only their own namespace. */
	if (!a->privileged && tn->net != a->caller)
		return 0;

	hdr = genlmsg_put(a->skb, NETLINK_CB(a->cb->skb).portid,
			  a->cb->nlh->nlmsg_seq, &tsor_genl_family,
			  NLM_F_MULTI, a->cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (tsor_nl_put_net_reply(a->skb, a->cmd, a->caller, tn)) {
		genlmsg_cancel(a->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(a->skb, hdr);
	return 0;
}

/* NETNS_GET and STATS_GET dumps: every enabled namespace. */
static int tsor_nl_net_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct tsor_nl_dump_arg a = {
		.cmd = info->op.cmd,
		.skb = skb,
		.cb = cb,
		.caller = sock_net(cb->skb->sk),
		.privileged = netlink_capable(cb->skb, CAP_NET_ADMIN),
	};
	struct nlattr **attrs = info->attrs;
	bool selector = attrs[TSOR_ATTR_NETNS_FD] || attrs[TSOR_ATTR_NETNS_PID];

	/* Only the stats policy reaches as far as the GLOBAL attribute. */
	if (a.cmd == TSOR_CMD_STATS_GET && attrs[TSOR_ATTR_GLOBAL])
		selector = true;
	if (selector) {
		NL_SET_ERR_MSG(cb->extack,
			       "a dump lists every namespace: drop the selector");
		return -EINVAL;
	}

	cb->args[0] += tsor_net_walk_enabled(cb->args[0], tsor_nl_dump_one,
						 &a);
	return skb->len;
}

/* Peer table */

static int tsor_nl_parse_peer(const struct nlattr *nest, bool need_node,
			      struct tsor_peer *p,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *tb[TSOR_PEER_ATTR_MAX + 1];
	int err;

	err = nla_parse_nested(tb, TSOR_PEER_ATTR_MAX, nest,
			       tsor_peer_attr_policy, extack);
	if (err)
		return err;
	if (NL_REQ_ATTR_CHECK(extack, nest, tb, TSOR_PEER_ATTR_PREFIX) ||
	    NL_REQ_ATTR_CHECK(extack, nest, tb, TSOR_PEER_ATTR_PREFIXLEN) ||
	    (need_node &&
	     NL_REQ_ATTR_CHECK(extack, nest, tb, TSOR_PEER_ATTR_NODE))) {
		NL_SET_ERR_MSG(extack,
			       "a peer needs a prefix, its length and (to add) a node");
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	tsor_nl_get_addr(tb[TSOR_PEER_ATTR_PREFIX], &p->prefix);
	p->prefixlen = nla_get_u8(tb[TSOR_PEER_ATTR_PREFIXLEN]);
	if (tb[TSOR_PEER_ATTR_NODE])
		tsor_nl_get_addr(tb[TSOR_PEER_ATTR_NODE], &p->node);
	return tsor_peer_validate(p, extack);
}

static int tsor_nl_peer_one(struct genl_info *info, bool need_node,
			    struct tsor_peer *p)
{
	if (GENL_REQ_ATTR_CHECK(info, TSOR_ATTR_PEER)) {
		NL_SET_ERR_MSG(info->extack, "missing the peer attribute");
		return -EINVAL;
	}
	return tsor_nl_parse_peer(info->attrs[TSOR_ATTR_PEER], need_node, p,
				  info->extack);
}

static int tsor_nl_peer_add(struct sk_buff *skb, struct genl_info *info)
{
	struct tsor_peer p;
	int err;

	err = tsor_nl_peer_one(info, true, &p);
	return err ? err : tsor_peer_add(&p, info->extack);
}

static int tsor_nl_peer_del(struct sk_buff *skb, struct genl_info *info)
{
	struct tsor_peer p;
	int err;

	err = tsor_nl_peer_one(info, false, &p);
	return err ? err : tsor_peer_del(&p, info->extack);
}

/* Every TSOR_ATTR_PEER in the message, all valid, or nothing changes. */
static int tsor_nl_peer_replace(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *attr;
	struct tsor_peer *peers;
	unsigned int n = 0;
	int rem, err;

	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem)
		n += nla_type(attr) == TSOR_ATTR_PEER;
	if (n > TSOR_PEER_MAX) {
		NL_SET_ERR_MSG(info->extack, "more peers than the table holds");
		return -E2BIG;
	}
	peers = kvcalloc(n, sizeof(*peers), GFP_KERNEL);
	if (n && !peers)
		return -ENOMEM;
	n = 0;
	nlmsg_for_each_attr(attr, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(attr) != TSOR_ATTR_PEER)
			continue;
		err = tsor_nl_parse_peer(attr, true, &peers[n++], info->extack);
		if (err)
			goto out;
	}
	err = tsor_peer_replace(peers, n, info->extack);
out:
	kvfree(peers);
	return err;
}

static int tsor_nl_dump_peer(const struct tsor_peer *p, void *arg)
{
	struct tsor_nl_dump_arg *a = arg;
	struct nlattr *nest;
	void *hdr;

	hdr = genlmsg_put(a->skb, NETLINK_CB(a->cb->skb).portid,
			  a->cb->nlh->nlmsg_seq, &tsor_genl_family,
			  NLM_F_MULTI, TSOR_CMD_PEER_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(a->skb, TSOR_ATTR_PEER);
	if (!nest ||
	    tsor_nl_put_addr(a->skb, TSOR_PEER_ATTR_PREFIX, &p->prefix) ||
	    nla_put_u8(a->skb, TSOR_PEER_ATTR_PREFIXLEN, p->prefixlen) ||
	    tsor_nl_put_addr(a->skb, TSOR_PEER_ATTR_NODE, &p->node)) {
		genlmsg_cancel(a->skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(a->skb, nest);
	genlmsg_end(a->skb, hdr);
	return 0;
}

static int tsor_nl_peer_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct tsor_nl_dump_arg a = { .skb = skb, .cb = cb };

	cb->args[0] += tsor_peer_walk(cb->args[0], tsor_nl_dump_peer, &a);
	return skb->len;
}

/* Node RDMA endpoint */

static int tsor_nl_fill_dev(struct sk_buff *msg, void *arg)
{
	struct tsor_dev_cfg cfg;
	struct nlattr *nest;

	tsor_dev_get(&cfg);
	nest = nla_nest_start(msg, TSOR_ATTR_DEV);
	if (!nest ||
	    (cfg.ibdev[0] &&
	     nla_put_string(msg, TSOR_DEV_ATTR_IBDEV, cfg.ibdev)) ||
	    (cfg.addr.family &&
	     tsor_nl_put_addr(msg, TSOR_DEV_ATTR_ADDR, &cfg.addr)) ||
	    nla_put_u16(msg, TSOR_DEV_ATTR_PORT, cfg.port) ||
	    nla_put_u8(msg, TSOR_DEV_ATTR_LOCAL_PATH, cfg.local_path))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int tsor_nl_dev_get(struct sk_buff *skb, struct genl_info *info)
{
	return tsor_nl_reply(info, tsor_nl_fill_dev, NULL);
}

static int tsor_nl_dev_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[TSOR_DEV_ATTR_MAX + 1];
	struct tsor_dev_cfg cfg = {};
	unsigned int mask = 0;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, TSOR_ATTR_DEV)) {
		NL_SET_ERR_MSG(info->extack, "missing the dev attribute");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, TSOR_DEV_ATTR_MAX, info->attrs[TSOR_ATTR_DEV],
			       tsor_dev_attr_policy, info->extack);
	if (err)
		return err;
	if (tb[TSOR_DEV_ATTR_IBDEV]) {
		nla_strscpy(cfg.ibdev, tb[TSOR_DEV_ATTR_IBDEV], sizeof(cfg.ibdev));
		mask |= TSOR_DEV_SET_IBDEV;
	}
	if (tb[TSOR_DEV_ATTR_ADDR]) {
		tsor_nl_get_addr(tb[TSOR_DEV_ATTR_ADDR], &cfg.addr);
		mask |= TSOR_DEV_SET_ADDR;
	}
	if (tb[TSOR_DEV_ATTR_PORT]) {
		cfg.port = nla_get_u16(tb[TSOR_DEV_ATTR_PORT]);
		mask |= TSOR_DEV_SET_PORT;
	}
	if (tb[TSOR_DEV_ATTR_LOCAL_PATH]) {
		cfg.local_path = nla_get_u8(tb[TSOR_DEV_ATTR_LOCAL_PATH]);
		mask |= TSOR_DEV_SET_LOCAL_PATH;
	}
	if (!mask) {
		NL_SET_ERR_MSG(info->extack, "nothing to set");
		return -EINVAL;
	}
	return tsor_dev_set(&cfg, mask, info->extack);
}

/* Node-pair links */

static int tsor_nl_dump_link(const struct tsor_link_info *li, void *arg)
{
	struct tsor_nl_dump_arg *a = arg;
	struct nlattr *nest;
	void *hdr;

	hdr = genlmsg_put(a->skb, NETLINK_CB(a->cb->skb).portid,
			  a->cb->nlh->nlmsg_seq, &tsor_genl_family,
			  NLM_F_MULTI, TSOR_CMD_LINK_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(a->skb, TSOR_ATTR_LINK);
	if (!nest ||
	    tsor_nl_put_addr(a->skb, TSOR_LINK_ATTR_LOCAL, &li->local) ||
	    tsor_nl_put_addr(a->skb, TSOR_LINK_ATTR_REMOTE, &li->remote) ||
	    nla_put_u8(a->skb, TSOR_LINK_ATTR_STATE, li->state) ||
	    nla_put_u32(a->skb, TSOR_LINK_ATTR_CHANNELS, li->channels)) {
		genlmsg_cancel(a->skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(a->skb, nest);
	genlmsg_end(a->skb, hdr);
	return 0;
}

static int tsor_nl_link_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct tsor_nl_dump_arg a = { .skb = skb, .cb = cb };

	cb->args[0] += tsor_link_walk(cb->args[0], tsor_nl_dump_link, &a);
	return skb->len;
}

/* Connections */

static int tsor_nl_dump_conn(const struct tsor_conn_info *ci, void *arg)
{
	struct tsor_nl_dump_arg *a = arg;
	struct sk_buff *msg = a->skb;
	struct nlattr *nest;
	void *hdr;

	a->full = true;
	hdr = genlmsg_put(msg, NETLINK_CB(a->cb->skb).portid,
			  a->cb->nlh->nlmsg_seq, &tsor_genl_family,
			  NLM_F_MULTI, TSOR_CMD_CONN_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(msg, TSOR_ATTR_CONN);
	if (!nest ||
	    nla_put_u32(msg, TSOR_CONN_ATTR_NETNS_INUM, ci->net->ns.inum) ||
	    nla_put_u16(msg, TSOR_CONN_ATTR_FAMILY, ci->saddr.family) ||
	    tsor_nl_put_addr(msg, TSOR_CONN_ATTR_SADDR, &ci->saddr) ||
	    tsor_nl_put_addr(msg, TSOR_CONN_ATTR_DADDR, &ci->daddr) ||
	    nla_put_u16(msg, TSOR_CONN_ATTR_SPORT, ci->sport) ||
	    nla_put_u16(msg, TSOR_CONN_ATTR_DPORT, ci->dport) ||
	    nla_put_u8(msg, TSOR_CONN_ATTR_PATH, ci->path) ||
	    nla_put_u8(msg, TSOR_CONN_ATTR_FALLBACK, ci->reason) ||
	    nla_put_u64_64bit(msg, TSOR_CONN_ATTR_TX_BYTES, ci->tx_bytes,
			      TSOR_CONN_ATTR_PAD) ||
	    nla_put_u64_64bit(msg, TSOR_CONN_ATTR_RX_BYTES, ci->rx_bytes,
			      TSOR_CONN_ATTR_PAD) ||
	    nla_put_u32(msg, TSOR_CONN_ATTR_CREDITS, ci->credits)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, nest);
	genlmsg_end(msg, hdr);
	a->full = false;
	return 0;
}

/*
 * One namespace's connections, resuming at cursor args[1]; returns non-zero
 * when the message filled up before its last one.
 */
static int tsor_nl_conn_net(struct tsor_net *tn, void *arg)
{
	struct tsor_nl_dump_arg *a = arg;
	long *pos = &a->cb->args[1];

	if (!a->privileged && tn->net != a->caller)
		return 0;
	*pos += tsor_conn_walk(tn, *pos, tsor_nl_dump_conn, a);
	if (a->full)
		return -EMSGSIZE;
	*pos = 0;
	return 0;
}

/*
 * Every connection of the enabled namespaces the caller may read, or of
 * the one namespace it selects.  args[0] counts namespaces finished,
 * args[1] connections finished in the current one.
 */
static int tsor_nl_conn_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct tsor_nl_dump_arg a = {
		.skb = skb,
		.cb = cb,
		.caller = sock_net(cb->skb->sk),
		.privileged = netlink_capable(cb->skb, CAP_NET_ADMIN),
	};
	struct nlattr **attrs = info->attrs;
	struct net *net;
	int err;

	if (!attrs[TSOR_ATTR_NETNS_FD] && !attrs[TSOR_ATTR_NETNS_PID]) {
		cb->args[0] += tsor_net_walk_enabled(cb->args[0],
						     tsor_nl_conn_net, &a);
		return skb->len;
	}
	if (cb->args[0])
		return 0;	/* the one namespace is done */
	net = tsor_nl_get_net(attrs, a.caller, cb->extack);
	if (IS_ERR(net))
		return PTR_ERR(net);
	err = tsor_nl_may_read(cb->skb, a.caller, net, cb->extack);
	if (!err) {
		a.privileged = true;
		if (!tsor_nl_conn_net(tsor_net(net), &a))
			cb->args[0] = 1;
	}
	put_net(net);
	return err ? err : skb->len;
}

static const struct genl_ops tsor_genl_ops[] = {
	{
		.cmd = TSOR_CMD_VERSION_GET,
		.doit = tsor_nl_version_get,
	},
	{
		.cmd = TSOR_CMD_NETNS_GET,
		.doit = tsor_nl_net_get,
		.dumpit = tsor_nl_net_dump,
		.policy = tsor_netns_get_policy,
		.maxattr = TSOR_ATTR_NETNS_PID,
	},
	{
		.cmd = TSOR_CMD_NETNS_SET,
		.doit = tsor_nl_netns_set,
		.flags = GENL_ADMIN_PERM,
		.policy = tsor_netns_set_policy,
		.maxattr = TSOR_ATTR_EXCLUDES,
	},
	{
		.cmd = TSOR_CMD_STATS_GET,
		.doit = tsor_nl_stats_get,
		.dumpit = tsor_nl_net_dump,
		.policy = tsor_stats_policy,
		.maxattr = TSOR_ATTR_GLOBAL,
	},
	{
		.cmd = TSOR_CMD_PEER_ADD,
		.doit = tsor_nl_peer_add,
		.flags = GENL_ADMIN_PERM,
		.policy = tsor_peer_policy,
		.maxattr = TSOR_ATTR_PEER,
	},
	{
		.cmd = TSOR_CMD_PEER_DEL,
		.doit = tsor_nl_peer_del,
		.flags = GENL_ADMIN_PERM,
		.policy = tsor_peer_policy,
		.maxattr = TSOR_ATTR_PEER,
	},
	{
		.cmd = TSOR_CMD_PEER_GET,
		.dumpit = tsor_nl_peer_dump,
	},
	{
		.cmd = TSOR_CMD_PEER_REPLACE,
		.doit = tsor_nl_peer_replace,
		.flags = GENL_ADMIN_PERM,
		.policy = tsor_peer_policy,
		.maxattr = TSOR_ATTR_PEER,
	},
	{
		.cmd = TSOR_CMD_CONN_GET,
		.dumpit = tsor_nl_conn_dump,
		.policy = tsor_netns_get_policy,
		.maxattr = TSOR_ATTR_NETNS_PID,
	},
	{
		.cmd = TSOR_CMD_LINK_GET,
		.dumpit = tsor_nl_link_dump,
	},
	{
		.cmd = TSOR_CMD_DEV_GET,
		.doit = tsor_nl_dev_get,
	},
	{
		.cmd = TSOR_CMD_DEV_SET,
		.doit = tsor_nl_dev_set,
		.flags = GENL_ADMIN_PERM,
		.policy = tsor_dev_policy,
		.maxattr = TSOR_ATTR_DEV,
	},
};

static struct genl_family tsor_genl_family = {
	.name = TSOR_GENL_NAME,
	.version = TSOR_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = tsor_genl_ops,
	.n_ops = ARRAY_SIZE(tsor_genl_ops),
	.resv_start_op = 0,	/* validate every command strictly */
};

int tsor_netlink_init(void)
{
	return genl_register_family(&tsor_genl_family);
}

void tsor_netlink_exit(void)
{
	genl_unregister_family(&tsor_genl_family);
}
