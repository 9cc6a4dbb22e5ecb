// SPDX-License-Identifier: GPL-2.0
/*
 * tsor: a chained CNI plugin.  ADD has tsor take over the TCP sockets of
 * a pod's network namespace, DEL stops that, CHECK verifies it.  It needs
 * nothing but CNI_NETNS, so it follows any main plugin (bridge, flannel,
 * calico ...).  README.md beside this file documents the configuration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include "cni.h"
#include "netns_sel.h"
#include "nl.h"
#include "utils.h"

/* Our codes, from the 100 and up the spec leaves to plugins. */
enum {
	TSOR_ERR_NOT_LOADED	= 100,	/* no tsor module in the kernel */
	TSOR_ERR_PERM		= 101,	/* the kernel says not allowed */
	TSOR_ERR_KERNEL		= 102,	/* the kernel refused otherwise */
	TSOR_ERR_STATE		= 103,	/* CHECK: not as configured */
};

/* The plugin's own keys. */
struct tsor_conf {
	bool enable;		/* "enable", default true */
	struct excludes exclude;	/* "exclude", default empty */
};

/* Configuration */

/*
 * One "exclude" entry: a port (a number, or a string of digits) or a
 * CIDR ("10.0.0.0/8", "fd00::/8", a bare address for one host).  false
 * with @why set if malformed.
 */
static bool exclude_entry_parse(const json_t *j, struct exclude *e,
				char *why, size_t len)
{
	const char *s;

	memset(e, 0, sizeof(*e));
	if (json_is_integer(j)) {
		if (json_integer_value(j) >= 1 && json_integer_value(j) <= 65535) {
			e->port = (uint16_t)json_integer_value(j);
			return true;
		}
		snprintf(why, len, "%" JSON_INTEGER_FORMAT ": not a port (want 1 to 65535)",
			 json_integer_value(j));
		return false;
	}
	s = json_string_value(j);
	if (!s) {
		snprintf(why, len, "entries are ports or CIDR strings");
		return false;
	}
	return exclude_parse(s, e, why, len);
}

static int tsor_conf_load(const struct cni_args *a, struct tsor_conf *c)
{
	const json_t *enable = json_object_get(a->conf, "enable");
	const json_t *exclude = json_object_get(a->conf, "exclude");
	char why[128], buf[ADDR_STRLEN];
	struct exclude x;
	const json_t *e;
	size_t i;

	c->enable = true;
	c->exclude.n = 0;
	if (enable && !json_is_boolean(enable))
		return cni_error(CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				 "\"enable\" must be true or false");
	if (enable)
		c->enable = json_is_true(enable);

	if (!exclude || json_is_null(exclude))
		return 0;
	if (!json_is_array(exclude))
		return cni_error(CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				 "\"exclude\" must be a list of ports and CIDRs");
	if (json_array_size(exclude) > TSOR_EXCLUDE_MAX)
		return cni_error(CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				 "\"exclude\" has %zu entries, at most %d are allowed",
				 json_array_size(exclude), TSOR_EXCLUDE_MAX);
	json_array_foreach(exclude, i, e) {
		if (!exclude_entry_parse(e, &x, why, sizeof(why)))
			return cni_error(CNI_ERR_INVALID_CONFIG,
					 "invalid network configuration",
					 "\"exclude\" entry %zu: %s", i + 1, why);
		if (excludes_add(&c->exclude, &x))
			return cni_error(CNI_ERR_INVALID_CONFIG,
					 "invalid network configuration",
					 "\"exclude\" entry %zu: %s: given twice",
					 i + 1, exclude_ntop(&x, buf));
	}
	return 0;
}

/* Talking to tsor */

/* The CNI error for a failed request; returns the exit status. */
static int tsor_fail(const char *what, const struct nl_status *st)
{
	const char *why = st->why[0] ? st->why : NULL;

	if (nl_no_module(st))
		return cni_error(TSOR_ERR_NOT_LOADED, "tsor module not loaded",
				 "%s: the tsor generic netlink family is not registered (load the module: modprobe tsor)",
				 what);
	if (st->stage == NL_STAGE_SOCKET)
		why = "cannot open a generic netlink socket";
	switch (st->err) {
	case EPERM:
	case EACCES:
		return cni_error(TSOR_ERR_PERM, "permission denied",
				 "%s: %s", what, why ? why :
				 "tsor needs CAP_NET_ADMIN in the initial user namespace");
	case EAGAIN:
	case EBUSY:
	case EINTR:
	case ENOBUFS:
	case ENOMEM:
		return cni_error(CNI_ERR_TRY_AGAIN, "try again later",
				 "%s: %s%s%s", what, why ? why : "",
				 why ? ": " : "", strerror(st->err));
	}
	return cni_error(TSOR_ERR_KERNEL, "tsor refused the request",
			 "%s: %s%s%s", what, why ? why : "", why ? ": " : "",
			 strerror(st->err));
}

/* open_netns() found no network namespace there (any more). */
#define NETNS_GONE	(-1)
#define NETNS_NOT_NET	(-2)

/*
 * Opens CNI_NETNS into @sel: 0, NETNS_GONE or NETNS_NOT_NET, or the exit
 * status after an I/O error.
 */
static int open_netns(const char *path, struct netns_sel *sel)
{
	int fd;

	sel->fd = -1;
	sel->pid = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return NETNS_GONE;
		return cni_error(CNI_ERR_IO, "cannot open CNI_NETNS", "%s: %s",
				 path, strerror(errno));
	}
	/*
	 * The kernel would refuse any other file too; telling it here lets
	 * DEL succeed on what a deleted namespace left behind (an unmounted
	 * file under /run/netns).
	 */
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return NETNS_NOT_NET;
	}
	sel->fd = fd;
	return 0;
}

