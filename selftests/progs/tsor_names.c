// SPDX-License-Identifier: GPL-2.0
/* Name tables for <linux/tsor.h>; see tsor_names.h. */
#include "tsor_names.h"

#include <stddef.h>
#include <strings.h>

#include <linux/tsor.h>

#include "common.h"

/* The name is the enum constant minus its prefix, so they cannot drift. */
#define ENTRY(prefix, name, kind, nest) \
	[prefix##name] = { #name, kind, nest }

/* A table whose size must track the enum's *_MAX. */
#define TABLE(var, what_, arr, max)					\
	_Static_assert(ARRAY_SIZE(arr) == (max) + 1,			\
		       "update " #arr " for the new <linux/tsor.h> values"); \
	const struct nl_table var = { what_, arr, ARRAY_SIZE(arr) }

#define CMD(name)	ENTRY(TSOR_CMD_, name, NK_NONE, NULL)
static const struct nl_desc cmds[] = {
	CMD(UNSPEC),
	CMD(VERSION_GET),
	CMD(NETNS_GET),
	CMD(NETNS_SET),
	CMD(STATS_GET),
	CMD(PEER_ADD),
	CMD(PEER_DEL),
	CMD(PEER_GET),
	CMD(PEER_REPLACE),
	CMD(CONN_GET),
	CMD(LINK_GET),
	CMD(DEV_GET),
	CMD(DEV_SET),
};
TABLE(tsor_cmd_table, "tsor_cmd", cmds, TSOR_CMD_MAX);

#define ATTR(name, kind, nest)	ENTRY(TSOR_ATTR_, name, kind, nest)
static const struct nl_desc attrs[] = {
	ATTR(UNSPEC,	 NK_BIN,  NULL),
	ATTR(PAD,	 NK_PAD,  NULL),
	ATTR(VERSION,	 NK_STR,  NULL),
	ATTR(FEATURES,	 NK_U32,  NULL),
	ATTR(PROTOCOL,	 NK_U32,  NULL),
	ATTR(NETNS_FD,	 NK_U32,  NULL),
	ATTR(NETNS_PID,	 NK_U32,  NULL),
	ATTR(NETNS_INUM, NK_U32,  NULL),
	ATTR(NETNS_NSID, NK_S32,  NULL),
	ATTR(ENABLED,	 NK_U8,   NULL),
	ATTR(GLOBAL,	 NK_FLAG, NULL),
	/* STATS holds TSOR_ATTR_STAT entries, i.e. top-level attributes. */
	ATTR(STATS,	 NK_NEST, &tsor_attr_table),
	ATTR(STAT,	 NK_NEST, &tsor_stat_attr_table),
	ATTR(PEER,	 NK_NEST, &tsor_peer_attr_table),
	ATTR(CONN,	 NK_NEST, &tsor_conn_attr_table),
	ATTR(LINK,	 NK_NEST, &tsor_link_attr_table),
	ATTR(DEV,	 NK_NEST, &tsor_dev_attr_table),
	/* EXCLUDES holds TSOR_ATTR_EXCLUDE entries, i.e. top-level ones. */
	ATTR(EXCLUDES,	 NK_NEST, &tsor_attr_table),
	ATTR(EXCLUDE,	 NK_NEST, &tsor_exclude_attr_table),
};
TABLE(tsor_attr_table, "tsor_attr", attrs, TSOR_ATTR_MAX);

#define STAT(name, kind)	ENTRY(TSOR_STAT_ATTR_, name, kind, NULL)
static const struct nl_desc stat_attrs[] = {
	STAT(UNSPEC,	NK_BIN),
	STAT(PAD,	NK_PAD),
	STAT(ID,	NK_U32),
	STAT(NAME,	NK_STR),
	STAT(VALUE,	NK_U64),
};
TABLE(tsor_stat_attr_table, "tsor_stat_attr", stat_attrs, TSOR_STAT_ATTR_MAX);

#define PEER(name, kind)	ENTRY(TSOR_PEER_ATTR_, name, kind, NULL)
static const struct nl_desc peer_attrs[] = {
	PEER(UNSPEC,	NK_BIN),
	PEER(PREFIX,	NK_ADDR),
	PEER(PREFIXLEN,	NK_U8),
	PEER(NODE,	NK_ADDR),
};
TABLE(tsor_peer_attr_table, "tsor_peer_attr", peer_attrs, TSOR_PEER_ATTR_MAX);

#define CONN(name, kind)	ENTRY(TSOR_CONN_ATTR_, name, kind, NULL)
static const struct nl_desc conn_attrs[] = {
	CONN(UNSPEC,	 NK_BIN),
	CONN(PAD,	 NK_PAD),
	CONN(NETNS_INUM, NK_U32),
	CONN(FAMILY,	 NK_U16),
	CONN(SADDR,	 NK_ADDR),
	CONN(DADDR,	 NK_ADDR),
	CONN(SPORT,	 NK_U16),
	CONN(DPORT,	 NK_U16),
	CONN(PATH,	 NK_U8),
	CONN(FALLBACK,	 NK_U8),
	CONN(TX_BYTES,	 NK_U64),
	CONN(RX_BYTES,	 NK_U64),
	CONN(CREDITS,	 NK_U32),
};
TABLE(tsor_conn_attr_table, "tsor_conn_attr", conn_attrs, TSOR_CONN_ATTR_MAX);

#define LINK(name, kind)	ENTRY(TSOR_LINK_ATTR_, name, kind, NULL)
static const struct nl_desc link_attrs[] = {
	LINK(UNSPEC,	NK_BIN),
	LINK(LOCAL,	NK_ADDR),
	LINK(REMOTE,	NK_ADDR),
	LINK(STATE,	NK_U8),
	LINK(CHANNELS,	NK_U32),
};
TABLE(tsor_link_attr_table, "tsor_link_attr", link_attrs, TSOR_LINK_ATTR_MAX);

#define DEV(name, kind)		ENTRY(TSOR_DEV_ATTR_, name, kind, NULL)
static const struct nl_desc dev_attrs[] = {
	DEV(UNSPEC,	NK_BIN),
	DEV(IBDEV,	NK_STR),
	DEV(ADDR,	NK_ADDR),
	DEV(PORT,	NK_U16),
	DEV(LOCAL_PATH,	NK_U8),
};
TABLE(tsor_dev_attr_table, "tsor_dev_attr", dev_attrs, TSOR_DEV_ATTR_MAX);

#define EXCLUDE(name, kind)	ENTRY(TSOR_EXCLUDE_ATTR_, name, kind, NULL)
static const struct nl_desc exclude_attrs[] = {
	EXCLUDE(UNSPEC,		NK_BIN),
	EXCLUDE(PORT,		NK_U16),
	EXCLUDE(PREFIX,		NK_ADDR),
	EXCLUDE(PREFIXLEN,	NK_U8),
};
TABLE(tsor_exclude_attr_table, "tsor_exclude_attr", exclude_attrs,
      TSOR_EXCLUDE_ATTR_MAX);

int nl_lookup(const struct nl_table *t, const char *name)
{
	unsigned int i;

	for (i = 0; t && i < t->n; i++)
		if (t->desc[i].name && !strcasecmp(t->desc[i].name, name))
			return (int)i;
	return -1;
}

const struct nl_desc *nl_desc(const struct nl_table *t, unsigned int v)
{
	if (!t || v >= t->n || !t->desc[v].name)
		return NULL;
	return &t->desc[v];
}
