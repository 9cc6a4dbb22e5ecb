// SPDX-License-Identifier: GPL-2.0
/*
 * Selecting a network namespace in tsor requests, and reading its state
 * from replies: shared by tsorctl and the CNI plugin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns_sel.h"
#include "nl.h"

void netns_sel_close(struct netns_sel *sel)
{
	if (sel->fd >= 0)
		close(sel->fd);
	sel->fd = -1;
}

bool netns_sel_put(struct nlmsghdr *nlh, size_t buflen, const void *arg)
{
	const struct netns_sel *sel = arg;

	if (sel->fd >= 0)
		return mnl_attr_put_u32_check(nlh, buflen, TSOR_ATTR_NETNS_FD,
					      (uint32_t)sel->fd);
	if (sel->pid)
		return mnl_attr_put_u32_check(nlh, buflen, TSOR_ATTR_NETNS_PID,
					      sel->pid);
	return true;
}

/* Exclusions */

bool exclude_parse(const char *s, struct exclude *e, char *err,
		   size_t errlen)
{
	uint32_t port;

	memset(e, 0, sizeof(*e));
	if (*s >= '0' && *s <= '9' && !strpbrk(s, ".:/")) {
		if (parse_u32(s, 1, 65535, &port)) {
			e->port = (uint16_t)port;
			return true;
		}
		snprintf(err, errlen, "%s: not a port (want 1 to 65535)", s);
		return false;
	}
	return prefix_parse(s, &e->prefix, err, errlen);
}

const char *exclude_ntop(const struct exclude *e, char *buf)
{
	if (e->port) {
		snprintf(buf, ADDR_STRLEN, "%u", e->port);
		return buf;
	}
	return prefix_ntop(&e->prefix, buf);
}

int exclude_cmp(const void *a, const void *b)
{
	const struct exclude *x = a, *y = b;
	const struct prefix *p = &x->prefix, *q = &y->prefix;

	if (!x->port != !y->port)
		return x->port ? -1 : 1;
	if (x->port)
		return (int)x->port - (int)y->port;
	if (p->addr.family != q->addr.family)
		return p->addr.family == AF_INET ? -1 : 1;
	if (p->len != q->len)
		return (int)p->len - (int)q->len;
	return memcmp(p->addr.bytes, q->addr.bytes, inaddr_len(&p->addr));
}

int excludes_add(struct excludes *l, const struct exclude *e)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (!exclude_cmp(&l->v[i], e))
			return -EEXIST;
	if (l->n == TSOR_EXCLUDE_MAX)
		return -E2BIG;
	l->v[l->n++] = *e;
	return 0;
}

bool excludes_same(const struct excludes *a, const struct excludes *b)
{
	struct excludes x = *a, y = *b;
	unsigned int i;

	if (x.n != y.n)
		return false;
	qsort(x.v, x.n, sizeof(x.v[0]), exclude_cmp);
	qsort(y.v, y.n, sizeof(y.v[0]), exclude_cmp);
	for (i = 0; i < x.n; i++)
		if (exclude_cmp(&x.v[i], &y.v[i]))
			return false;
	return true;
}

void excludes_ntop(const struct excludes *l, char *buf, size_t len)
{
	char one[ADDR_STRLEN];
	size_t used = 0;
	unsigned int i;

	snprintf(buf, len, "none");
	for (i = 0; i < l->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? " " : "",
					 exclude_ntop(&l->v[i], one));
}

