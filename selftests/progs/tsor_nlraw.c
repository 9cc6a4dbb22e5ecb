// SPDX-License-Identifier: GPL-2.0
/*
 * tsor_nlraw: send ONE hand-crafted generic netlink request to the "tsor"
 * family and print what the kernel said, so tests can probe the policy
 * and the handlers with malformed input no well-behaved tool would send.
 *
 *   tsor_nlraw [--dump] [--timeout S] [--hdr-version N] CMD [ATTR...]
 *
 * Exit status: 0 accepted, 1 the kernel returned an error (or no answer),
 * 2 usage error, 3 the tsor family is not registered.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tsor.h>

#include "common.h"
#include "tsor_names.h"

#define EXIT_NO_FAMILY	3

#define STR_(x)		#x
#define STR(x)		STR_(x)

#define REQ_BUF_SIZE	16384
#define RX_BUF_SIZE	(128 * 1024)	/* dumps fill up to 32 KiB per read */
#define MAX_RECORDS	256

static const char usage_text[] =
"Usage: tsor_nlraw [--dump] [--timeout S] [--hdr-version N] CMD [ATTR...]\n"
"\n"
"Sends one generic netlink request (NLM_F_ACK, NETLINK_EXT_ACK on) to the\n"
"\"" TSOR_GENL_NAME "\" family.  Reply messages print as 'reply cmd=NAME key=value...';\n"
"the last line is 'errno=0' or 'errno=N (text) extack=\"...\" offset=N attr=PATH'.\n"
"\n"
"  CMD     enum tsor_cmd name without TSOR_CMD_ (NETNS_SET, any case) or a\n"
"          number 0..255\n"
"  ATTR    NAME:TYPE:VALUE\n"
"          NAME   TSOR_ATTR_* without prefix (ENABLED) or a number; inside a\n"
"                 nest, names of the nest's enum (tsor_peer_attr, ...)\n"
"          TYPE   u8 u16 u32 u64 s32 str flag bin nest\n"
"          VALUE  number (0x hex ok); hex bytes for bin; nothing for flag;\n"
"                 [ATTR,ATTR,...] for nest; fd:PATH sends the number of an\n"
"                 fd opened on PATH (e.g. NETNS_FD:u32:fd:/run/netns/a)\n"
"  --dump          set NLM_F_DUMP\n"
"  --timeout S     wait at most S seconds for the answer (default 30)\n"
"  --hdr-version N genlmsghdr version (default " STR(TSOR_GENL_VERSION) ")\n"
"  --family NAME   talk to another family (numbers only; tests this tool)\n"
"\n"
"Exit: 0 accepted, 1 error returned, 2 usage, 3 family not registered.\n"
"Example: tsor_nlraw PEER_ADD 'PEER:nest:[PREFIX:bin:0a000000,PREFIXLEN:u8:8]'\n";

/* Where each attribute we sent sits, to name the one extack points at. */
struct record {
	uint32_t off, len;
	char path[96];
	const struct nl_table *inner;	/* for a nest: its names */
};

static struct record records[MAX_RECORDS];

/* The family and its name tables; --family drops the tables. */
static const char *family = TSOR_GENL_NAME;
static const struct nl_table *cmd_names = &tsor_cmd_table;
static const struct nl_table *attr_names = &tsor_attr_table;
static unsigned int nrecords;

/* What the final NLMSG_ERROR or NLMSG_DONE said. */
struct outcome {
	int error;			/* positive errno, 0 accepted */
	const char *msg;		/* NLMSGERR_ATTR_MSG */
	bool has_offs, has_miss_type, has_miss_nest;
	uint32_t offs, miss_type, miss_nest;
	char msgbuf[512];
};

enum value_type { T_U8, T_U16, T_U32, T_U64, T_S32, T_STR, T_FLAG, T_BIN, T_NEST };

static const char *const type_names[] = {
	[T_U8] = "u8", [T_U16] = "u16", [T_U32] = "u32", [T_U64] = "u64",
	[T_S32] = "s32", [T_STR] = "str", [T_FLAG] = "flag", [T_BIN] = "bin",
	[T_NEST] = "nest",
};

