/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: selecting a network namespace on the command line, shared by
 * netns and stats.
 */
#ifndef TSORCTL_NETNS_H
#define TSORCTL_NETNS_H

#include "netns_sel.h"

/*
 * Parses [NAME | PATH | pid PID], the whole of @argv, for the command
 * @what.  Returns an exit code; on success netns_sel_close() must follow.
 */
int netns_sel_parse(const char *what, int argc, char **argv,
		    struct netns_sel *sel);

#endif /* TSORCTL_NETNS_H */
