/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: talking to the tsor generic netlink family.
 *
 * One request per run: run_request() resolves the family, sends the
 * request, hands every reply to a print callback and turns a failure
 * into one line on stderr and an exit code.
 */
#ifndef TSORCTL_NL_H
#define TSORCTL_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/tsor.h>

/* What a reply attribute must look like; NLK_NONE ones are skipped. */
enum nl_kind {
	NLK_NONE,
	NLK_FLAG,
	NLK_U8,
	NLK_U16,
	NLK_U32,	/* also s32 */
	NLK_U64,
	NLK_STRING,	/* NUL-terminated */
	NLK_NEST,
	NLK_ADDR,	/* 4 or 16 bytes */
};

/*
 * Fills @tb (@max + 1 entries) from a nest's attributes, checked against
 * @policy (@max + 1 entries).  Types past @max are newer than this tool
 * and skipped.  false if an attribute is malformed.
 */
bool nl_parse_nest(const struct nlattr *nest, const uint8_t *policy,
		   unsigned int max, const struct nlattr **tb);

/* For @tb declared as tb[ARRAY_SIZE(policy)], as every caller does. */
#define NL_PARSE_NEST(nest, policy, tb)					\
	nl_parse_nest(nest, policy, sizeof(policy) - 1, tb)

/* Value of a validated 1, 2, 4 or 8 byte unsigned attribute. */
uint64_t nl_attr_uint(const struct nlattr *attr);

/* Adds a request's attributes; false if they do not fit in @buflen. */
typedef bool (*req_fill_t)(struct nlmsghdr *nlh, size_t buflen,
			   const void *arg);

/*
 * Prints one reply from its top-level attributes; 0, or a negative errno
 * (-EBADMSG for a malformed reply).
 */
typedef int (*reply_print_t)(const struct nlattr *const *tb, void *arg);

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
	reply_print_t print;
	void *print_arg;
};

/* Sends @req and prints its replies; returns an exit code (RC_*). */
int run_request(const struct request *req);

/* Version of the family as resolved by the last run_request(). */
unsigned int nl_family_version(void);

#endif /* TSORCTL_NL_H */
