/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Talking to the tsor generic netlink family, shared by tsorctl and the
 * CNI plugin (tools/cni).
 *
 * One request per nl_run(): it resolves the family, sends the request,
 * hands every reply to a callback and waits for the ack or the end of the
 * dump.  It prints nothing: how a failure is told (tsorctl's stderr line
 * and exit code, the plugin's CNI error JSON) is the caller's business,
 * from the struct nl_status it fills.
 */
#ifndef TSOR_TOOLS_NL_H
#define TSOR_TOOLS_NL_H

#include <errno.h>
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
 * Takes one reply, given its top-level attributes (TSOR_ATTR_*, checked
 * against their types); 0, or a negative errno (-EBADMSG for a reply
 * that lacks what it needs).
 */
typedef int (*nl_reply_t)(const struct nlattr *const *tb, void *arg);

struct nl_req {
	uint8_t cmd;		/* TSOR_CMD_* */
	bool dump;		/* NLM_F_DUMP: a reply per object */
	size_t room;		/* attribute bytes beyond a page, if more */
	req_fill_t fill;	/* NULL: no attributes */
	const void *fill_arg;
	/* NULL: replies are ignored; else a do request must get one. */
	nl_reply_t reply;
	void *reply_arg;
};

/* How far nl_run() got. */
enum nl_stage {
	NL_STAGE_SOCKET,	/* opening the generic netlink socket */
	NL_STAGE_FAMILY,	/* resolving "tsor": ENOENT, module not loaded */
	NL_STAGE_BUILD,		/* building the request: ENOMEM, EMSGSIZE */
	NL_STAGE_REQUEST,	/* the exchange with the kernel */
};

struct nl_status {
	int err;		/* positive errno of the failure, 0 if none */
	enum nl_stage stage;	/* where it failed */
	unsigned int replies;	/* replies the callback took */
	char why[256];		/* the kernel's extack message, or ours */
	char warning[256];	/* an extack message on a successful ack */
};

/* 0, or a negative errno; @st tells more either way. */
int nl_run(const struct nl_req *req, struct nl_status *st);

/* The family's version as the last nl_run() resolved it (so far). */
unsigned int nl_family_version(void);

/* The failure is that the tsor family is not registered. */
static inline bool nl_no_module(const struct nl_status *st)
{
	return st->stage == NL_STAGE_FAMILY && st->err == ENOENT;
}

#endif /* TSOR_TOOLS_NL_H */
