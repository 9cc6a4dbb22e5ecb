// SPDX-License-Identifier: GPL-2.0
/*
 * A test double of the tsor netlink peer, for tsorctl's own unit tests.
 * LD_PRELOADed, it replaces libmnl's send and receive calls with scripted
 * replies, so tsorctl's parsing, output formats, exit codes and robustness
 * against malformed replies can be checked on any host.  It tests tsorctl
 * only: the module is tested against the real kernel in selftests/.
 *
 * FAKE_TSOR holds comma-separated scenario words:
 *   nomodule     the family lookup fails with ENOENT
 *   unsupported  peer, conn, link and dev fail with EOPNOTSUPP + extack
 *   eperm        NETNS_SET fails with EPERM, no extack (GENL_ADMIN_PERM)
 *   einval       NETNS_SET fails with EINVAL + extack
 *   malformed    replies carry an attribute of the wrong size
 *   dumpfail     dumps break off: NLMSG_DONE carries an error + extack
 *   empty        dumps list nothing
 *   warn         acks carry an extack warning
 *   fuzz         replies get random bytes flipped (seed: FAKE_SEED)
 *   excludes     NETNS_GET's do reply lists exclusions, not none
 *   noexcludes   NETNS_GET replies have no exclusions (an older module)
 * FAKE_LOG names a file that receives every tsor request, decoded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/tsor.h>

#define FAMILY_ID	0x30

static char queue[1 << 20];
static size_t queued, taken;

static bool scenario(const char *word)
{
	const char *s = getenv("FAKE_TSOR");
	size_t n = strlen(word);

	for (; s && *s; s += strcspn(s, ","), s += !!*s)
		if (!strncmp(s, word, n) && (s[n] == ',' || !s[n]))
			return true;
	return false;
}

static struct nlmsghdr *reply(const struct nlmsghdr *req, uint16_t type,
			      uint16_t flags, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(queue + queued);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = req->nlmsg_seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

static void done(struct nlmsghdr *nlh)
{
	queued += nlh->nlmsg_len;
}

/* An ack (err 0) or error, capped, with an optional extack message. */
static void ack(const struct nlmsghdr *req, int err, const char *msg)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(queue + queued);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED;
	nlh->nlmsg_seq = req->nlmsg_seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = err;
	e->msg = *req;
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	}
	done(nlh);
}

static void dump_done(const struct nlmsghdr *req, int err, const char *msg)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(queue + queued);
	int *p;

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = req->nlmsg_seq;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	*p = err;
	if (msg) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	}
	done(nlh);
}

/* End of a do reply or of a dump. */
static void finish(const struct nlmsghdr *req)
{
	if (req->nlmsg_flags & NLM_F_DUMP) {
		if (scenario("dumpfail"))
			dump_done(req, -ENOBUFS, "dump buffer exhausted");
		else
			dump_done(req, 0, NULL);
	} else {
		ack(req, 0, scenario("warn") ? "something to know" : NULL);
	}
}

static void log_attrs(FILE *f, const struct nlattr *first, size_t len,
		      int depth)
{
	const struct nlattr *a;

	for (a = first; mnl_attr_ok(a, (int)((const char *)first + len -
					     (const char *)a));
	     a = mnl_attr_next(a)) {
		const unsigned char *p = mnl_attr_get_payload(a);
		uint16_t n = mnl_attr_get_payload_len(a), i;

		fprintf(f, "%*sattr %u len %u", depth * 2, "",
			mnl_attr_get_type(a), n);
		if (mnl_attr_get_type(a) == TSOR_ATTR_PEER ||
		    mnl_attr_get_type(a) == TSOR_ATTR_DEV ||
		    mnl_attr_get_type(a) == TSOR_ATTR_EXCLUDES ||
		    mnl_attr_get_type(a) == TSOR_ATTR_EXCLUDE) {
			fputc('\n', f);
			log_attrs(f, mnl_attr_get_payload(a), n, depth + 1);
			continue;
		}
		fputc(' ', f);
		for (i = 0; i < n; i++)
			fprintf(f, "%02x", p[i]);
		fputc('\n', f);
	}
}

static void log_request(const struct nlmsghdr *req)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(req);
	const char *path = getenv("FAKE_LOG");
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	fprintf(f, "cmd %u%s%s\n", g->cmd,
		req->nlmsg_flags & NLM_F_DUMP ? " dump" : "",
		req->nlmsg_flags & NLM_F_ACK ? " ack" : "");
	log_attrs(f, mnl_nlmsg_get_payload_offset(req, GENL_HDRLEN),
		  mnl_nlmsg_get_payload_len(req) - GENL_HDRLEN, 1);
	fclose(f);
}

