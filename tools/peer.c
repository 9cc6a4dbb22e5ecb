// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl peer: the peer table, which maps pod CIDRs to node addresses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "print.h"
#include "request.h"
#include "tsorctl.h"
#include "utils.h"

/* Further bad lines of a peer file are counted, not shown. */
#define PEER_FILE_MAX_ERRORS	10

/* Upper bound of one TSOR_ATTR_PEER nest in a request. */
#define PEER_NEST_SIZE		(MNL_ATTR_HDRLEN + MNL_ALIGN(16) +	\
				 MNL_ATTR_HDRLEN + MNL_ALIGN(1) +	\
				 MNL_ATTR_HDRLEN + MNL_ALIGN(16) +	\
				 MNL_ATTR_HDRLEN)

struct peer {
	struct prefix prefix;
	struct inaddr node;	/* family 0: none (peer del) */
	unsigned int line;	/* in a peer file */
};

static const uint8_t peer_policy[TSOR_PEER_ATTR_MAX + 1] = {
	[TSOR_PEER_ATTR_PREFIX]		= NLK_ADDR,
	[TSOR_PEER_ATTR_PREFIXLEN]	= NLK_U8,
	[TSOR_PEER_ATTR_NODE]		= NLK_ADDR,
};

/* A node must be some host's unicast address. */
static bool node_parse(const char *s, struct inaddr *node, char *err,
		       size_t errlen)
{
	static const unsigned char zero[16];

	if (!inaddr_parse(s, node)) {
		snprintf(err, errlen, "%s: not an IPv4 or IPv6 address", s);
		return false;
	}
	if (!memcmp(node->bytes, zero, inaddr_len(node)) ||
	    (node->family == AF_INET ? (node->bytes[0] & 0xf0) == 0xe0 :
	     node->bytes[0] == 0xff)) {
		snprintf(err, errlen, "%s: not a unicast node address", s);
		return false;
	}
	return true;
}

/* CIDR via NODE_ADDR, from the command line or a peer file. */
static bool peer_parse(int argc, char **argv, struct peer *p, char *err,
		       size_t errlen)
{
	if (argc != 3 || strcmp(argv[1], "via")) {
		snprintf(err, errlen, "expected \"CIDR via NODE_ADDR\"");
		return false;
	}
	return prefix_parse(argv[0], &p->prefix, err, errlen) &&
	       node_parse(argv[2], &p->node, err, errlen);
}

static bool peer_put(struct nlmsghdr *nlh, size_t buflen, const struct peer *p)
{
	struct nlattr *nest;

	nest = mnl_attr_nest_start_check(nlh, buflen, TSOR_ATTR_PEER);
	if (!nest)
		return false;
	if (!mnl_attr_put_check(nlh, buflen, TSOR_PEER_ATTR_PREFIX,
				inaddr_len(&p->prefix.addr),
				p->prefix.addr.bytes) ||
	    !mnl_attr_put_u8_check(nlh, buflen, TSOR_PEER_ATTR_PREFIXLEN,
				   (uint8_t)p->prefix.len) ||
	    (p->node.family &&
	     !mnl_attr_put_check(nlh, buflen, TSOR_PEER_ATTR_NODE,
				 inaddr_len(&p->node), p->node.bytes))) {
		mnl_attr_nest_cancel(nlh, nest);
		return false;
	}
	mnl_attr_nest_end(nlh, nest);
	return true;
}

struct peer_list {
	struct peer *v;
	size_t n;
};

static bool peer_list_fill(struct nlmsghdr *nlh, size_t buflen,
			   const void *arg)
{
	const struct peer_list *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!peer_put(nlh, buflen, &l->v[i]))
			return false;
	return true;
}

static int peer_request(const char *what, uint8_t cmd, struct peer *v,
			size_t n)
{
	struct peer_list l = { v, n };
	struct request req = {
		.what = what,
		.cmd = cmd,
		.flags = REQ_MODIFIES,
		.room = n * PEER_NEST_SIZE,
		.fill = peer_list_fill,
		.fill_arg = &l,
	};

	return run_request(&req);
}

