// SPDX-License-Identifier: GPL-2.0
/*
 * tsor_nlfuzz: sends random and mutated requests for every command of the
 * tsor generic netlink family and checks that
 *   - every request is answered (no hang), and
 *   - a refused request leaves the settings (this netns' state, the peer
 *     table, the node endpoint) exactly as they were, and
 *   - with --unprivileged, no request that changes settings is accepted.
 * Oopses and WARNs are the caller's to catch, from dmesg.
 *
 * Attributes are drawn from the uapi's own tables (tsor_names.c), so a new
 * command or attribute is fuzzed as soon as it is named there.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/tsor.h>

#include "common.h"
#include "tsor_names.h"

#define BUF_SIZE	(64 * 1024)
#define STATE_MAX	(256 * 1024)

static const char usage_text[] =
"usage: tsor_nlfuzz [-n ITERATIONS] [-s SEED] [--unprivileged] [-v]\n"
"\n"
"Sends ITERATIONS (default 5000) random or mutated tsor netlink requests\n"
"and checks that each is answered, and that a refused one changed no\n"
"setting.  --unprivileged also fails if a request that changes settings\n"
"is accepted.  SEED (default: the time) makes a run repeatable.  Prints a\n"
"summary; exits 0 when nothing was wrong, 1 otherwise.\n";

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static unsigned int rnd_below(unsigned int n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return rnd_below(100) < percent;
}

struct fuzz {
	struct mnl_socket *nl;
	uint16_t family;
	uint32_t seq;
	int own_netns_fd;
	bool verbose;
};

/* Requests */

static struct nlmsghdr *put_header(char *buf, const struct fuzz *f,
				   uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = f->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = TSOR_GENL_VERSION;
	return nlh;
}

/* A value of a fixed-size kind: mostly edges, sometimes anything. */
static uint64_t pick_value(void)
{
	static const uint64_t edges[] = { 0, 1, 2, 3, 7, 8, 32, 33, 64, 128, 129,
					   255, 256, 65535, 65536, 0x7fffffff,
					   0xffffffff, ~0ULL };

	return chance(70) ? edges[rnd_below(ARRAY_SIZE(edges))] : rnd();
}

/*
 * Netns selectors point only at this process's netns or at nothing: the
 * fuzzer must not enable the node's own namespace under the test run.
 */
static uint32_t pick_selector(const struct fuzz *f, bool fd)
{
	static const uint32_t bad[] = { 0, 1, 2, 9999, 4000000, 0xffffffff };

	if (chance(50))
		return fd ? (uint32_t)f->own_netns_fd : (uint32_t)getpid();
	return bad[rnd_below(ARRAY_SIZE(bad))];
}

static void put_random_bytes(struct nlmsghdr *nlh, uint16_t type)
{
	char bytes[48];
	unsigned int i, len = rnd_below(sizeof(bytes) + 1);

	for (i = 0; i < len; i++)
		bytes[i] = rnd();
	mnl_attr_put(nlh, type, len, bytes);
}

static void put_attrs(struct nlmsghdr *nlh, const struct fuzz *f,
		      const struct nl_table *t, int depth);

static void put_attr(struct nlmsghdr *nlh, const struct fuzz *f,
		     const struct nl_table *t, int depth)
{
	const struct nl_desc *d;
	uint16_t type;
	char str[120];
	uint8_t addr[16];
	uint64_t v;

	/* Mostly a known attribute, sometimes an unknown or reserved one. */
	type = chance(85) && t->n > 1 ? 1 + rnd_below(t->n - 1) : rnd_below(70);
	d = nl_desc(t, type);
	if (!d || chance(10)) {
		put_random_bytes(nlh, type);
		return;
	}
	v = pick_value();
	if (type == TSOR_ATTR_NETNS_FD && t == &tsor_attr_table)
		v = pick_selector(f, true);
	if (type == TSOR_ATTR_NETNS_PID && t == &tsor_attr_table)
		v = pick_selector(f, false);
	switch (d->kind) {
	case NK_U8:
		mnl_attr_put_u8(nlh, type, v);
		break;
	case NK_U16:
		mnl_attr_put_u16(nlh, type, v);
		break;
	case NK_U32:
	case NK_S32:
		mnl_attr_put_u32(nlh, type, v);
		break;
	case NK_U64:
		mnl_attr_put_u64(nlh, type, v);
		break;
	case NK_FLAG:
		mnl_attr_put(nlh, type, 0, NULL);
		break;
	case NK_STR: {
		unsigned int i, len = chance(20) ? sizeof(str) - 1 :
						 rnd_below(16);

		for (i = 0; i < len; i++)
			str[i] = 'a' + rnd_below(26);
		str[len] = '\0';
		mnl_attr_put_strz(nlh, type, str);
		break;
	}
	case NK_ADDR: {
		static const uint8_t lens[] = { 4, 16, 4, 16, 0, 3, 5, 17 };
		unsigned int i;

		for (i = 0; i < sizeof(addr); i++)
			addr[i] = chance(50) ? 0 : rnd();
		mnl_attr_put(nlh, type, lens[rnd_below(sizeof(lens))], addr);
		break;
	}
	case NK_NEST: {
		struct nlattr *nest;

		if (depth >= 3) {
			put_random_bytes(nlh, type);
			break;
		}
		nest = mnl_attr_nest_start(nlh, type);
		put_attrs(nlh, f, d->nest, depth + 1);
		mnl_attr_nest_end(nlh, nest);
		break;
	}
	default:
		put_random_bytes(nlh, type);
		break;
	}
}

