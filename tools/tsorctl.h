/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: what the object files share with main.c.
 */
#ifndef TSORCTL_H
#define TSORCTL_H

#include <stdbool.h>

#define TSORCTL_VERSION	"0.1.0"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Exit codes are interface: scripts branch on them. */
enum {
	RC_OK		= 0,
	RC_FAIL		= 1,	/* the kernel refused or failed */
	RC_USAGE	= 2,	/* bad command line or input file */
	RC_NOMODULE	= 3,	/* the tsor family is not registered */
	RC_PERM		= 4,	/* EPERM/EACCES from the kernel */
};

struct command {
	const char *name;	/* must stay first: see match_word() */
	int (*run)(int argc, char **argv);
};

struct object {
	const char *name;	/* must stay first: see match_word() */
	/* Synopsis lines ("netns show [NS]"), a blank line, then notes. */
	const char *usage;
	const struct command *cmds;	/* NULL: @run takes every argument */
	unsigned int n_cmds;
	/* Runs when no command is given; NULL makes a command mandatory. */
	int (*run)(int argc, char **argv);
	/* An unknown first word is an argument of @run ("stats global"). */
	bool implicit;
};

extern const struct object netns_object;
extern const struct object stats_object;
extern const struct object version_object;
extern const struct object peer_object;
extern const struct object conn_object;
extern const struct object link_object;
extern const struct object dev_object;

#endif /* TSORCTL_H */