static int parse_type(const char *s)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(type_names); i++)
		if (!strcmp(s, type_names[i]))
			return (int)i;
	return -1;
}

/* A name from @t, or a number up to @max. */
static unsigned int parse_name(const struct nl_table *t, const char *s,
			       uint64_t max, const char *what)
{
	int v = nl_lookup(t, s);
	uint64_t n;

	if (v >= 0)
		return (unsigned int)v;
	if (parse_u64(s, &n) || n > max) {
		if (t)
			usage_error("unknown %s '%s' (neither in enum %s nor a number up to %llu)",
				    what, s, t->what, (unsigned long long)max);
		usage_error("%s '%s' must be a number up to %llu here",
			    what, s, (unsigned long long)max);
	}
	return (unsigned int)n;
}

/* Integer VALUE, or fd:PATH which opens PATH and uses the descriptor. */
static uint64_t parse_int_value(const char *s, int type, const char *attr)
{
	static const uint64_t max[] = {
		[T_U8] = UINT8_MAX, [T_U16] = UINT16_MAX,
		[T_U32] = UINT32_MAX, [T_U64] = UINT64_MAX,
	};
	uint64_t v;
	int64_t sv;

	if (!strncmp(s, "fd:", 3)) {
		/* Left open on purpose: the kernel resolves it on receipt. */
		int fd = open(s + 3, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			usage_error("%s: cannot open '%s': %s", attr, s + 3,
				    strerror(errno));
		return (uint64_t)fd;
	}
	if (type == T_S32) {
		if (parse_s64(s, &sv) || sv < INT32_MIN || sv > INT32_MAX)
			usage_error("%s: '%s' is not an s32", attr, s);
		return (uint64_t)(uint32_t)(int32_t)sv;
	}
	if (parse_u64(s, &v) || v > max[type])
		usage_error("%s: '%s' is not a %s", attr, s, type_names[type]);
	return v;
}

static size_t parse_hex(const char *s, uint8_t *out, size_t room, const char *attr)
{
	size_t n, i;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	n = strlen(s);
	if (n % 2)
		usage_error("%s: hex '%s' has an odd number of digits", attr, s);
	if (n / 2 > room)
		usage_error("%s: %zu bytes do not fit the message", attr, n / 2);
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (!isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &b) != 1)
			usage_error("%s: '%s' is not hex", attr, s);
		out[i] = (uint8_t)b;
	}
	return n / 2;
}

static void put_attr(struct nlmsghdr *nlh, char *spec,
		     const struct nl_table *names, const char *parent);

/* "[a,b,...]": each top-level comma separates one inner attribute. */
static void put_nest_items(struct nlmsghdr *nlh, char *value,
			   const struct nl_table *names, const char *path)
{
	size_t len = strlen(value);
	char *item, *p;
	int depth = 0;

	if (len < 2 || value[0] != '[' || value[len - 1] != ']')
		usage_error("%s: a nest value looks like [NAME:TYPE:VALUE,...], not '%s'",
			    path, value);
	value[len - 1] = '\0';
	item = value + 1;
	if (!*item)
		return;		/* [] is an empty nest */
	for (p = item; ; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']' && --depth < 0)
			usage_error("%s: unbalanced ']'", path);
		if (*p == '\0' || (*p == ',' && depth == 0)) {
			bool last = *p == '\0';

			*p = '\0';
			put_attr(nlh, item, names, path);
			if (last)
				break;
			item = p + 1;
		}
	}
	if (depth)
		usage_error("%s: unbalanced '['", path);
}

static void no_room(const char *path)
{
	usage_error("%s: the request exceeds %d bytes", path, REQ_BUF_SIZE);
}