/* open_netns() for ADD and CHECK, which need the namespace. */
static int need_netns(const char *path, struct netns_sel *sel)
{
	int rc = open_netns(path, sel);

	if (rc == NETNS_GONE)
		return cni_error(CNI_ERR_UNKNOWN_CONTAINER,
				 "container network namespace not found",
				 "CNI_NETNS %s: %s", path, strerror(ENOENT));
	if (rc == NETNS_NOT_NET)
		return cni_error(CNI_ERR_INVALID_ENV,
				 "CNI_NETNS is not a network namespace",
				 "%s", path);
	return rc;
}

/* Commands */

/* Sets tsor's state of the namespace @set selects, and closes it. */
static int netns_set_run(struct netns_set *set, struct nl_status *st)
{
	const struct nl_req req = {
		.cmd = TSOR_CMD_NETNS_SET,
		.room = NETNS_SET_ROOM,
		.fill = netns_set_put,
		.fill_arg = set,
	};
	int rc = nl_run(&req, st);

	netns_sel_close(&set->sel);
	return rc;
}

static int cmd_add(const struct cni_args *a, const struct tsor_conf *c)
{
	/* The exclusions always go along, so none are left from before. */
	struct netns_set set = {
		.enabled = c->enable,
		.set_excludes = true,
		.excludes = c->exclude,
	};
	struct nl_status st;
	char what[512];
	json_t *result;
	int rc;

	rc = need_netns(a->netns, &set.sel);
	if (rc)
		return rc;
	rc = netns_set_run(&set, &st);
	snprintf(what, sizeof(what), "%s tsor in %s",
		 c->enable ? "enabling" : "disabling", a->netns);
	if (rc)
		return tsor_fail(what, &st);
	if (st.warning[0])
		fprintf(stderr, "tsor: %s: %s\n", what, st.warning);

	/* A chained plugin's result is the one it was given. */
	if (a->prev_result)
		return cni_print_result(a->prev_result);
	result = json_pack("{s:s}", "cniVersion", a->version);
	if (!result)
		return cni_error(CNI_ERR_GENERIC, "out of memory", NULL);
	rc = cni_print_result(result);
	json_decref(result);
	return rc;
}

/*
 * Undoes ADD whatever the configuration says, and succeeds when nothing
 * is left to undo (spec: "return success if ... any modifications added
 * are missing"): no CNI_NETNS, the namespace gone, or no tsor module,
 * which takes nothing over.
 */
static int cmd_del(const struct cni_args *a)
{
	struct netns_set set = { .enabled = false };
	struct nl_status st;
	char what[512];
	int rc;

	if (!a->netns)
		return 0;
	rc = open_netns(a->netns, &set.sel);
	if (rc == NETNS_GONE || rc == NETNS_NOT_NET)
		return 0;
	if (rc)
		return rc;
	rc = netns_set_run(&set, &st);
	if (!rc || nl_no_module(&st))
		return 0;
	snprintf(what, sizeof(what), "disabling tsor in %s", a->netns);
	return tsor_fail(what, &st);
}

static int check_reply(const struct nlattr *const *tb, void *arg)
{
	return netns_state_parse(tb, arg);
}

static int cmd_check(const struct cni_args *a, const struct tsor_conf *c)
{
	char have[400], want[sizeof(have)];
	struct netns_state state = { 0 };
	struct netns_sel sel;
	const struct nl_req req = {
		.cmd = TSOR_CMD_NETNS_GET,
		.fill = netns_sel_put,
		.fill_arg = &sel,
		.reply = check_reply,
		.reply_arg = &state,
	};
	struct nl_status st;
	char what[512];
	int rc;

	rc = need_netns(a->netns, &sel);
	if (rc)
		return rc;
	rc = nl_run(&req, &st);
	netns_sel_close(&sel);
	if (rc) {
		snprintf(what, sizeof(what), "reading tsor's state of %s",
			 a->netns);
		return tsor_fail(what, &st);
	}
	if (state.enabled != c->enable)
		return cni_error(TSOR_ERR_STATE,
				 "tsor state differs from the configuration",
				 "%s: tsor is %s there, the configuration wants it %s",
				 a->netns, state.enabled ? "enabled" : "disabled",
				 c->enable ? "enabled" : "disabled");
	/* A module without exclusions has none, which is right for none. */
	if (!excludes_same(&state.excludes, &c->exclude)) {
		excludes_ntop(&state.excludes, have, sizeof(have));
		excludes_ntop(&c->exclude, want, sizeof(want));
		return cni_error(TSOR_ERR_STATE,
				 "tsor state differs from the configuration",
				 "%s: tsor excludes %s there, the configuration wants %s",
				 a->netns, have, want);
	}
	return 0;
}

int main(void)
{
	struct cni_args a;
	struct tsor_conf c;
	int rc;

	rc = cni_args_load(&a);
	if (rc)
		return rc;
	switch (a.cmd) {
	case CNI_ADD:
		rc = tsor_conf_load(&a, &c);
		if (!rc)
			rc = cmd_add(&a, &c);
		break;
	case CNI_DEL:
		/* No option matters to DEL: a failed ADD must be undoable. */
		rc = cmd_del(&a);
		break;
	case CNI_CHECK:
		rc = tsor_conf_load(&a, &c);
		if (!rc && !cni_version_has_check(a.version))
			rc = cni_error(CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
				       "CHECK needs cniVersion 0.4.0 or later, config is \"%s\"",
				       a.version);
		else if (!rc)
			rc = cmd_check(&a, &c);
		break;
	case CNI_VERSION:
		rc = cni_print_versions();
		break;
	}
	cni_args_free(&a);
	return rc;
}
