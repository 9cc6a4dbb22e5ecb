/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: one request per run, on top of nl_run(): prints its replies
 * and turns a failure into one line on stderr and an exit code.
 */
#ifndef TSORCTL_REQUEST_H
#define TSORCTL_REQUEST_H

#include "nl.h"

enum {
	REQ_DUMP	= 1 << 0,	/* NLM_F_DUMP: a reply per object */
	REQ_MODIFIES	= 1 << 1,	/* changes state: needs CAP_NET_ADMIN */
	REQ_LIST	= 1 << 2,	/* replies form a JSON array */
};

struct request {
	const char *what;	/* "netns enable": starts error messages */
	uint8_t cmd;		/* TSOR_CMD_* */
	unsigned int flags;	/* REQ_* */
	size_t room;		/* attribute bytes beyond a page, if more */
	req_fill_t fill;
	const void *fill_arg;
	nl_reply_t print;	/* prints one reply */
	void *print_arg;
};

/* Sends @req and prints its replies; returns an exit code (RC_*). */
int run_request(const struct request *req);

/* run_request() for a command that takes no arguments, as "peer show". */
int run_request_noargs(const struct request *req, int argc, char **argv);

#endif /* TSORCTL_REQUEST_H */