/* Appends one NAME:TYPE:VALUE to @nlh; names come from @names. */
static void put_attr(struct nlmsghdr *nlh, char *spec,
		     const struct nl_table *names, const char *parent)
{
	char *type_s, *value, *colon;
	const struct nl_desc *d;
	struct record *r;
	unsigned int id;
	int type;
	uint64_t v;
	bool ok;

	type_s = strchr(spec, ':');
	if (!type_s)
		usage_error("attribute '%s' is not NAME:TYPE:VALUE", spec);
	*type_s++ = '\0';
	colon = strchr(type_s, ':');
	value = colon ? colon + 1 : NULL;
	if (colon)
		*colon = '\0';
	/* 16 bits: raw numbers may carry NLA_F_NESTED/NLA_F_NET_BYTEORDER. */
	id = parse_name(names, spec, UINT16_MAX, "attribute");
	type = parse_type(type_s);
	if (type < 0)
		usage_error("%s: unknown type '%s' (u8 u16 u32 u64 s32 str flag bin nest)",
			    spec, type_s);
	if (type == T_FLAG ? value && *value : !value)
		usage_error("%s: %s", spec, type == T_FLAG ?
			    "a flag takes no value" : "missing :VALUE");

	if (nrecords == MAX_RECORDS)
		usage_error("more than %d attributes", MAX_RECORDS);
	r = &records[nrecords++];
	r->off = nlh->nlmsg_len;
	d = nl_desc(names, id);
	snprintf(r->path, sizeof(r->path), "%s%s%s", parent, *parent ? "." : "",
		 d ? d->name : spec);
	r->inner = d ? d->nest : NULL;

	switch (type) {
	case T_U8:
	case T_U16:
	case T_U32:
	case T_U64:
	case T_S32: {
		static const size_t size[] = {
			[T_U8] = 1, [T_U16] = 2, [T_U32] = 4, [T_U64] = 8, [T_S32] = 4,
		};
		union { uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64; } u;

		v = parse_int_value(value, type, r->path);
		switch (size[type]) {
		case 1: u.u8 = (uint8_t)v; break;
		case 2: u.u16 = (uint16_t)v; break;
		case 4: u.u32 = (uint32_t)v; break;
		default: u.u64 = v; break;
		}
		ok = mnl_attr_put_check(nlh, REQ_BUF_SIZE, (uint16_t)id,
					size[type], &u);
		break;
	}
	case T_STR:
		ok = mnl_attr_put_strz_check(nlh, REQ_BUF_SIZE, (uint16_t)id, value);
		break;
	case T_FLAG:
		ok = mnl_attr_put_check(nlh, REQ_BUF_SIZE, (uint16_t)id, 0, NULL);
		break;
	case T_BIN: {
		static uint8_t bin[REQ_BUF_SIZE];
		size_t n = parse_hex(value, bin, sizeof(bin), r->path);

		ok = mnl_attr_put_check(nlh, REQ_BUF_SIZE, (uint16_t)id, n, bin);
		break;
	}
	default: {	/* T_NEST; mnl sets NLA_F_NESTED as strict policies want */
		struct nlattr *nest = mnl_attr_nest_start_check(nlh, REQ_BUF_SIZE,
								(uint16_t)id);
		char path[sizeof(r->path)];

		if (!nest)
			no_room(r->path);
		strcpy(path, r->path);
		put_nest_items(nlh, value, r->inner, path);
		mnl_attr_nest_end(nlh, nest);
		ok = true;
		break;
	}
	}
	if (!ok)
		no_room(r->path);
	r->len = nlh->nlmsg_len - r->off;
}

/* The innermost attribute we sent that contains request offset @off. */
static const struct record *record_at(uint32_t off)
{
	const struct record *best = NULL;
	unsigned int i;

	for (i = 0; i < nrecords; i++)
		if (off >= records[i].off && off < records[i].off + records[i].len)
			best = &records[i];	/* later = deeper */
	return best;
}

/* Prints @s so that key=value splitting on spaces still works. */
static void print_escaped(const char *s, size_t len, bool quoted)
{
	size_t i;

	for (i = 0; i < len && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (isgraph(ch) || (quoted && ch == ' '))
			putchar(ch);
		else
			printf("\\x%02x", ch);
	}
}

static void print_hex(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		printf("%02x", p[i]);
}

static void print_attrs(const void *data, size_t len,
			const struct nl_table *names, const char *prefix);

