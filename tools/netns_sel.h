/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Selecting a network namespace in tsor requests, and reading its state
 * from replies: shared by tsorctl and the CNI plugin.
 */
#ifndef TSOR_TOOLS_NETNS_SEL_H
#define TSOR_TOOLS_NETNS_SEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/tsor.h>

#include "utils.h"

struct nlattr;
struct nlmsghdr;

/* The caller's netns when neither is set. */
struct netns_sel {
	int fd;		/* an open netns file, or -1 */
	uint32_t pid;	/* a process in the netns, or 0 */
};

/* Closes the fd, if any; the selector then means the caller's netns. */
void netns_sel_close(struct netns_sel *sel);

/* A req_fill_t adding the selector attribute, if any. */
bool netns_sel_put(struct nlmsghdr *nlh, size_t buflen, const void *sel);

/*
 * One exclusion: a port (the server's port of a connection) or a CIDR
 * (the address of the connection's other end).
 */
struct exclude {
	uint16_t port;		/* 0: a CIDR */
	struct prefix prefix;	/* with port 0 */
};

/* A namespace's exclusions, at most as many as the module holds. */
struct excludes {
	unsigned int n;
	struct exclude v[TSOR_EXCLUDE_MAX];
};

/*
 * A port (digits only, 1 to 65535) or a CIDR (ADDR/LEN, or a bare ADDR
 * for one host, no host bits set).  On error, writes why to @err.
 */
bool exclude_parse(const char *s, struct exclude *e, char *err,
		   size_t errlen);
/* "5432" or "10.0.0.0/8"; @buf holds ADDR_STRLEN bytes. */
const char *exclude_ntop(const struct exclude *e, char *buf);
/* qsort() order: ports by number, then CIDRs as "peer show" sorts them. */
int exclude_cmp(const void *a, const void *b);
/*
 * Appends @e to @l unless it is there already or @l is full: 0, or
 * -EEXIST or -E2BIG.
 */
int excludes_add(struct excludes *l, const struct exclude *e);
/* Whether two lists hold the same exclusions, in whatever order. */
bool excludes_same(const struct excludes *a, const struct excludes *b);
/* The list as text: entries separated by blanks, "none" when empty. */
void excludes_ntop(const struct excludes *l, char *buf, size_t len);

/* What TSOR_CMD_NETNS_SET carries. */
struct netns_set {
	struct netns_sel sel;
	bool enabled;
	bool keep_enabled;	/* send no ENABLED: leave it as it is */
	bool set_excludes;	/* replace the exclusions by @excludes */
	struct excludes excludes;
};

/* Upper bound of what netns_set_put() adds beyond a page. */
#define NETNS_SET_ROOM	(TSOR_EXCLUDE_MAX * 40)

/* A req_fill_t for a struct netns_set. */
bool netns_set_put(struct nlmsghdr *nlh, size_t buflen, const void *set);

/* A namespace as a NETNS_GET reply describes it. */
struct netns_state {
	uint32_t inum;
	int32_t nsid;	/* -1: none assigned */
	bool enabled;
	bool has_excludes;	/* false: a module without exclusions */
	struct excludes excludes;
};

/* From a reply's attributes; 0, or -EBADMSG if one is missing or bad. */
int netns_state_parse(const struct nlattr *const *tb,
		      struct netns_state *state);

#endif /* TSOR_TOOLS_NETNS_SEL_H */
