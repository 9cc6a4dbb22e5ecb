// SPDX-License-Identifier: GPL-2.0
/*
 * Selecting a network namespace in tsor requests, and reading its state
 * from replies: shared by tsorctl and the CNI plugin.
 */
#include <errno.h>
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

bool netns_set_put(struct nlmsghdr *nlh, size_t buflen, const void *arg)
{
	const struct netns_set *set = arg;

	return netns_sel_put(nlh, buflen, &set->sel) &&
	       mnl_attr_put_u8_check(nlh, buflen, TSOR_ATTR_ENABLED,
				     set->enabled);
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
	return 0;
}