static void put_attrs(struct nlmsghdr *nlh, const struct fuzz *f,
		      const struct nl_table *t, int depth)
{
	/* Few attributes get past strict validation more often. */
	unsigned int i, n = rnd_below(chance(40) ? 3 : depth ? 5 : 7);

	for (i = 0; i < n && nlh->nlmsg_len < BUF_SIZE - 1024; i++)
		put_attr(nlh, f, t, depth);
}

/* Damages a well-formed request in one of the ways a parser must survive. */
static void mutate(struct nlmsghdr *nlh)
{
	size_t hdr = NLMSG_HDRLEN + GENL_HDRLEN;
	uint8_t *p = (uint8_t *)nlh;
	size_t len = nlh->nlmsg_len;

	switch (rnd_below(4)) {
	case 0:	/* flip bytes past the headers */
		if (len > hdr) {
			unsigned int i, n = 1 + rnd_below(4);

			for (i = 0; i < n; i++)
				p[hdr + rnd_below(len - hdr)] ^= 1 << rnd_below(8);
		}
		break;
	case 1:	/* cut the message short */
		nlh->nlmsg_len = NLMSG_HDRLEN + rnd_below(len - NLMSG_HDRLEN + 1);
		break;
	case 2:	/* first attribute claims more than is there */
		if (len >= hdr + sizeof(struct nlattr)) {
			struct nlattr *a = (struct nlattr *)(p + hdr);

			a->nla_len = len - hdr + 1 + rnd_below(64);
		}
		break;
	default: /* genetlink header version or reserved bits */
		p[NLMSG_HDRLEN + 1 + rnd_below(3)] = rnd();
		break;
	}
}

/* Replies */

struct reply {
	char *buf;		/* collected payloads, for the state snapshot */
	size_t len;
};

static void collect(struct reply *r, const struct nlmsghdr *nlh)
{
	size_t n = nlh->nlmsg_len - NLMSG_HDRLEN;

	if (r && r->len + n <= STATE_MAX) {
		memcpy(r->buf + r->len, mnl_nlmsg_get_payload(nlh), n);
		r->len += n;
	}
}

/*
 * Sends @len bytes of @nlh and reads until the final ACK, error or DONE,
 * skipping anything left over from earlier requests.  Returns 0 or -errno
 * from the kernel; -ETIMEDOUT when it never answered.
 */
static int transact(struct fuzz *f, struct nlmsghdr *nlh, size_t len,
		    struct reply *r)
{
	char buf[BUF_SIZE];
	uint32_t seq = ++f->seq;
	const struct nlmsghdr *m;
	ssize_t n;
	int rem;

	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(f->nl, nlh, len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(f->nl, buf, sizeof(buf));
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		rem = n;
		for (m = (struct nlmsghdr *)buf; mnl_nlmsg_ok(m, rem);
		     m = mnl_nlmsg_next(m, &rem)) {
			if (m->nlmsg_seq != seq)
				continue;
			if (m->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

				return e->error;
			}
			if (m->nlmsg_type == NLMSG_DONE) {
				const int *e = mnl_nlmsg_get_payload(m);

				return m->nlmsg_len >= NLMSG_HDRLEN + sizeof(*e) ?
				       *e : 0;
			}
			collect(r, m);
		}
	}
}