/* A stats entry (nest of tsor_stat_attr) prints as name=value. */
static bool print_stat(const struct nlattr *nest)
{
	const char *name = NULL;
	const struct nlattr *a;
	bool have_value = false;
	uint64_t value = 0;

	mnl_attr_for_each_nested(a, nest) {
		uint16_t t = mnl_attr_get_type(a);

		if (t == TSOR_STAT_ATTR_NAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(a);
		else if (t == TSOR_STAT_ATTR_VALUE && mnl_attr_get_payload_len(a) == 8) {
			value = mnl_attr_get_u64(a);
			have_value = true;
		}
	}
	if (!name || !have_value)
		return false;
	putchar(' ');
	print_escaped(name, strlen(name), false);
	printf("=%llu", (unsigned long long)value);
	return true;
}

static void print_attr(const struct nlattr *a, const struct nl_table *names,
		       const char *prefix)
{
	uint16_t type = mnl_attr_get_type(a);
	const struct nl_desc *d = nl_desc(names, type);
	const uint8_t *p = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);
	char key[160], addr[INET6_ADDRSTRLEN];
	enum nl_kind kind = d ? d->kind : NK_BIN;
	static const size_t fixed[] = {
		[NK_U8] = 1, [NK_U16] = 2, [NK_U32] = 4, [NK_U64] = 8, [NK_S32] = 4,
	};

	if (kind == NK_PAD)
		return;
	if (d)
		snprintf(key, sizeof(key), "%s%s", prefix, d->name);
	else
		snprintf(key, sizeof(key), "%sattr%u", prefix, type);

	if (kind == NK_NEST) {
		char inner[sizeof(key) + 1];

		if (d->nest == &tsor_stat_attr_table && print_stat(a))
			return;
		/* STATS entries are already named; do not prefix them. */
		if (d->nest == &tsor_attr_table)
			inner[0] = '\0';
		else
			snprintf(inner, sizeof(inner), "%s.", key);
		print_attrs(p, len, d->nest, inner);
		return;
	}
	if (kind <= NK_S32 && kind >= NK_U8 && len != fixed[kind])
		kind = NK_BIN;	/* wrong size: show the bytes as they are */

	printf(" %s=", key);
	switch (kind) {
	case NK_U8: printf("%u", mnl_attr_get_u8(a)); break;
	case NK_U16: printf("%u", mnl_attr_get_u16(a)); break;
	case NK_U32: printf("%u", mnl_attr_get_u32(a)); break;
	case NK_S32: printf("%d", (int32_t)mnl_attr_get_u32(a)); break;
	case NK_U64: printf("%llu", (unsigned long long)mnl_attr_get_u64(a)); break;
	case NK_STR: print_escaped((const char *)p, len, false); break;
	case NK_FLAG: printf("1"); break;
	case NK_ADDR:
		if ((len == 4 && inet_ntop(AF_INET, p, addr, sizeof(addr))) ||
		    (len == 16 && inet_ntop(AF_INET6, p, addr, sizeof(addr)))) {
			printf("%s", addr);
			break;
		}
		print_hex(p, len);
		break;
	default:
		print_hex(p, len);
		break;
	}
}

static void print_attrs(const void *data, size_t len,
			const struct nl_table *names, const char *prefix)
{
	const struct nlattr *attr;	/* the name mnl's macro expects */

	mnl_attr_for_each_payload(data, len)
		print_attr(attr, names, prefix);
}

static void print_reply(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct nl_desc *d;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g)) {
		printf("reply short=%u\n", nlh->nlmsg_len);
		return;
	}
	d = nl_desc(cmd_names, g->cmd);
	if (d)
		printf("reply cmd=%s", d->name);
	else
		printf("reply cmd=%u", g->cmd);
	print_attrs((const char *)g + GENL_HDRLEN,
		    mnl_nlmsg_get_payload_len(nlh) - GENL_HDRLEN,
		    attr_names, "");
	putchar('\n');
}

