/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: selecting a network namespace, shared by netns and stats.
 */
#ifndef TSORCTL_NETNS_H
#define TSORCTL_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* The caller's netns when neither is set. */
struct netns_sel {
	int fd;		/* an open netns file, or -1 */
	uint32_t pid;	/* a process in the netns, or 0 */
};

/*
 * Parses [NAME | PATH | pid PID], the whole of @argv, for the command
 * @what.  Returns an exit code; on success netns_sel_close() must follow.
 */
int netns_sel_parse(const char *what, int argc, char **argv,
		    struct netns_sel *sel);
void netns_sel_close(struct netns_sel *sel);

/* A req_fill_t adding the selector attribute, if any. */
bool netns_sel_put(struct nlmsghdr *nlh, size_t buflen, const void *sel);

#endif /* TSORCTL_NETNS_H */