static void put_netns(struct nlmsghdr *nlh, uint32_t inum, int32_t nsid,
		      uint8_t enabled)
{
	mnl_attr_put_u32(nlh, TSOR_ATTR_NETNS_INUM, inum);
	mnl_attr_put_u32(nlh, TSOR_ATTR_NETNS_NSID, (uint32_t)nsid);
	if (scenario("malformed"))
		mnl_attr_put_u32(nlh, TSOR_ATTR_ENABLED, enabled);
	else
		mnl_attr_put_u8(nlh, TSOR_ATTR_ENABLED, enabled);
}

/* A NETNS_GET reply's exclusions: none, or 5432 10.96.0.0/12 fd00::/8. */
static void put_excludes(struct nlmsghdr *nlh, bool some)
{
	static const unsigned char v4[4] = { 10, 96 }, v6[16] = { 0xfd };
	struct nlattr *all, *one;

	if (scenario("noexcludes"))
		return;
	all = mnl_attr_nest_start(nlh, TSOR_ATTR_EXCLUDES);
	if (some) {
		one = mnl_attr_nest_start(nlh, TSOR_ATTR_EXCLUDE);
		mnl_attr_put_u16(nlh, TSOR_EXCLUDE_ATTR_PORT, 5432);
		mnl_attr_nest_end(nlh, one);
		one = mnl_attr_nest_start(nlh, TSOR_ATTR_EXCLUDE);
		mnl_attr_put(nlh, TSOR_EXCLUDE_ATTR_PREFIX, 4, v4);
		mnl_attr_put_u8(nlh, TSOR_EXCLUDE_ATTR_PREFIXLEN, 12);
		mnl_attr_nest_end(nlh, one);
		one = mnl_attr_nest_start(nlh, TSOR_ATTR_EXCLUDE);
		mnl_attr_put(nlh, TSOR_EXCLUDE_ATTR_PREFIX, 16, v6);
		mnl_attr_put_u8(nlh, TSOR_EXCLUDE_ATTR_PREFIXLEN, 8);
		mnl_attr_nest_end(nlh, one);
	}
	mnl_attr_nest_end(nlh, all);
}

static uint32_t self_inum(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 1 : (uint32_t)st.st_ino;
}

/* Like nla_put_u64_64bit: a PAD attribute first if needed to align. */
static void put_u64(struct nlmsghdr *nlh, uint16_t type, uint64_t v)
{
	if (nlh->nlmsg_len % 8 == 0)
		mnl_attr_put(nlh, TSOR_STAT_ATTR_PAD, 0, NULL);
	mnl_attr_put_u64(nlh, type, v);
}

static void put_stats(struct nlmsghdr *nlh, uint64_t base)
{
	static const char *const names[] = {
		"sock_created", "sock_accepted", "fallback_peer_unknown",
		"a_counter_from_the_future",
	};
	struct nlattr *all = mnl_attr_nest_start(nlh, TSOR_ATTR_STATS);
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct nlattr *one = mnl_attr_nest_start(nlh, TSOR_ATTR_STAT);

		mnl_attr_put_u32(nlh, TSOR_STAT_ATTR_ID, i);
		mnl_attr_put_strz(nlh, TSOR_STAT_ATTR_NAME, names[i]);
		put_u64(nlh, TSOR_STAT_ATTR_VALUE, base + i * 1000);
		mnl_attr_nest_end(nlh, one);
	}
	mnl_attr_nest_end(nlh, all);
}

static const unsigned char v4a[4] = { 10, 0, 1, 5 }, v4b[4] = { 10, 0, 2, 7 };
static const unsigned char v6a[16] = { 0xfd, 0, [15] = 1 };
static const unsigned char v6b[16] = { 0xfd, 0, [14] = 1, [15] = 2 };

