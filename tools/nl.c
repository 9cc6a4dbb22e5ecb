// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl: talking to the tsor generic netlink family.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "nl.h"
#include "print.h"
#include "tsorctl.h"
#include "utils.h"

/* A dump skb is at most 32 KiB; a smaller buffer would truncate it. */
#define NL_RECV_SIZE	32768

static struct {
	struct mnl_socket *sk;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	unsigned int version;
	char *rbuf;
	/* How the last exchange failed: errno, and why if anyone said. */
	int err;
	char why[256];
} nl;

/* The kernel's answers share one attribute space, whatever the command. */
static const uint8_t tsor_policy[TSOR_ATTR_MAX + 1] = {
	[TSOR_ATTR_VERSION]	= NLK_STRING,
	[TSOR_ATTR_FEATURES]	= NLK_U32,
	[TSOR_ATTR_PROTOCOL]	= NLK_U32,
	[TSOR_ATTR_NETNS_INUM]	= NLK_U32,
	[TSOR_ATTR_NETNS_NSID]	= NLK_U32,
	[TSOR_ATTR_ENABLED]	= NLK_U8,
	[TSOR_ATTR_GLOBAL]	= NLK_FLAG,
	[TSOR_ATTR_STATS]	= NLK_NEST,
	[TSOR_ATTR_STAT]	= NLK_NEST,
	[TSOR_ATTR_PEER]	= NLK_NEST,
	[TSOR_ATTR_CONN]	= NLK_NEST,
	[TSOR_ATTR_LINK]	= NLK_NEST,
	[TSOR_ATTR_DEV]		= NLK_NEST,
};

static const uint8_t ctrl_policy[CTRL_ATTR_VERSION + 1] = {
	[CTRL_ATTR_FAMILY_ID]	= NLK_U16,
	[CTRL_ATTR_VERSION]	= NLK_U32,
};

/* Attribute parsing */

static const enum mnl_attr_data_type nlk_type[] = {
	[NLK_FLAG]	= MNL_TYPE_FLAG,
	[NLK_U8]	= MNL_TYPE_U8,
	[NLK_U16]	= MNL_TYPE_U16,
	[NLK_U32]	= MNL_TYPE_U32,
	[NLK_U64]	= MNL_TYPE_U64,
	[NLK_STRING]	= MNL_TYPE_NUL_STRING,
	[NLK_NEST]	= MNL_TYPE_NESTED,
};

struct parse_ctx {
	const uint8_t *policy;
	unsigned int max;
	const struct nlattr **tb;
};

static int parse_attr(const struct nlattr *attr, void *data)
{
	const struct parse_ctx *ctx = data;
	uint16_t type = mnl_attr_get_type(attr);
	uint16_t len = mnl_attr_get_payload_len(attr);
	uint8_t kind;

	if (type > ctx->max)
		return MNL_CB_OK;
	kind = ctx->policy[type];
	if (kind == NLK_NONE)
		return MNL_CB_OK;
	if (kind == NLK_ADDR ? len != 4 && len != 16 :
	    mnl_attr_validate(attr, nlk_type[kind]) < 0)
		return MNL_CB_ERROR;
	ctx->tb[type] = attr;
	return MNL_CB_OK;
}

bool nl_parse_nest(const struct nlattr *nest, const uint8_t *policy,
		   unsigned int max, const struct nlattr **tb)
{
	struct parse_ctx ctx = { policy, max, tb };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	return mnl_attr_parse_nested(nest, parse_attr, &ctx) == MNL_CB_OK;
}

/* A generic netlink message's attributes, after its genlmsghdr. */
static bool nl_parse_genl(const struct nlmsghdr *nlh, const uint8_t *policy,
			  unsigned int max, const struct nlattr **tb)
{
	struct parse_ctx ctx = { policy, max, tb };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	return mnl_nlmsg_get_payload_len(nlh) >= GENL_HDRLEN &&
	       mnl_attr_parse(nlh, GENL_HDRLEN, parse_attr, &ctx) ==
	       MNL_CB_OK;
}

uint64_t nl_attr_uint(const struct nlattr *attr)
{
	switch (mnl_attr_get_payload_len(attr)) {
	case 1:
		return mnl_attr_get_u8(attr);
	case 2:
		return mnl_attr_get_u16(attr);
	case 4:
		return mnl_attr_get_u32(attr);
	case 8:
		return mnl_attr_get_u64(attr);
	}
	return 0;
}