static void parse_extack(const void *data, size_t len, struct outcome *out)
{
	const struct nlattr *attr;	/* the name mnl's macro expects */

	mnl_attr_for_each_payload(data, len) {
		switch (mnl_attr_get_type(attr)) {
		case NLMSGERR_ATTR_MSG:
			if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
				snprintf(out->msgbuf, sizeof(out->msgbuf), "%s",
					 mnl_attr_get_str(attr));
				out->msg = out->msgbuf;
			}
			break;
		case NLMSGERR_ATTR_OFFS:
			out->has_offs = mnl_attr_validate(attr, MNL_TYPE_U32) == 0;
			if (out->has_offs)
				out->offs = mnl_attr_get_u32(attr);
			break;
		case NLMSGERR_ATTR_MISS_TYPE:
			out->has_miss_type = mnl_attr_validate(attr, MNL_TYPE_U32) == 0;
			if (out->has_miss_type)
				out->miss_type = mnl_attr_get_u32(attr);
			break;
		case NLMSGERR_ATTR_MISS_NEST:
			out->has_miss_nest = mnl_attr_validate(attr, MNL_TYPE_U32) == 0;
			if (out->has_miss_nest)
				out->miss_nest = mnl_attr_get_u32(attr);
			break;
		}
	}
}

/* NLMSG_ERROR or NLMSG_DONE: the final word on our request. */
static void parse_final(const struct nlmsghdr *nlh, struct outcome *out)
{
	const uint8_t *p = mnl_nlmsg_get_payload(nlh);
	size_t len = mnl_nlmsg_get_payload_len(nlh), tlv;
	int err;

	if (len < sizeof(int)) {	/* a bare NLMSG_DONE: dump went fine */
		out->error = 0;
		return;
	}
	memcpy(&err, p, sizeof(err));
	out->error = -err;
	if (nlh->nlmsg_type == NLMSG_DONE) {
		tlv = sizeof(int);
	} else {
		const struct nlmsgerr *e = (const void *)p;

		if (len < sizeof(*e)) {
			out->error = EBADMSG;
			return;
		}
		/* Unless capped, our request is echoed before the TLVs. */
		tlv = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			tlv += NLMSG_ALIGN(e->msg.nlmsg_len) - NLMSG_HDRLEN;
	}
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && tlv < len)
		parse_extack(p + tlv, len - tlv, out);
}

/*
 * Sends @req and reads until its NLMSG_ERROR/NLMSG_DONE.  Other replies go
 * to @on_reply.  Returns 0 with @out filled, or -1 with errno (ETIMEDOUT
 * when nothing final arrived in time).
 */
static int transact(struct mnl_socket *nl, struct nlmsghdr *req,
		    void (*on_reply)(const struct nlmsghdr *, void *), void *arg,
		    struct outcome *out)
{
	static char buf[RX_BUF_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);

	memset(out, 0, sizeof(*out));
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const void *)buf;
		int left = (int)n;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != req->nlmsg_seq ||
			    (nlh->nlmsg_pid && nlh->nlmsg_pid != portid))
				continue;	/* not an answer to us */
			if (nlh->nlmsg_type == NLMSG_ERROR ||
			    nlh->nlmsg_type == NLMSG_DONE) {
				parse_final(nlh, out);
				return 0;
			}
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && on_reply)
				on_reply(nlh, arg);
		}
	}
}

static void family_reply(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN)
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			*(uint16_t *)arg = mnl_attr_get_u16(a);
}

static void reply_printer(const struct nlmsghdr *nlh, void *arg)
{
	(void)arg;
	print_reply(nlh);
}

/* CTRL_CMD_GETFAMILY; exits 3 if the family is not registered. */
static uint16_t resolve_family(struct mnl_socket *nl, uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	struct outcome out;
	uint16_t id = 0;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family);

	if (transact(nl, nlh, family_reply, &id, &out))
		fatal(EXIT_FAIL, "resolving family \"%s\": %s", family,
		      strerror(errno));
	if (out.error == ENOENT) {
		printf("family=%s missing errno=%d (%s)\n", family, ENOENT,
		       strerror(ENOENT));
		exit(EXIT_NO_FAMILY);
	}
	if (out.error || !id)
		fatal(EXIT_FAIL, "resolving family \"%s\": %s", family,
		      out.error ? strerror(out.error) : "no family id in the reply");
	return id;
}