static void conn(const struct nlmsghdr *req, bool v6, uint8_t path,
		 uint8_t fallback)
{
	struct nlmsghdr *nlh = reply(req, FAMILY_ID, NLM_F_MULTI,
				     TSOR_CMD_CONN_GET);
	struct nlattr *c = mnl_attr_nest_start(nlh, TSOR_ATTR_CONN);

	mnl_attr_put_u32(nlh, TSOR_CONN_ATTR_NETNS_INUM, self_inum());
	mnl_attr_put_u16(nlh, TSOR_CONN_ATTR_FAMILY, v6 ? 10 : 2);
	mnl_attr_put(nlh, TSOR_CONN_ATTR_SADDR, v6 ? 16 : 4, v6 ? v6a : v4a);
	mnl_attr_put(nlh, TSOR_CONN_ATTR_DADDR, v6 ? 16 : 4, v6 ? v6b : v4b);
	mnl_attr_put_u16(nlh, TSOR_CONN_ATTR_SPORT, 40000);
	mnl_attr_put_u16(nlh, TSOR_CONN_ATTR_DPORT, 80);
	mnl_attr_put_u8(nlh, TSOR_CONN_ATTR_PATH, path);
	mnl_attr_put_u8(nlh, TSOR_CONN_ATTR_FALLBACK, fallback);
	mnl_attr_put_u64(nlh, TSOR_CONN_ATTR_TX_BYTES, 123456789);
	mnl_attr_put_u64(nlh, TSOR_CONN_ATTR_RX_BYTES, 42);
	if (path != TSOR_PATH_TCP)
		mnl_attr_put_u32(nlh, TSOR_CONN_ATTR_CREDITS, 65536);
	mnl_attr_nest_end(nlh, c);
	done(nlh);
}

static void peer(const struct nlmsghdr *req, const void *prefix, size_t len,
		 uint8_t plen, const void *node, size_t nlen)
{
	struct nlmsghdr *nlh = reply(req, FAMILY_ID, NLM_F_MULTI,
				     TSOR_CMD_PEER_GET);
	struct nlattr *p = mnl_attr_nest_start(nlh, TSOR_ATTR_PEER);

	mnl_attr_put(nlh, TSOR_PEER_ATTR_PREFIX, len, prefix);
	mnl_attr_put_u8(nlh, TSOR_PEER_ATTR_PREFIXLEN, plen);
	mnl_attr_put(nlh, TSOR_PEER_ATTR_NODE, nlen, node);
	mnl_attr_nest_end(nlh, p);
	done(nlh);
}

static bool has_attr(const struct nlmsghdr *req, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, req, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == type)
			return true;
	return false;
}

