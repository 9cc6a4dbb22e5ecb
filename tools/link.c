// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl link: the RDMA links between this node and its peers.
 */
#include <errno.h>

#include "names.h"
#include "print.h"
#include "request.h"
#include "tsorctl.h"
#include "utils.h"

static const uint8_t link_policy[TSOR_LINK_ATTR_MAX + 1] = {
	[TSOR_LINK_ATTR_LOCAL]		= NLK_ADDR,
	[TSOR_LINK_ATTR_REMOTE]		= NLK_ADDR,
	[TSOR_LINK_ATTR_STATE]		= NLK_U8,
	[TSOR_LINK_ATTR_CHANNELS]	= NLK_U32,
};

/* local ADDR remote ADDR state STATE channels N */
static int link_print(const struct nlattr *const *tb, void *arg)
{
	const struct nlattr *l[ARRAY_SIZE(link_policy)];
	char local[ADDR_STRLEN], remote[ADDR_STRLEN];
	struct inaddr a;

	(void)arg;
	if (!tb[TSOR_ATTR_LINK] ||
	    !NL_PARSE_NEST(tb[TSOR_ATTR_LINK], link_policy, l) ||
	    !l[TSOR_LINK_ATTR_LOCAL] || !l[TSOR_LINK_ATTR_REMOTE])
		return -EBADMSG;
	inaddr_from_attr(l[TSOR_LINK_ATTR_LOCAL], &a);
	inaddr_ntop(&a, local);
	inaddr_from_attr(l[TSOR_LINK_ATTR_REMOTE], &a);
	inaddr_ntop(&a, remote);

	print_obj_open(NULL);
	print_str("local", "local %s", local);
	print_str("remote", " remote %s", remote);
	print_str("state", " state %s", l[TSOR_LINK_ATTR_STATE] ?
		  link_state_name(mnl_attr_get_u8(l[TSOR_LINK_ATTR_STATE])) :
		  NULL);
	print_attr_uint("channels", " channels %s", l[TSOR_LINK_ATTR_CHANNELS]);
	print_text("\n");
	print_obj_close();
	return 0;
}

static int link_show(int argc, char **argv)
{
	struct request req = {
		.what = "link show",
		.cmd = TSOR_CMD_LINK_GET,
		.flags = REQ_DUMP | REQ_LIST,
		.print = link_print,
	};

	return run_request_noargs(&req, argc, argv);
}

static const struct command link_cmds[] = {
	{ "show",	link_show },
};

const struct object link_object = {
	.name = "link",
	.usage =
	"link show\n"
	"\n"
	"Every RDMA link from this node to a peer node: both addresses, its\n"
	"state (connecting, up or down) and how many channels it carries.\n",
	.cmds = link_cmds,
	.n_cmds = ARRAY_SIZE(link_cmds),
	.run = link_show,
};
