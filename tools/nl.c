// SPDX-License-Identifier: GPL-2.0
/*
 * Talking to the tsor generic netlink family: shared by tsorctl and the
 * CNI plugin, so it prints nothing and reports through struct nl_status.
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

/* A dump skb is at most 32 KiB; a smaller buffer would truncate it. */
#define NL_RECV_SIZE	32768

static struct {
	struct mnl_socket *sk;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	char *rbuf;
	/* The running nl_run()'s: how it fails, and why if anyone said. */
	struct nl_status *st;
} nl;

/* Outlives nl_close(): callers may ask after the run. */
static unsigned int family_version;

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
	[TSOR_ATTR_EXCLUDES]	= NLK_NEST,
	[TSOR_ATTR_EXCLUDE]	= NLK_NEST,
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
	nl.st->err = err;
	if (why)
		snprintf(nl.st->why, sizeof(nl.st->why), "%s", why);
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
		/* The caller decides whether and how to show it. */
		if (msg)
			snprintf(nl.st->warning, sizeof(nl.st->warning), "%s",
				 msg);
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

/* 0 or -errno; nl_close() frees what a failure leaves. */
static int nl_open(void)
{
	int one = 1;

	nl.rbuf = malloc(NL_RECV_SIZE);
	if (!nl.rbuf)
		return -ENOMEM;
	nl.sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl.sk || mnl_socket_bind(nl.sk, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	/* Kernels without these still work, minus the explanations. */
	mnl_socket_setsockopt(nl.sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl.sk, NETLINK_CAP_ACK, &one, sizeof(one));
	nl.portid = mnl_socket_get_portid(nl.sk);
	nl.seq = (unsigned int)time(NULL);
	return 0;
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

	nl.st->err = 0;
	nl.st->why[0] = '\0';
	nl_fit_sndbuf(nlh->nlmsg_len);
	if (mnl_socket_sendto(nl.sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl.sk, nl.rbuf, NL_RECV_SIZE);

		if (n < 0) {
			if (errno == ENOSPC)
				nl_fail(EMSGSIZE, "reply too large to receive");
			return -(nl.st->err ? nl.st->err : errno);
		}
		ret = mnl_cb_run2(nl.rbuf, (size_t)n, nlh->nlmsg_seq,
				  nl.portid, cb, arg, ctl,
				  MNL_ARRAY_SIZE(ctl));
	} while (ret > MNL_CB_STOP);
	if (ret == MNL_CB_ERROR) {
		if (!nl.st->err && errno == EINTR)
			nl_fail(EINTR, "the dump was interrupted, try again");
		return -(nl.st->err ? nl.st->err : errno);
	}
	return 0;
}

/* Family resolution */

static int family_reply(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[MNL_ARRAY_SIZE(ctrl_policy)];

	(void)arg;
	if (!nl_parse_genl(nlh, ctrl_policy, MNL_ARRAY_SIZE(ctrl_policy) - 1,
			   tb) ||
	    !tb[CTRL_ATTR_FAMILY_ID])
		return nl_fail(EBADMSG, "malformed reply from the kernel");
	nl.family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_VERSION])
		family_version = mnl_attr_get_u32(tb[CTRL_ATTR_VERSION]);
	return MNL_CB_OK;
}

/* 0 or -errno: -ENOENT when no tsor module registered the family. */
static int resolve_family(void)
{
	char buf[256] = { 0 };	/* no uninitialised padding on the wire */
	struct nlmsghdr *nlh;
	int err;

	nlh = nl_msg_start(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, false);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TSOR_GENL_NAME);
	err = nl_exchange(nlh, family_reply, NULL);
	if (!err && !nl.family) {
		nl_fail(EBADMSG, "no reply from the kernel");
		err = -EBADMSG;
	}
	return err;
}

unsigned int nl_family_version(void)
{
	return family_version;
}

/* Requests */

static int tsor_reply(const struct nlmsghdr *nlh, void *arg)
{
	const struct nl_req *req = arg;
	const struct nlattr *tb[MNL_ARRAY_SIZE(tsor_policy)];
	int err;

	if (nlh->nlmsg_type != nl.family || !req->reply)
		return MNL_CB_OK;
	if (!nl_parse_genl(nlh, tsor_policy, TSOR_ATTR_MAX, tb))
		return nl_fail(EBADMSG, "malformed reply from the kernel");
	nl.st->replies++;
	err = req->reply(tb, req->reply_arg);
	if (err == -EBADMSG)
		return nl_fail(EBADMSG, "malformed reply from the kernel");
	return err ? nl_fail(-err, NULL) : MNL_CB_OK;
}

int nl_run(const struct nl_req *req, struct nl_status *st)
{
	size_t buflen = (size_t)MNL_SOCKET_BUFFER_SIZE + req->room;
	struct nlmsghdr *nlh;
	char *buf = NULL;
	int err;

	memset(st, 0, sizeof(*st));
	nl.st = st;
	family_version = 0;
	st->stage = NL_STAGE_SOCKET;
	err = nl_open();
	if (err)
		goto out;
	st->stage = NL_STAGE_FAMILY;
	err = resolve_family();
	if (err)
		goto out;

	st->stage = NL_STAGE_BUILD;
	buf = calloc(1, buflen);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	nlh = nl_msg_start(buf, nl.family, req->cmd, TSOR_GENL_VERSION,
			   req->dump);
	if (req->fill && !req->fill(nlh, buflen, req->fill_arg)) {
		err = -EMSGSIZE;
		goto out;
	}

	st->stage = NL_STAGE_REQUEST;
	/* libmnl passes a mutable pointer; tsor_reply() only reads it. */
	err = nl_exchange(nlh, tsor_reply, (void *)req);
	if (!err && req->reply && !req->dump && !st->replies) {
		nl_fail(EBADMSG, "no reply from the kernel");
		err = -EBADMSG;
	}
out:
	st->err = -err;
	free(buf);
	nl_close();
	return err;
}
