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

/* What TSOR_CMD_NETNS_SET carries. */
struct netns_set {
	struct netns_sel sel;
	bool enabled;
};

/* A req_fill_t for a struct netns_set. */
bool netns_set_put(struct nlmsghdr *nlh, size_t buflen, const void *set);

/* A namespace as a NETNS_GET reply describes it. */
struct netns_state {
	uint32_t inum;
	int32_t nsid;	/* -1: none assigned */
	bool enabled;
};

/* From a reply's attributes; 0, or -EBADMSG if one is missing. */
int netns_state_parse(const struct nlattr *const *tb,
		      struct netns_state *state);

#endif /* TSOR_TOOLS_NETNS_SEL_H */