/* Acks, errors and extack */

/* The kernel's NLMSGERR_ATTR_MSG, after @hlen bytes of payload. */
static const char *nl_extack_msg(const struct nlmsghdr *nlh, size_t hlen)
{
	const struct nlattr *attr;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    hlen > mnl_nlmsg_get_payload_len(nlh))
		return NULL;
	mnl_attr_for_each(attr, nlh, hlen) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			return mnl_attr_get_str(attr);
	}
	return NULL;
}

static int nl_fail(int err, const char *why)
{
	nl.err = err;
	if (why)
		snprintf(nl.why, sizeof(nl.why), "%s", why);
	return MNL_CB_ERROR;
}

/* NLMSG_ERROR: the ack of a do request, or its failure. */
static int nl_on_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t hlen = sizeof(*e);
	const char *msg;

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
		return nl_fail(EBADMSG, "malformed error from the kernel");
	/* Without NETLINK_CAP_ACK our request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(e->msg))
			return nl_fail(e->error ? -e->error : EBADMSG, NULL);
		hlen += e->msg.nlmsg_len - sizeof(e->msg);
	}
	msg = nl_extack_msg(nlh, hlen);
	if (!e->error) {
		if (msg)
			errorf("warning: %s", msg);
		return MNL_CB_STOP;
	}
	return nl_fail(e->error < 0 ? -e->error : EPROTO, msg);
}

/* NLMSG_DONE: the end of a dump, with an error if it broke off. */
static int nl_on_done(const struct nlmsghdr *nlh, void *data)
{
	int err;

	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(err))
		return MNL_CB_STOP;
	memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
	if (err >= 0)
		return MNL_CB_STOP;
	return nl_fail(-err, nl_extack_msg(nlh, sizeof(err)));
}

/* Socket */

static void nl_close(void)
{
	if (nl.sk)
		mnl_socket_close(nl.sk);
	free(nl.rbuf);
	memset(&nl, 0, sizeof(nl));
}

static int nl_open(void)
{
	int one = 1;

	nl.rbuf = malloc(NL_RECV_SIZE);
	nl.sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl.rbuf || !nl.sk ||
	    mnl_socket_bind(nl.sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		errorf("cannot open a generic netlink socket: %s",
		       strerror(errno));
		nl_close();
		return RC_FAIL;
	}
	/* Kernels without these still work, minus the explanations. */
	mnl_socket_setsockopt(nl.sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl.sk, NETLINK_CAP_ACK, &one, sizeof(one));
	nl.portid = mnl_socket_get_portid(nl.sk);
	nl.seq = (unsigned int)time(NULL);
	return RC_OK;
}

static struct nlmsghdr *nl_msg_start(char *buf, uint16_t type,
				     uint8_t cmd, uint8_t version, bool dump)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	/* A dump ends in NLMSG_DONE, which carries its error: no ack. */
	nlh->nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
	nlh->nlmsg_seq = ++nl.seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = version;
	return nlh;
}

/* The kernel refuses a request larger than the send buffer: grow it. */
static void nl_fit_sndbuf(size_t len)
{
	int fd = mnl_socket_get_fd(nl.sk), cur, want;
	socklen_t optlen = sizeof(cur);

	if (len > INT_MAX / 2)
		return;
	if (!getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &optlen) &&
	    (size_t)cur >= len + 4096)
		return;
	want = (int)len + 4096;
	/* Past wmem_max only with CAP_NET_ADMIN, which changes need anyway. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
}

/* Sends @nlh, feeds replies to @cb until the ack or NLMSG_DONE; -errno. */
static int nl_exchange(const struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR]	= nl_on_error,
		[NLMSG_DONE]	= nl_on_done,
	};
	int ret;

	nl.err = 0;
	nl.why[0] = '\0';
	nl_fit_sndbuf(nlh->nlmsg_len);
	if (mnl_socket_sendto(nl.sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl.sk, nl.rbuf, NL_RECV_SIZE);

		if (n < 0) {
			if (errno == ENOSPC)
				nl_fail(EMSGSIZE, "reply too large to receive");
			return -(nl.err ? nl.err : errno);
		}
		ret = mnl_cb_run2(nl.rbuf, (size_t)n, nlh->nlmsg_seq,
				  nl.portid, cb, arg, ctl, ARRAY_SIZE(ctl));
	} while (ret > MNL_CB_STOP);
	if (ret == MNL_CB_ERROR) {
		if (!nl.err && errno == EINTR)
			nl_fail(EINTR, "the dump was interrupted, try again");
		return -(nl.err ? nl.err : errno);
	}
	return 0;
}

