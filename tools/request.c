// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl: one request per run, its replies printed, its failure told.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "print.h"
#include "request.h"
#include "tsorctl.h"
#include "utils.h"

struct list_state {
	const struct request *req;
	bool listed;		/* the JSON array is open */
};

static int list_reply(const struct nlattr *const *tb, void *arg)
{
	struct list_state *ls = arg;

	if ((ls->req->flags & REQ_LIST) && !ls->listed) {
		print_arr_open(NULL);
		ls->listed = true;
	}
	return ls->req->print(tb, ls->req->print_arg);
}

/* One line on stderr for a failed request; returns the exit code. */
static int report(const struct request *req, const struct nl_status *st)
{
	static const struct request lookup = {
		.what = "looking up the " TSOR_GENL_NAME " netlink family",
	};
	const char *why = st->why[0] ? st->why : NULL;
	int err = st->err;

	switch (st->stage) {
	case NL_STAGE_SOCKET:
		errorf("cannot open a generic netlink socket: %s",
		       strerror(err));
		return RC_FAIL;
	case NL_STAGE_FAMILY:
		if (nl_no_module(st)) {
			errorf("the tsor kernel module is not loaded (load it with: modprobe tsor)");
			return RC_NOMODULE;
		}
		req = &lookup;
		break;
	case NL_STAGE_BUILD:
		if (err == EMSGSIZE)
			errorf("%s: request too large", req->what);
		else
			errorf("%s: %s", req->what, strerror(err));
		return RC_FAIL;
	case NL_STAGE_REQUEST:
		break;
	}

	if (err == EPERM || err == EACCES) {
		if (why)
			errorf("permission denied: %s", why);
		else if (req->flags & REQ_MODIFIES)
			errorf("permission denied: changing tsor settings needs CAP_NET_ADMIN in the initial user namespace");
		else
			errorf("%s: permission denied", req->what);
		return RC_PERM;
	}
	if (why)
		errorf("%s: %s (%s)", req->what, why, strerror(err));
	else if (err == EOPNOTSUPP)
		errorf("%s: not supported by the loaded tsor module (%s)",
		       req->what, strerror(err));
	else
		errorf("%s: %s", req->what, strerror(err));
	return RC_FAIL;
}

int run_request(const struct request *req)
{
	struct list_state ls = { .req = req };
	const struct nl_req nreq = {
		.cmd = req->cmd,
		.dump = req->flags & REQ_DUMP,
		.room = req->room,
		.fill = req->fill,
		.fill_arg = req->fill_arg,
		.reply = req->print ? list_reply : NULL,
		.reply_arg = &ls,
	};
	struct nl_status st;
	int err;

	err = nl_run(&nreq, &st);
	if (st.warning[0])
		errorf("warning: %s", st.warning);
	/* Keep stdout valid JSON, even when a dump broke off. */
	if ((req->flags & REQ_LIST) && !ls.listed && !err) {
		print_arr_open(NULL);
		ls.listed = true;
	}
	if (ls.listed)
		print_arr_close();
	return err ? report(req, &st) : RC_OK;
}

int run_request_noargs(const struct request *req, int argc, char **argv)
{
	if (argc)
		return usage_error("%s: unexpected argument \"%s\"", req->what,
				   argv[0]);
	return run_request(req);
}
