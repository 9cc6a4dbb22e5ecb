// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl netns: which namespaces tsor takes over.
 */
#include <errno.h>
#include <stdio.h>
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

/*
 * Text: " exclude 5432 10.0.0.0/8", nothing if none.  JSON: an array of
 * ports (numbers) and CIDRs (strings), as the CNI plugin takes them.
 */
static void excludes_print(const struct excludes *l)
{
	char buf[ADDR_STRLEN];
	unsigned int i;

	if (!print_json() && !l->n)
		return;
	print_arr_open("exclude");
	print_text(" exclude");
	for (i = 0; i < l->n; i++) {
		if (l->v[i].port)
			print_u64(NULL, " %s", l->v[i].port);
		else
			print_str(NULL, " %s", prefix_ntop(&l->v[i].prefix, buf));
	}
	print_arr_close();
}

/* NAME inum N [nsid N] enabled|disabled [self] [exclude ENTRY...] */
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
	excludes_print(&ns.excludes);
	print_text("\n");
	print_obj_close();
	return 0;
}

/*
 * exclude { none | ENTRY... }, the rest of the command line, into @a;
 * @argv[0] is "exclude".
 */
static int excludes_parse_args(const char *what, int argc, char **argv,
			       struct netns_set *a)
{
	char err[256], buf[ADDR_STRLEN];
	struct exclude e;
	int i;

	a->set_excludes = true;
	a->excludes.n = 0;
	if (argc < 2)
		return usage_error("%s: exclude needs ports or CIDRs, or none",
				   what);
	if (!strcmp(argv[1], "none")) {
		if (argc > 2)
			return usage_error("%s: unexpected argument \"%s\" after exclude none",
					   what, argv[2]);
		return RC_OK;
	}
	for (i = 1; i < argc; i++) {
		if (!exclude_parse(argv[i], &e, err, sizeof(err)))
			return usage_error("%s: exclude %s", what, err);
		switch (excludes_add(&a->excludes, &e)) {
		case -EEXIST:
			return usage_error("%s: exclude %s: given twice", what,
					   exclude_ntop(&e, buf));
		case -E2BIG:
			return usage_error("%s: more than %d exclusions", what,
					   TSOR_EXCLUDE_MAX);
		}
	}
	return RC_OK;
}

/*
 * [NS] [exclude LIST]: the selector ends where the keyword starts.
 * @need_exclude: the command means nothing without the list.
 */
static int netns_set(const char *what, struct netns_set *a, bool may_exclude,
		     bool need_exclude, int argc, char **argv)
{
	struct request req = {
		.what = what,
		.cmd = TSOR_CMD_NETNS_SET,
		.flags = REQ_MODIFIES,
		.room = NETNS_SET_ROOM,
		.fill = netns_set_put,
		.fill_arg = a,
	};
	int rc, n;

	for (n = 0; n < argc && strcmp(argv[n], "exclude"); n++)
		;
	if (n < argc && !may_exclude)
		return usage_error("%s: unexpected argument \"%s\"", what,
				   argv[n]);
	if (n < argc) {
		rc = excludes_parse_args(what, argc - n, argv + n, a);
		if (rc)
			return rc;
	} else if (need_exclude) {
		return usage_error("%s: missing \"exclude\" (what to change)",
				   what);
	}
	rc = netns_sel_parse(what, n, argv, &a->sel);
	if (rc)
		return rc;
	rc = run_request(&req);
	netns_sel_close(&a->sel);
	return rc;
}

static int netns_enable(int argc, char **argv)
{
	struct netns_set a = { .enabled = true };

	return netns_set("netns enable", &a, true, false, argc, argv);
}

static int netns_disable(int argc, char **argv)
{
	struct netns_set a = { .enabled = false };

	return netns_set("netns disable", &a, false, false, argc, argv);
}

static int netns_change(int argc, char **argv)
{
	struct netns_set a = { .keep_enabled = true };

	return netns_set("netns change", &a, true, true, argc, argv);
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
	{ "change",	netns_change },
	{ "show",	netns_show },
};

const struct object netns_object = {
	.name = "netns",
	.usage =
	"netns enable [NS] [exclude LIST]\n"
	"netns disable [NS]\n"
	"netns change [NS] exclude LIST\n"
	"netns show [NS]\n"
	"\n"
	"NS := { NAME | PATH | pid PID }\n"
	"    NAME is an ip-netns(8) name, a file under /run/netns; PATH is a\n"
	"    netns file such as /proc/PID/ns/net; PID selects the namespace of\n"
	"    that process.  Without NS, the namespace tsorctl runs in.\n"
	"LIST := { none | ENTRY [ENTRY...] }   ENTRY := { PORT | CIDR }\n"
	"    Connections to or from a PORT (the server's port, whichever end\n"
	"    is in the namespace), or with a peer in CIDR, stay plain TCP.\n"
	"    A CIDR is ADDR/LEN or a bare ADDR; at most 64 entries.\n"
	"enable, disable: take over (or stop taking over) the TCP sockets\n"
	"    created from now on in the namespace.  Open sockets keep their\n"
	"    path.  With exclude, enable also replaces the exclusions, in the\n"
	"    same step; without, they stay as they are.\n"
	"change: replace the exclusions only (none: remove them all).\n"
	"show: the state of one namespace; without NS, every enabled one.\n"
	"    Lines read NAME inum INODE [nsid NSID] enabled|disabled [self]\n"
	"    [exclude ENTRY...], NAME \"-\" when the namespace has no\n"
	"    ip-netns name; self marks tsorctl's own namespace.\n",
	.cmds = netns_cmds,
	.n_cmds = ARRAY_SIZE(netns_cmds),
	.run = netns_show,
};
