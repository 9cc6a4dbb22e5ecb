// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl netns: which namespaces tsor takes over.
 */
#include <errno.h>
#include <string.h>

#include "netns.h"
#include "print.h"
#include "request.h"
#include "tsorctl.h"
#include "utils.h"

int netns_sel_parse(const char *what, int argc, char **argv,
		    struct netns_sel *sel)
{
	sel->fd = -1;
	sel->pid = 0;
	if (!argc)
		return RC_OK;
	if (!strcmp(argv[0], "pid")) {
		if (argc < 2)
			return usage_error("%s: pid needs a process id", what);
		if (!parse_u32(argv[1], 1, INT32_MAX, &sel->pid))
			return usage_error("%s: \"%s\" is not a process id",
					   what, argv[1]);
		argc -= 2;
		argv += 2;
	} else {
		sel->fd = netns_open(argv[0]);
		if (sel->fd < 0) {
			if (errno == ENOENT && !strchr(argv[0], '/'))
				return usage_error("%s: unknown netns \"%s\" (no /run/netns/%s)",
						   what, argv[0], argv[0]);
			errorf("%s: cannot open netns \"%s\": %s", what,
			       argv[0], strerror(errno));
			return errno == ENOENT ? RC_USAGE : RC_FAIL;
		}
		argc--;
		argv++;
	}
	if (argc) {
		netns_sel_close(sel);
		return usage_error("%s: unexpected argument \"%s\"", what,
				   argv[0]);
	}
	return RC_OK;
}

/* NAME inum N [nsid N] enabled|disabled [self] */
static int netns_print(const struct nlattr *const *tb, void *arg)
{
	struct netns_state ns;
	int err;

	(void)arg;
	err = netns_state_parse(tb, &ns);
	if (err)
		return err;

	print_obj_open(NULL);
	print_str("name", "%s", netns_name(ns.inum));
	print_u64("inum", " inum %s", ns.inum);
	/* Like ip-netns(8), show an nsid only if one is assigned. */
	if (ns.nsid >= 0)
		print_s64("nsid", " nsid %s", ns.nsid);
	else
		print_str("nsid", NULL, NULL);
	print_bool("enabled", " enabled", " disabled", ns.enabled);
	print_bool("self", " self", NULL, ns.inum == netns_self_inum());
	print_text("\n");
	print_obj_close();
	return 0;
}

static int netns_set(const char *what, bool enabled, int argc, char **argv)
{
	struct netns_set a = { .enabled = enabled };
	struct request req = {
		.what = what,
		.cmd = TSOR_CMD_NETNS_SET,
		.flags = REQ_MODIFIES,
		.fill = netns_set_put,
		.fill_arg = &a,
	};
	int rc;

	rc = netns_sel_parse(what, argc, argv, &a.sel);
	if (rc)
		return rc;
	rc = run_request(&req);
	netns_sel_close(&a.sel);
	return rc;
}

static int netns_enable(int argc, char **argv)
{
	return netns_set("netns enable", true, argc, argv);
}

static int netns_disable(int argc, char **argv)
{
	return netns_set("netns disable", false, argc, argv);
}

static int netns_show(int argc, char **argv)
{
	struct netns_sel sel;
	struct request req = {
		.what = "netns show",
		.cmd = TSOR_CMD_NETNS_GET,
		.flags = REQ_LIST | (argc ? 0 : REQ_DUMP),
		.fill = netns_sel_put,
		.fill_arg = &sel,
		.print = netns_print,
	};
	int rc;

	rc = netns_sel_parse(req.what, argc, argv, &sel);
	if (rc)
		return rc;
	rc = run_request(&req);
	netns_sel_close(&sel);
	return rc;
}

static const struct command netns_cmds[] = {
	{ "enable",	netns_enable },
	{ "disable",	netns_disable },
	{ "show",	netns_show },
};

const struct object netns_object = {
	.name = "netns",
	.usage =
	"netns enable [NS]\n"
	"netns disable [NS]\n"
	"netns show [NS]\n"
	"\n"
	"NS := { NAME | PATH | pid PID }\n"
	"    NAME is an ip-netns(8) name, a file under /run/netns; PATH is a\n"
	"    netns file such as /proc/PID/ns/net; PID selects the namespace of\n"
	"    that process.  Without NS, the namespace tsorctl runs in.\n"
	"enable, disable: take over (or stop taking over) the TCP sockets\n"
	"    created from now on in the namespace.  Open sockets keep their\n"
	"    path.\n"
	"show: the state of one namespace; without NS, every enabled one.\n"
	"    Lines read NAME inum INODE [nsid NSID] enabled|disabled [self],\n"
	"    NAME \"-\" when the namespace has no ip-netns name; self marks\n"
	"    tsorctl's own namespace.\n",
	.cmds = netns_cmds,
	.n_cmds = ARRAY_SIZE(netns_cmds),
	.run = netns_show,
};