/* Everything a refused request must leave alone, as raw reply bytes. */
static int snapshot(struct fuzz *f, struct reply *r)
{
	static const struct { uint8_t cmd; uint16_t flags; } reads[] = {
		{ TSOR_CMD_NETNS_GET, 0 },
		{ TSOR_CMD_PEER_GET, NLM_F_DUMP },
		{ TSOR_CMD_DEV_GET, 0 },
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int i;
	int err;

	r->len = 0;
	for (i = 0; i < ARRAY_SIZE(reads); i++) {
		struct nlmsghdr *nlh = put_header(buf, f, reads[i].cmd,
						  reads[i].flags);

		err = transact(f, nlh, nlh->nlmsg_len, r);
		if (err)
			return err;
	}
	return 0;
}

static bool changes_settings(uint8_t cmd)
{
	return cmd == TSOR_CMD_NETNS_SET || cmd == TSOR_CMD_PEER_ADD ||
	       cmd == TSOR_CMD_PEER_DEL || cmd == TSOR_CMD_PEER_REPLACE ||
	       cmd == TSOR_CMD_DEV_SET;
}

static void dump_request(const struct nlmsghdr *nlh, size_t len)
{
	const uint8_t *p = (const uint8_t *)nlh;
	size_t i;

	fprintf(stderr, "  request (%zu bytes):", len);
	for (i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n    ", p[i]);
	fprintf(stderr, "\n");
}

static uint16_t resolve_family(struct mnl_socket *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	struct nlattr *a;
	uint16_t id = 0;
	ssize_t n;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, TSOR_GENL_NAME);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		fatal(1, "cannot ask for the tsor family: %s", strerror(errno));
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		fatal(1, "no answer about the tsor family: %s", strerror(errno));
	nlh = (struct nlmsghdr *)buf;
	if (nlh->nlmsg_type == NLMSG_ERROR)
		fatal(1, "the tsor family is not registered (is tsor.ko loaded?)");
	mnl_attr_for_each(a, nlh, sizeof(*g))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
			id = mnl_attr_get_u16(a);
	if (!id)
		fatal(1, "the family reply has no id");
	return id;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unprivileged", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char before_buf[STATE_MAX], after_buf[STATE_MAX];
	struct reply before = { before_buf, 0 }, after = { after_buf, 0 };
	unsigned long accepted = 0, refused = 0, broken = 0, errnos[134] = { 0 };
	uint64_t iterations = 5000, seed = time(NULL);
	struct fuzz f = { 0 };
	bool unprivileged = false;
	struct timeval tv = { .tv_sec = 10 };
	char buf[BUF_SIZE];
	uint64_t i;
	int c;

	set_progname(argv[0]);
	while ((c = getopt_long(argc, argv, "n:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, &iterations) || !iterations)
				usage_error("-n wants a positive count, not '%s'", optarg);
			break;
		case 's':
			if (parse_u64(optarg, &seed))
				usage_error("-s wants a number, not '%s'", optarg);
			break;
		case 'u':
			unprivileged = true;
			break;
		case 'v':
			f.verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			usage_error("see --help");
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	rng_state = seed ? seed : 1;

	f.own_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (f.own_netns_fd < 0)
		fatal(1, "cannot open /proc/self/ns/net: %s", strerror(errno));
	f.nl = mnl_socket_open(NETLINK_GENERIC);
	if (!f.nl || mnl_socket_bind(f.nl, 0, MNL_SOCKET_AUTOPID) < 0)
		fatal(1, "cannot open a generic netlink socket: %s", strerror(errno));
	setsockopt(mnl_socket_get_fd(f.nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	f.family = resolve_family(f.nl);
	if (snapshot(&f, &before))
		fatal(1, "cannot read the settings: %s", strerror(errno));

	for (i = 0; i < iterations; i++) {
		uint8_t cmd = chance(95) ? rnd_below(TSOR_CMD_MAX + 1) :
					   TSOR_CMD_MAX + 1 + rnd_below(200);
		struct nlmsghdr *nlh = put_header(buf, &f, cmd,
						  chance(25) ? NLM_F_DUMP : 0);
		bool mutated = chance(25);
		int err;

		put_attrs(nlh, &f, &tsor_attr_table, 0);
		if (mutated)
			mutate(nlh);
		err = transact(&f, nlh, nlh->nlmsg_len, NULL);
		if (err == -ETIMEDOUT) {
			fprintf(stderr, "iteration %llu: no answer within 10 s\n",
				(unsigned long long)i);
			dump_request(nlh, nlh->nlmsg_len);
			broken++;
			break;
		}
		if (!err) {
			accepted++;
			if (unprivileged && changes_settings(cmd)) {
				fprintf(stderr, "iteration %llu: an unprivileged %s was accepted\n",
					(unsigned long long)i,
					nl_desc(&tsor_cmd_table, cmd)->name);
				dump_request(nlh, nlh->nlmsg_len);
				broken++;
			}
		} else {
			refused++;
			errnos[-err < (int)ARRAY_SIZE(errnos) ? -err : 0]++;
		}
		if (snapshot(&f, &after)) {
			fprintf(stderr, "iteration %llu: cannot read the settings back: %s\n",
				(unsigned long long)i, strerror(errno));
			broken++;
			break;
		}
		if (err && (after.len != before.len ||
			    memcmp(after.buf, before.buf, after.len))) {
			fprintf(stderr, "iteration %llu: a refused request (errno %d) changed a setting\n",
				(unsigned long long)i, -err);
			dump_request(nlh, nlh->nlmsg_len);
			broken++;
		}
		if (f.verbose)
			printf("%llu cmd=%u mutated=%d err=%d\n",
			       (unsigned long long)i, cmd, mutated, err);
		memcpy(before.buf, after.buf, after.len);
		before.len = after.len;
		if ((i + 1) % 1000 == 0)
			fprintf(stderr, "tsor_nlfuzz: %llu of %llu\n",
				(unsigned long long)i + 1,
				(unsigned long long)iterations);
	}

	printf("seed=%llu iterations=%llu accepted=%lu refused=%lu broken=%lu\n",
	       (unsigned long long)seed, (unsigned long long)i, accepted,
	       refused, broken);
	printf("errnos:");
	for (c = 0; c < (int)ARRAY_SIZE(errnos); c++)
		if (errnos[c])
			printf(" %d:%lu", c, errnos[c]);
	printf("\n");
	mnl_socket_close(f.nl);
	close(f.own_netns_fd);
	return broken ? 1 : 0;
}
