// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl dev: this node's RDMA endpoint.
 */
#include <errno.h>
#include <string.h>

#include "names.h"
#include "print.h"
#include "request.h"
#include "tsorctl.h"
#include "utils.h"

static const uint8_t dev_policy[TSOR_DEV_ATTR_MAX + 1] = {
	[TSOR_DEV_ATTR_IBDEV]		= NLK_STRING,
	[TSOR_DEV_ATTR_ADDR]		= NLK_ADDR,
	[TSOR_DEV_ATTR_PORT]		= NLK_U16,
	[TSOR_DEV_ATTR_LOCAL_PATH]	= NLK_U8,
};

/* ibdev NAME addr ADDR port PORT local-path PATH */
static int dev_print(const struct nlattr *const *tb, void *arg)
{
	const struct nlattr *d[ARRAY_SIZE(dev_policy)];
	char addr[ADDR_STRLEN];
	struct inaddr a;

	(void)arg;
	if (!tb[TSOR_ATTR_DEV] ||
	    !NL_PARSE_NEST(tb[TSOR_ATTR_DEV], dev_policy, d))
		return -EBADMSG;

	print_obj_open(NULL);
	print_str("ibdev", "ibdev %s", d[TSOR_DEV_ATTR_IBDEV] ?
		  mnl_attr_get_str(d[TSOR_DEV_ATTR_IBDEV]) : NULL);
	print_str("addr", " addr %s", d[TSOR_DEV_ATTR_ADDR] &&
		  inaddr_from_attr(d[TSOR_DEV_ATTR_ADDR], &a) ?
		  inaddr_ntop(&a, addr) : NULL);
	print_attr_uint("port", " port %s", d[TSOR_DEV_ATTR_PORT]);
	print_str("local_path", " local-path %s\n",
		  d[TSOR_DEV_ATTR_LOCAL_PATH] ?
		  local_path_name(mnl_attr_get_u8(d[TSOR_DEV_ATTR_LOCAL_PATH])) :
		  NULL);
	print_obj_close();
	return 0;
}

static int dev_show(int argc, char **argv)
{
	struct request req = {
		.what = "dev show",
		.cmd = TSOR_CMD_DEV_GET,
		.print = dev_print,
	};

	return run_request_noargs(&req, argc, argv);
}

/* What "dev set" changes; the rest stays as it is. */
struct dev_set {
	const char *ibdev;
	struct inaddr addr;	/* family 0: unchanged */
	uint32_t port;		/* 0: unchanged */
	uint8_t local_path;
	bool has_local_path;
};

static bool dev_set_fill(struct nlmsghdr *nlh, size_t buflen, const void *arg)
{
	const struct dev_set *s = arg;
	struct nlattr *nest;

	nest = mnl_attr_nest_start_check(nlh, buflen, TSOR_ATTR_DEV);
	if (!nest)
		return false;
	if ((s->ibdev &&
	     !mnl_attr_put_strz_check(nlh, buflen, TSOR_DEV_ATTR_IBDEV,
				      s->ibdev)) ||
	    (s->addr.family &&
	     !mnl_attr_put_check(nlh, buflen, TSOR_DEV_ATTR_ADDR,
				 inaddr_len(&s->addr), s->addr.bytes)) ||
	    (s->port &&
	     !mnl_attr_put_u16_check(nlh, buflen, TSOR_DEV_ATTR_PORT,
				     (uint16_t)s->port)) ||
	    (s->has_local_path &&
	     !mnl_attr_put_u8_check(nlh, buflen, TSOR_DEV_ATTR_LOCAL_PATH,
				    s->local_path))) {
		mnl_attr_nest_cancel(nlh, nest);
		return false;
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

/* Parses one "KEY VALUE" pair of dev set into @s; an exit code. */
static int dev_set_parse(const char *key, const char *val, struct dev_set *s)
{
	static const char *const keys[] = {
		"ibdev", "addr", "port", "local-path",
	};
	bool twice = false;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(keys) && strcmp(key, keys[i]); i++)
		;
	if (i == ARRAY_SIZE(keys))
		return usage_error("dev set: unknown setting \"%s\" (want ibdev, addr, port or local-path)",
				   key);
	if (!val)
		return usage_error("dev set: %s needs a value", key);

	if (!strcmp(key, "ibdev")) {
		twice = s->ibdev;
		if (!*val || strlen(val) >= TSOR_IBDEV_NAME_MAX)
			return usage_error("dev set: \"%s\" is not an RDMA device name",
					   val);
		s->ibdev = val;
	} else if (!strcmp(key, "addr")) {
		twice = s->addr.family;
		if (!inaddr_parse(val, &s->addr))
			return usage_error("dev set: %s: not an IPv4 or IPv6 address",
					   val);
	} else if (!strcmp(key, "port")) {
		twice = s->port;
		if (!parse_u32(val, 1, UINT16_MAX, &s->port))
			return usage_error("dev set: \"%s\" is not a port (want 1 to 65535)",
					   val);
	} else if (!strcmp(key, "local-path")) {
		twice = s->has_local_path;
		if (!local_path_parse(val, &s->local_path))
			return usage_error("dev set: local-path \"%s\" is not shm or rdma",
					   val);
		s->has_local_path = true;
	}
	return twice ? usage_error("dev set: %s given twice", key) : RC_OK;
}

/* dev set [ibdev NAME] [addr ADDR] [port PORT] [local-path shm|rdma] */
static int dev_set(int argc, char **argv)
{
	struct dev_set s = { 0 };
	struct request req = {
		.what = "dev set",
		.cmd = TSOR_CMD_DEV_SET,
		.flags = REQ_MODIFIES,
		.fill = dev_set_fill,
		.fill_arg = &s,
	};
	int i;

	if (!argc)
		return usage_error("dev set: nothing to set (want ibdev, addr, port or local-path)");
	/* argv[argc] is NULL: a last key without value gets NULL. */
	for (i = 0; i < argc; i += 2) {
		int rc = dev_set_parse(argv[i], argv[i + 1], &s);

		if (rc)
			return rc;
	}
	return run_request(&req);
}

static const struct command dev_cmds[] = {
	{ "show",	dev_show },
	{ "set",	dev_set },
};

const struct object dev_object = {
	.name = "dev",
	.usage =
	"dev show\n"
	"dev set [ibdev NAME] [addr ADDR] [port PORT] [local-path { shm | rdma }]\n"
	"\n"
	"This node's RDMA endpoint: the RDMA device, the address and port its\n"
	"rdma_cm listener uses, and how two pods on this node are joined\n"
	"(shared memory, or RDMA loopback).  set changes only what it names.\n",
	.cmds = dev_cmds,
	.n_cmds = ARRAY_SIZE(dev_cmds),
	.run = dev_show,
};