static int peer_add(int argc, char **argv)
{
	char err[256];
	struct peer p;

	if (!peer_parse(argc, argv, &p, err, sizeof(err)))
		return usage_error("peer add: %s", err);
	return peer_request("peer add", TSOR_CMD_PEER_ADD, &p, 1);
}

static int peer_del(int argc, char **argv)
{
	struct peer p = { 0 };
	char err[256];

	if (argc != 1)
		return usage_error("peer del: expected \"CIDR\"");
	if (!prefix_parse(argv[0], &p.prefix, err, sizeof(err)))
		return usage_error("peer del: %s", err);
	return peer_request("peer del", TSOR_CMD_PEER_DEL, &p, 1);
}

/* CIDR via NODE_ADDR */
static int peer_print(const struct nlattr *const *tb, void *arg)
{
	const struct nlattr *pa[ARRAY_SIZE(peer_policy)];
	char buf[ADDR_STRLEN];
	struct prefix prefix;
	struct inaddr node;

	(void)arg;
	if (!tb[TSOR_ATTR_PEER] ||
	    !NL_PARSE_NEST(tb[TSOR_ATTR_PEER], peer_policy, pa) ||
	    !pa[TSOR_PEER_ATTR_PREFIX] || !pa[TSOR_PEER_ATTR_PREFIXLEN] ||
	    !pa[TSOR_PEER_ATTR_NODE])
		return -EBADMSG;
	inaddr_from_attr(pa[TSOR_PEER_ATTR_PREFIX], &prefix.addr);
	inaddr_from_attr(pa[TSOR_PEER_ATTR_NODE], &node);
	prefix.len = mnl_attr_get_u8(pa[TSOR_PEER_ATTR_PREFIXLEN]);
	if (prefix.len > inaddr_len(&prefix.addr) * 8)
		return -EBADMSG;

	print_obj_open(NULL);
	print_str("prefix", "%s", prefix_ntop(&prefix, buf));
	print_str("node", " via %s\n", inaddr_ntop(&node, buf));
	print_obj_close();
	return 0;
}

static int peer_show(int argc, char **argv)
{
	struct request req = {
		.what = "peer show",
		.cmd = TSOR_CMD_PEER_GET,
		.flags = REQ_DUMP | REQ_LIST,
		.print = peer_print,
	};

	return run_request_noargs(&req, argc, argv);
}

static int prefix_cmp(const struct prefix *x, const struct prefix *y)
{
	if (x->addr.family != y->addr.family)
		return x->addr.family - y->addr.family;
	if (x->len != y->len)
		return (int)x->len - (int)y->len;
	return memcmp(x->addr.bytes, y->addr.bytes, inaddr_len(&x->addr));
}

/* Orders by prefix, then by line, so duplicates end up adjacent. */
static int peer_cmp(const void *a, const void *b)
{
	const struct peer *x = a, *y = b;
	int d = prefix_cmp(&x->prefix, &y->prefix);

	if (d)
		return d;
	return x->line < y->line ? -1 : x->line > y->line;
}

struct file_errors {
	const char *label;
	unsigned int count;
};

static void file_error(struct file_errors *fe, unsigned int line,
		       const char *msg)
{
	if (++fe->count <= PEER_FILE_MAX_ERRORS)
		errorf("%s:%u: %s", fe->label, line, msg);
}

/* Splits @line at blanks, after dropping a # comment; returns the count. */
static int split_words(char *line, char **words, int max)
{
	char *save, *w;
	int n = 0;

	line[strcspn(line, "#")] = '\0';
	for (w = strtok_r(line, " \t\r\n\v\f", &save); w;
	     w = strtok_r(NULL, " \t\r\n\v\f", &save)) {
		if (n < max)
			words[n] = w;
		n++;
	}
	return n;
}

