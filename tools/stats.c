// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl stats: tsor's counters, global or per namespace.
 *
 * Counters print under the names the kernel sends, so a module with new
 * counters needs no new tsorctl.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"
#include "print.h"
#include "request.h"
#include "tsorctl.h"
#include "utils.h"

static const uint8_t stat_policy[TSOR_STAT_ATTR_MAX + 1] = {
	[TSOR_STAT_ATTR_ID]	= NLK_U32,
	[TSOR_STAT_ATTR_NAME]	= NLK_STRING,
	[TSOR_STAT_ATTR_VALUE]	= NLK_U64,
};

struct counter {
	char name[64];
	uint64_t value;
};

struct stats_arg {
	bool all;		/* one block per netns, with a header */
	unsigned int blocks;
};

/* The counters of a TSOR_ATTR_STATS nest into *@out; 0 or -errno. */
static int stats_parse(const struct nlattr *stats, struct counter **out,
		       size_t *n)
{
	const struct nlattr *tb[ARRAY_SIZE(stat_policy)];
	const struct nlattr *stat;
	struct counter *v;
	size_t i = 0;

	*n = 0;
	mnl_attr_for_each_nested(stat, stats)
		if (mnl_attr_get_type(stat) == TSOR_ATTR_STAT)
			(*n)++;
	v = calloc(*n ? *n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	mnl_attr_for_each_nested(stat, stats) {
		if (mnl_attr_get_type(stat) != TSOR_ATTR_STAT)
			continue;
		if (mnl_attr_validate(stat, MNL_TYPE_NESTED) < 0 ||
		    !NL_PARSE_NEST(stat, stat_policy, tb) ||
		    !tb[TSOR_STAT_ATTR_VALUE] ||
		    (!tb[TSOR_STAT_ATTR_NAME] && !tb[TSOR_STAT_ATTR_ID])) {
			free(v);
			return -EBADMSG;
		}
		if (tb[TSOR_STAT_ATTR_NAME])
			snprintf(v[i].name, sizeof(v[i].name), "%s",
				 mnl_attr_get_str(tb[TSOR_STAT_ATTR_NAME]));
		else
			snprintf(v[i].name, sizeof(v[i].name), "stat%u",
				 mnl_attr_get_u32(tb[TSOR_STAT_ATTR_ID]));
		v[i++].value = mnl_attr_get_u64(tb[TSOR_STAT_ATTR_VALUE]);
	}
	*out = v;
	return 0;
}

static int stats_print(const struct nlattr *const *tb, void *arg)
{
	const struct nlattr *inum_attr = tb[TSOR_ATTR_NETNS_INUM];
	struct stats_arg *a = arg;
	const char *indent = a->all ? "    " : "";
	struct counter *v;
	size_t n, i;
	int width = 0, err;

	if (!tb[TSOR_ATTR_STATS])
		return -EBADMSG;
	err = stats_parse(tb[TSOR_ATTR_STATS], &v, &n);
	if (err)
		return err;

	print_obj_open(NULL);
	/* Only a namespace's reply names one. */
	print_str("scope", NULL, inum_attr ? "netns" : "global");
	if (inum_attr) {
		uint32_t inum = mnl_attr_get_u32(inum_attr);

		print_u64("inum", NULL, inum);
		print_str("name", NULL, netns_name(inum));
		if (a->all)
			print_text("%snetns %s inum %" PRIu32 "\n",
				   a->blocks ? "\n" : "",
				   netns_name(inum) ?: "-", inum);
	}
	a->blocks++;

	for (i = 0; i < n; i++)
		if ((int)strlen(v[i].name) > width)
			width = (int)strlen(v[i].name);
	print_obj_open("stats");
	for (i = 0; i < n; i++) {
		if (print_json())
			print_u64(v[i].name, NULL, v[i].value);
		else
			printf("%s%-*s %" PRIu64 "\n", indent, width,
			       v[i].name, v[i].value);
	}
	print_obj_close();
	print_obj_close();
	free(v);
	return 0;
}

static bool stats_global_fill(struct nlmsghdr *nlh, size_t buflen,
			      const void *arg)
{
	(void)arg;
	return mnl_attr_put_check(nlh, buflen, TSOR_ATTR_GLOBAL, 0, NULL);
}

/* stats [show] [global | netns [NS] | pid PID | all] */
static int stats_show(int argc, char **argv)
{
	struct stats_arg a = { 0 };
	struct netns_sel sel = { .fd = -1 };
	struct request req = {
		.what = "stats",
		.cmd = TSOR_CMD_STATS_GET,
		.print = stats_print,
		.print_arg = &a,
	};
	int rc;

	if (!argc || !strcmp(argv[0], "global")) {
		req.fill = stats_global_fill;
		argc = argc ? argc - 1 : 0;
		argv++;
	} else if (!strcmp(argv[0], "all")) {
		req.flags = REQ_DUMP | REQ_LIST;
		a.all = true;
		argc--;
		argv++;
	} else if (!strcmp(argv[0], "netns") || !strcmp(argv[0], "pid")) {
		bool pid = argv[0][0] == 'p';

		/* "pid PID" is the selector itself; "netns" precedes one. */
		rc = netns_sel_parse(req.what, pid ? argc : argc - 1,
				     pid ? argv : argv + 1, &sel);
		if (rc)
			return rc;
		req.fill = netns_sel_put;
		req.fill_arg = &sel;
		argc = 0;
	} else {
		return usage_error("stats: unknown scope \"%s\" (want global, netns, pid or all)",
				   argv[0]);
	}
	if (argc)
		return usage_error("stats: unexpected argument \"%s\"",
				   argv[0]);
	rc = run_request(&req);
	netns_sel_close(&sel);
	return rc;
}

static const struct command stats_cmds[] = {
	{ "show",	stats_show },
};

const struct object stats_object = {
	.name = "stats",
	.usage =
	"stats [show] [global | netns [NS] | pid PID | all]\n"
	"\n"
	"NS := { NAME | PATH }, as for netns.\n"
	"global (the default): tsor's counters summed over every namespace.\n"
	"netns NS, pid PID: the counters of one namespace; \"netns\" alone is\n"
	"    tsorctl's own.\n"
	"all: the counters of every enabled namespace, one block each.\n"
	"Counters print as \"name value\" lines, under the kernel's names.\n",
	.cmds = stats_cmds,
	.n_cmds = ARRAY_SIZE(stats_cmds),
	.run = stats_show,
	.implicit = true,
};