/* Errors */

/* One line on stderr for a failed request; returns the exit code. */
static int nl_report(const struct request *req, int err)
{
	const char *why = nl.why[0] ? nl.why : NULL;

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

/* Family resolution */

static int family_reply(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[ARRAY_SIZE(ctrl_policy)];

	(void)arg;
	if (!nl_parse_genl(nlh, ctrl_policy, ARRAY_SIZE(ctrl_policy) - 1, tb) ||
	    !tb[CTRL_ATTR_FAMILY_ID])
		return nl_fail(EBADMSG, "malformed reply from the kernel");
	nl.family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_VERSION])
		nl.version = mnl_attr_get_u32(tb[CTRL_ATTR_VERSION]);
	return MNL_CB_OK;
}

static int resolve_family(void)
{
	static const struct request lookup = {
		.what = "looking up the " TSOR_GENL_NAME " netlink family",
	};
	char buf[256];
	struct nlmsghdr *nlh;
	int err;

	nlh = nl_msg_start(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, false);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TSOR_GENL_NAME);
	err = nl_exchange(nlh, family_reply, NULL);
	if (err == -ENOENT) {
		errorf("the tsor kernel module is not loaded (load it with: modprobe tsor)");
		return RC_NOMODULE;
	}
	if (!err && !nl.family) {
		nl_fail(EBADMSG, "no reply from the kernel");
		err = -EBADMSG;
	}
	return err ? nl_report(&lookup, -err) : RC_OK;
}

unsigned int nl_family_version(void)
{
	return nl.version;
}

/* Requests */

struct reply_state {
	const struct request *req;
	unsigned int replies;
	bool listed;		/* the JSON array is open */
};

static int tsor_reply(const struct nlmsghdr *nlh, void *arg)
{
	struct reply_state *st = arg;
	const struct request *req = st->req;
	const struct nlattr *tb[ARRAY_SIZE(tsor_policy)];
	int err;

	if (nlh->nlmsg_type != nl.family || !req->print)
		return MNL_CB_OK;
	if (!nl_parse_genl(nlh, tsor_policy, TSOR_ATTR_MAX, tb))
		return nl_fail(EBADMSG, "malformed reply from the kernel");
	if ((req->flags & REQ_LIST) && !st->listed) {
		print_arr_open(NULL);
		st->listed = true;
	}
	st->replies++;
	err = req->print(tb, req->print_arg);
	if (err == -EBADMSG)
		return nl_fail(EBADMSG, "malformed reply from the kernel");
	return err ? nl_fail(-err, NULL) : MNL_CB_OK;
}

int run_request(const struct request *req)
{
	struct reply_state st = { .req = req };
	bool dump = req->flags & REQ_DUMP;
	size_t buflen = (size_t)MNL_SOCKET_BUFFER_SIZE + req->room;
	struct nlmsghdr *nlh;
	char *buf = NULL;
	int rc, err;

	rc = nl_open();
	if (rc)
		return rc;
	rc = resolve_family();
	if (rc)
		goto out;
	buf = calloc(1, buflen);
	if (!buf) {
		errorf("%s: %s", req->what, strerror(ENOMEM));
		rc = RC_FAIL;
		goto out;
	}
	nlh = nl_msg_start(buf, nl.family, req->cmd, TSOR_GENL_VERSION, dump);
	if (req->fill && !req->fill(nlh, buflen, req->fill_arg)) {
		errorf("%s: request too large", req->what);
		rc = RC_FAIL;
		goto out;
	}

	err = nl_exchange(nlh, tsor_reply, &st);
	if (!err && req->print && !dump && !st.replies) {
		nl_fail(EBADMSG, "no reply from the kernel");
		err = -EBADMSG;
	}
	/* Keep stdout valid JSON, even when a dump broke off. */
	if ((req->flags & REQ_LIST) && !st.listed && !err) {
		print_arr_open(NULL);
		st.listed = true;
	}
	if (st.listed)
		print_arr_close();
	rc = err ? nl_report(req, -err) : RC_OK;
out:
	free(buf);
	nl_close();
	return rc;
}