static bool exclude_put(struct nlmsghdr *nlh, size_t buflen,
			const struct exclude *e)
{
	struct nlattr *nest;

	nest = mnl_attr_nest_start_check(nlh, buflen, TSOR_ATTR_EXCLUDE);
	if (!nest)
		return false;
	if (e->port ?
	    !mnl_attr_put_u16_check(nlh, buflen, TSOR_EXCLUDE_ATTR_PORT,
				    e->port) :
	    !mnl_attr_put_check(nlh, buflen, TSOR_EXCLUDE_ATTR_PREFIX,
				inaddr_len(&e->prefix.addr),
				e->prefix.addr.bytes) ||
	    !mnl_attr_put_u8_check(nlh, buflen, TSOR_EXCLUDE_ATTR_PREFIXLEN,
				   (uint8_t)e->prefix.len)) {
		mnl_attr_nest_cancel(nlh, nest);
		return false;
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

/* The whole list, present even when empty: that clears it. */
static bool excludes_put(struct nlmsghdr *nlh, size_t buflen,
			 const struct excludes *l)
{
	struct nlattr *nest;
	unsigned int i;

	nest = mnl_attr_nest_start_check(nlh, buflen, TSOR_ATTR_EXCLUDES);
	if (!nest)
		return false;
	for (i = 0; i < l->n; i++) {
		if (!exclude_put(nlh, buflen, &l->v[i])) {
			mnl_attr_nest_cancel(nlh, nest);
			return false;
		}
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

bool netns_set_put(struct nlmsghdr *nlh, size_t buflen, const void *arg)
{
	const struct netns_set *set = arg;

	return netns_sel_put(nlh, buflen, &set->sel) &&
	       (set->keep_enabled ||
		mnl_attr_put_u8_check(nlh, buflen, TSOR_ATTR_ENABLED,
				      set->enabled)) &&
	       (!set->set_excludes ||
		excludes_put(nlh, buflen, &set->excludes));
}

static const uint8_t exclude_policy[TSOR_EXCLUDE_ATTR_MAX + 1] = {
	[TSOR_EXCLUDE_ATTR_PORT]	= NLK_U16,
	[TSOR_EXCLUDE_ATTR_PREFIX]	= NLK_ADDR,
	[TSOR_EXCLUDE_ATTR_PREFIXLEN]	= NLK_U8,
};

/* One TSOR_ATTR_EXCLUDE of a reply; false if malformed. */
static bool exclude_from_attr(const struct nlattr *attr, struct exclude *e)
{
	const struct nlattr *tb[sizeof(exclude_policy)];

	memset(e, 0, sizeof(*e));
	if (!NL_PARSE_NEST(attr, exclude_policy, tb))
		return false;
	if (tb[TSOR_EXCLUDE_ATTR_PORT]) {
		e->port = mnl_attr_get_u16(tb[TSOR_EXCLUDE_ATTR_PORT]);
		return e->port && !tb[TSOR_EXCLUDE_ATTR_PREFIX];
	}
	if (!tb[TSOR_EXCLUDE_ATTR_PREFIX] || !tb[TSOR_EXCLUDE_ATTR_PREFIXLEN])
		return false;
	inaddr_from_attr(tb[TSOR_EXCLUDE_ATTR_PREFIX], &e->prefix.addr);
	e->prefix.len = mnl_attr_get_u8(tb[TSOR_EXCLUDE_ATTR_PREFIXLEN]);
	return e->prefix.len <= inaddr_len(&e->prefix.addr) * 8;
}

static int excludes_parse(const struct nlattr *nest, struct excludes *l)
{
	const struct nlattr *attr;

	l->n = 0;
	mnl_attr_for_each_nested(attr, nest) {
		/* Other types are newer than this tool. */
		if (mnl_attr_get_type(attr) != TSOR_ATTR_EXCLUDE)
			continue;
		if (l->n == TSOR_EXCLUDE_MAX ||
		    !exclude_from_attr(attr, &l->v[l->n]))
			return -EBADMSG;
		l->n++;
	}
	return 0;
}

int netns_state_parse(const struct nlattr *const *tb,
		      struct netns_state *state)
{
	if (!tb[TSOR_ATTR_NETNS_INUM] || !tb[TSOR_ATTR_ENABLED])
		return -EBADMSG;
	state->inum = mnl_attr_get_u32(tb[TSOR_ATTR_NETNS_INUM]);
	state->nsid = tb[TSOR_ATTR_NETNS_NSID] ?
		      (int32_t)mnl_attr_get_u32(tb[TSOR_ATTR_NETNS_NSID]) : -1;
	state->enabled = mnl_attr_get_u8(tb[TSOR_ATTR_ENABLED]);
	state->has_excludes = tb[TSOR_ATTR_EXCLUDES];
	state->excludes.n = 0;
	if (state->has_excludes)
		return excludes_parse(tb[TSOR_ATTR_EXCLUDES], &state->excludes);
	return 0;
}
