/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of tsor's generic netlink commands and attributes, derived from
 * the enums of <linux/tsor.h>.  This is the one place to update when the
 * uapi grows; tsor_names.c fails to compile until every table covers its
 * enum up to *_MAX.
 */
#ifndef TSOR_PROGS_NAMES_H
#define TSOR_PROGS_NAMES_H

#include <stdbool.h>

/* How a reply attribute is printed. */
enum nl_kind {
	NK_NONE,	/* unused slot or a command name */
	NK_PAD,		/* alignment padding: not printed */
	NK_U8, NK_U16, NK_U32, NK_U64, NK_S32,
	NK_STR,
	NK_FLAG,
	NK_BIN,		/* hex */
	NK_ADDR,	/* 4 or 16 bytes: an IP address */
	NK_NEST,
};

struct nl_table;

struct nl_desc {
	const char *name;		/* without prefix, e.g. "ENABLED" */
	enum nl_kind kind;
	const struct nl_table *nest;	/* NK_NEST: what the nest holds */
};

struct nl_table {
	const char *what;		/* "tsor_attr", for messages */
	const struct nl_desc *desc;	/* indexed by enum value */
	unsigned int n;
};

extern const struct nl_table tsor_cmd_table;
extern const struct nl_table tsor_attr_table;
extern const struct nl_table tsor_stat_attr_table;
extern const struct nl_table tsor_peer_attr_table;
extern const struct nl_table tsor_conn_attr_table;
extern const struct nl_table tsor_link_attr_table;
extern const struct nl_table tsor_dev_attr_table;
extern const struct nl_table tsor_exclude_attr_table;

/* Case-insensitive name -> value; -1 if unknown. */
int nl_lookup(const struct nl_table *t, const char *name);
/* Value -> descriptor; NULL if @t is NULL or the value is unknown. */
const struct nl_desc *nl_desc(const struct nl_table *t, unsigned int v);

#endif /* TSOR_PROGS_NAMES_H */