static void print_outcome(const struct outcome *out)
{
	const struct record *r;

	printf("errno=%d", out->error);
	if (out->error)
		printf(" (%s)", strerror(out->error));
	if (out->msg) {
		printf(" extack=\"");
		print_escaped(out->msg, strlen(out->msg), true);
		putchar('"');
	}
	if (out->has_offs) {
		printf(" offset=%u", out->offs);
		r = record_at(out->offs);
		if (r)
			printf(" attr=%s", r->path);
	}
	if (out->has_miss_type) {
		/* The missing attribute belongs to the nest, or the top level. */
		const struct nl_table *t = attr_names;
		const struct nl_desc *d;

		r = out->has_miss_nest ? record_at(out->miss_nest) : NULL;
		if (out->has_miss_nest)
			t = r ? r->inner : NULL;
		d = nl_desc(t, out->miss_type);
		printf(" miss_type=%u", out->miss_type);
		if (d)
			printf(" miss_name=%s", d->name);
	}
	if (out->has_miss_nest) {
		printf(" miss_nest=%u", out->miss_nest);
		r = record_at(out->miss_nest);
		if (r)
			printf(" miss_nest_attr=%s", r->path);
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "dump",	 no_argument,	    NULL, 'd' },
		{ "timeout",	 required_argument, NULL, 't' },
		{ "hdr-version", required_argument, NULL, 'V' },
		{ "family",	 required_argument, NULL, 'f' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char req[REQ_BUF_SIZE];
	int timeout_ms = DEFAULT_TIMEOUT_MS, one = 1, opt, i;
	uint8_t hdr_version = TSOR_GENL_VERSION;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct mnl_socket *nl;
	struct outcome out;
	bool dump = false;
	unsigned int cmd;
	uint32_t seq = (uint32_t)time(NULL);
	uint64_t v;

	set_progname(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	opterr = 0;
	/* '+': stop at CMD, so attribute values may start with '-'. */
	while ((opt = getopt_long(argc, argv, "+:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dump = true;
			break;
		case 't':
			if (parse_timeout_ms(optarg, &timeout_ms))
				usage_error("--timeout: bad seconds '%s'", optarg);
			break;
		case 'V':
			if (parse_u64(optarg, &v) || v > UINT8_MAX)
				usage_error("--hdr-version: bad version '%s'", optarg);
			hdr_version = (uint8_t)v;
			break;
		case 'f':
			if (strlen(optarg) >= GENL_NAMSIZ)
				usage_error("--family: name too long");
			family = optarg;
			cmd_names = attr_names = NULL;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("missing CMD");

	/* Build the whole request first: usage errors beat a missing module. */
	cmd = parse_name(cmd_names, argv[optind], UINT8_MAX, "command");
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (dump ? NLM_F_DUMP : 0);
	nlh->nlmsg_seq = seq + 1;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = (uint8_t)cmd;
	g->version = hdr_version;
	for (i = optind + 1; i < argc; i++)
		put_attr(nlh, argv[i], attr_names, "");

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl)
		fatal(EXIT_FAIL, "netlink socket: %s", strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID))
		fatal(EXIT_FAIL, "netlink bind: %s", strerror(errno));
	if (mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one)))
		fatal(EXIT_FAIL, "NETLINK_EXT_ACK: %s", strerror(errno));
	if (set_socket_timeouts(mnl_socket_get_fd(nl), timeout_ms))
		fatal(EXIT_FAIL, "SO_RCVTIMEO: %s", strerror(errno));

	nlh->nlmsg_type = resolve_family(nl, seq);
	if (transact(nl, nlh, reply_printer, NULL, &out)) {
		if (errno == ETIMEDOUT)
			printf("timeout: no answer within %d ms\n", timeout_ms);
		else
			printf("FAIL: %s\n", strerror(errno));
		mnl_socket_close(nl);
		return EXIT_FAIL;
	}
	print_outcome(&out);
	mnl_socket_close(nl);
	return out.error ? EXIT_FAIL : EXIT_OK;
}