static void tsor(const struct nlmsghdr *req)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(req);
	bool dump = req->nlmsg_flags & NLM_F_DUMP;
	bool empty = scenario("empty");
	struct nlmsghdr *nlh;
	struct nlattr *n;

	log_request(req);
	if (g->cmd >= TSOR_CMD_PEER_ADD && scenario("unsupported")) {
		ack(req, -EOPNOTSUPP, "this tsor module has no RDMA data path yet");
		return;
	}
	switch (g->cmd) {
	case TSOR_CMD_VERSION_GET:
		nlh = reply(req, FAMILY_ID, 0, g->cmd);
		mnl_attr_put_strz(nlh, TSOR_ATTR_VERSION, "0.1.0");
		mnl_attr_put_u32(nlh, TSOR_ATTR_FEATURES,
				 TSOR_FEATURE_TAKEOVER | TSOR_FEATURE_IPV6 |
				 1u << 9);
		mnl_attr_put_u32(nlh, TSOR_ATTR_PROTOCOL, TSOR_IPPROTO);
		done(nlh);
		break;
	case TSOR_CMD_NETNS_GET:
		if (dump && empty)
			break;
		nlh = reply(req, FAMILY_ID, dump ? NLM_F_MULTI : 0, g->cmd);
		put_netns(nlh, self_inum(), -1, 1);
		put_excludes(nlh, scenario("excludes"));
		done(nlh);
		if (dump) {
			nlh = reply(req, FAMILY_ID, NLM_F_MULTI, g->cmd);
			put_netns(nlh, 4026532281u, 0, 1);
			put_excludes(nlh, true);
			done(nlh);
		}
		break;
	case TSOR_CMD_NETNS_SET:
		if (scenario("eperm"))
			return ack(req, -EPERM, NULL);
		if (scenario("einval"))
			return ack(req, -EINVAL,
				   "netns fd is not a network namespace");
		break;
	case TSOR_CMD_STATS_GET:
		if (dump && empty)
			break;
		nlh = reply(req, FAMILY_ID, dump ? NLM_F_MULTI : 0, g->cmd);
		/* The global reply is the one without a netns. */
		if (!has_attr(req, TSOR_ATTR_GLOBAL))
			put_netns(nlh, self_inum(), -1, 1);
		put_stats(nlh, 7);
		done(nlh);
		if (dump) {
			nlh = reply(req, FAMILY_ID, NLM_F_MULTI, g->cmd);
			put_netns(nlh, 4026532281u, 0, 1);
			put_stats(nlh, 1);
			done(nlh);
		}
		break;
	case TSOR_CMD_PEER_GET:
		if (empty)
			break;
		peer(req, v4b, 4, 24, v4a, 4);
		peer(req, v6a, 16, 64, v4a, 4);
		break;
	case TSOR_CMD_CONN_GET:
		if (empty)
			break;
		conn(req, false, TSOR_PATH_RDMA, TSOR_FALLBACK_NONE);
		conn(req, true, TSOR_PATH_TCP, TSOR_FALLBACK_PEER_UNKNOWN);
		break;
	case TSOR_CMD_LINK_GET:
		if (empty)
			break;
		nlh = reply(req, FAMILY_ID, NLM_F_MULTI, g->cmd);
		n = mnl_attr_nest_start(nlh, TSOR_ATTR_LINK);
		mnl_attr_put(nlh, TSOR_LINK_ATTR_LOCAL, 4, v4a);
		mnl_attr_put(nlh, TSOR_LINK_ATTR_REMOTE, 4, v4b);
		mnl_attr_put_u8(nlh, TSOR_LINK_ATTR_STATE, TSOR_LINK_UP);
		mnl_attr_put_u32(nlh, TSOR_LINK_ATTR_CHANNELS, 4);
		mnl_attr_nest_end(nlh, n);
		done(nlh);
		break;
	case TSOR_CMD_DEV_GET:
		nlh = reply(req, FAMILY_ID, 0, g->cmd);
		n = mnl_attr_nest_start(nlh, TSOR_ATTR_DEV);
		mnl_attr_put_strz(nlh, TSOR_DEV_ATTR_IBDEV, "mlx5_0");
		mnl_attr_put(nlh, TSOR_DEV_ATTR_ADDR, 4, v4a);
		mnl_attr_put_u16(nlh, TSOR_DEV_ATTR_PORT, 7471);
		mnl_attr_put_u8(nlh, TSOR_DEV_ATTR_LOCAL_PATH,
				TSOR_LOCAL_PATH_SHM);
		mnl_attr_nest_end(nlh, n);
		done(nlh);
		break;
	}
	finish(req);
}

static void ctrl(const struct nlmsghdr *req)
{
	struct nlmsghdr *nlh;

	if (scenario("nomodule"))
		return ack(req, -ENOENT, NULL);
	nlh = reply(req, GENL_ID_CTRL, 0, CTRL_CMD_NEWFAMILY);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TSOR_GENL_NAME);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, FAMILY_ID);
	mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, TSOR_GENL_VERSION);
	done(nlh);
	ack(req, 0, NULL);
}

ssize_t mnl_socket_sendto(const struct mnl_socket *nl, const void *buf,
			  size_t len)
{
	const struct nlmsghdr *req = buf;

	(void)nl;
	queued = taken = 0;
	if (req->nlmsg_type == GENL_ID_CTRL)
		ctrl(req);
	else if (req->nlmsg_type == FAMILY_ID)
		tsor(req);
	return (ssize_t)len;
}

/* One message per call, as a real socket might deliver them. */
ssize_t mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf,
			    size_t bufsiz)
{
	const struct nlmsghdr *nlh = (const void *)(queue + taken);

	(void)nl;
	if (taken >= queued) {
		errno = EAGAIN;
		return -1;
	}
	if (nlh->nlmsg_len > bufsiz) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, nlh, nlh->nlmsg_len);
	taken += nlh->nlmsg_len;
	/* Past the nlmsghdr: libmnl checks that part itself. */
	if (scenario("fuzz") && nlh->nlmsg_len > sizeof(*nlh)) {
		static bool seeded;
		int i;

		if (!seeded) {
			srand((unsigned int)atoi(getenv("FAKE_SEED") ?: "1"));
			seeded = true;
		}
		for (i = 0; i < 3; i++)
			((unsigned char *)buf)[sizeof(*nlh) + (size_t)rand() %
				(nlh->nlmsg_len - sizeof(*nlh))] ^=
				(unsigned char)(1 + rand() % 255);
	}
	return nlh->nlmsg_len;
}