/* Every entry of a peer file, or an exit code once errors are shown. */
static int peer_file_read(const char *file, struct peer **out, size_t *n)
{
	bool use_stdin = !strcmp(file, "-");
	struct file_errors fe = { use_stdin ? "<stdin>" : file, 0 };
	FILE *f = use_stdin ? stdin : fopen(file, "r");
	unsigned int lineno = 0;
	struct peer *v = NULL;
	size_t cap = 0, vcap = 0, len = 0, i;
	char *line = NULL, err[256];
	int rc = RC_OK;

	if (!f) {
		errorf("peer sync: cannot open %s: %s", file, strerror(errno));
		return errno == ENOENT ? RC_USAGE : RC_FAIL;
	}
	while (getline(&line, &cap, f) != -1) {
		char *words[4];
		int argc = split_words(line, words, ARRAY_SIZE(words));

		lineno++;
		if (!argc)
			continue;
		if (len == vcap) {
			struct peer *nv;

			vcap = vcap ? 2 * vcap : 64;
			nv = realloc(v, vcap * sizeof(*v));
			if (!nv) {
				errorf("peer sync: %s", strerror(ENOMEM));
				rc = RC_FAIL;
				goto out;
			}
			v = nv;
		}
		if (!peer_parse(argc > 3 ? 4 : argc, words, &v[len], err,
				sizeof(err))) {
			file_error(&fe, lineno, err);
			continue;
		}
		v[len++].line = lineno;
	}
	if (ferror(f)) {
		errorf("peer sync: cannot read %s: %s", fe.label,
		       strerror(errno));
		rc = RC_FAIL;
		goto out;
	}

	/* A table maps each prefix to one node: reject repeats. */
	if (len)
		qsort(v, len, sizeof(*v), peer_cmp);
	for (i = 1; i < len; i++) {
		size_t first = i - 1;
		char buf[ADDR_STRLEN];

		while (i < len && !prefix_cmp(&v[i].prefix, &v[first].prefix)) {
			snprintf(err, sizeof(err),
				 "duplicate CIDR %s (first on line %u)",
				 prefix_ntop(&v[i].prefix, buf), v[first].line);
			file_error(&fe, v[i].line, err);
			i++;
		}
	}
	if (fe.count > PEER_FILE_MAX_ERRORS)
		errorf("%s: %u more errors", fe.label,
		       fe.count - PEER_FILE_MAX_ERRORS);
	if (fe.count)
		rc = RC_USAGE;
out:
	free(line);
	if (!use_stdin)
		fclose(f);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	*n = len;
	return RC_OK;
}

static int peer_sync(int argc, char **argv)
{
	struct peer *v = NULL;
	size_t n = 0;
	int rc;

	if (argc != 1)
		return usage_error("peer sync: expected \"FILE\" (or - for stdin)");
	rc = peer_file_read(argv[0], &v, &n);
	if (rc)
		return rc;
	/* One request, so the kernel swaps the whole table at once. */
	rc = peer_request("peer sync", TSOR_CMD_PEER_REPLACE, v, n);
	free(v);
	return rc;
}

static const struct command peer_cmds[] = {
	{ "add",	peer_add },
	{ "del",	peer_del },
	{ "show",	peer_show },
	{ "sync",	peer_sync },
};

const struct object peer_object = {
	.name = "peer",
	.usage =
	"peer add CIDR via NODE_ADDR\n"
	"peer del CIDR\n"
	"peer show\n"
	"peer sync FILE\n"
	"\n"
	"The peer table tells tsor which node hosts the pods of a CIDR, so a\n"
	"connection to them can go over RDMA.  CIDR is ADDR/LEN (a bare ADDR\n"
	"is a host route) and must have no host bits set; IPv4 and IPv6 mix.\n"
	"sync: replace the whole table, atomically, by FILE (- for stdin):\n"
	"    lines of \"CIDR via NODE_ADDR\", # comments and blank lines.\n"
	"    Every line is checked before anything is sent.  The output of\n"
	"    \"peer show\" is a valid FILE.\n",
	.cmds = peer_cmds,
	.n_cmds = ARRAY_SIZE(peer_cmds),
	.run = peer_show,
};
