// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl conn: taken-over connections, listed like ss(8).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "netns.h"
#include "netns_sel.h"
#include "print.h"
#include "request.h"
#include "tsorctl.h"
#include "utils.h"

static const uint8_t conn_policy[TSOR_CONN_ATTR_MAX + 1] = {
	[TSOR_CONN_ATTR_NETNS_INUM]	= NLK_U32,
	[TSOR_CONN_ATTR_FAMILY]		= NLK_U16,
	[TSOR_CONN_ATTR_SADDR]		= NLK_ADDR,
	[TSOR_CONN_ATTR_DADDR]		= NLK_ADDR,
	[TSOR_CONN_ATTR_SPORT]		= NLK_U16,
	[TSOR_CONN_ATTR_DPORT]		= NLK_U16,
	[TSOR_CONN_ATTR_PATH]		= NLK_U8,
	[TSOR_CONN_ATTR_FALLBACK]	= NLK_U8,
	[TSOR_CONN_ATTR_TX_BYTES]	= NLK_U64,
	[TSOR_CONN_ATTR_RX_BYTES]	= NLK_U64,
	[TSOR_CONN_ATTR_CREDITS]	= NLK_U32,
};

/* Columns: wide enough for IPv4; IPv6 pushes the line out, as in ss. */
#define CONN_HEADER_FMT	"%-12s %-21s %-21s %-4s %-13s %12s %12s %10s\n"

/* One endpoint: "addr" and "port" keys in JSON, ADDR:PORT in text. */
static void conn_print_end(const char *key, const char *port_key,
			   const struct nlattr *addr_attr,
			   const struct nlattr *port_attr)
{
	char addr[ADDR_STRLEN], both[ADDR_STRLEN];
	uint16_t port = mnl_attr_get_u16(port_attr);
	struct inaddr a;

	inaddr_from_attr(addr_attr, &a);
	print_str(key, NULL, inaddr_ntop(&a, addr));
	print_u64(port_key, NULL, port);
	print_text(" %-21s", inaddr_port_ntop(&a, port, both));
}

static int conn_print(const struct nlattr *const *tb, void *arg)
{
	const struct nlattr *c[ARRAY_SIZE(conn_policy)];
	bool *header_done = arg;
	const char *name = NULL;
	char label[16];

	if (!tb[TSOR_ATTR_CONN] ||
	    !NL_PARSE_NEST(tb[TSOR_ATTR_CONN], conn_policy, c) ||
	    !c[TSOR_CONN_ATTR_SADDR] || !c[TSOR_CONN_ATTR_DADDR] ||
	    !c[TSOR_CONN_ATTR_SPORT] || !c[TSOR_CONN_ATTR_DPORT])
		return -EBADMSG;

	if (!*header_done) {
		print_text(CONN_HEADER_FMT, "Netns", "Local Address:Port",
			   "Peer Address:Port", "Path", "Fallback",
			   "Tx-Bytes", "Rx-Bytes", "Credits");
		*header_done = true;
	}

	print_obj_open(NULL);
	/* The netns column: its name, else its inode number. */
	snprintf(label, sizeof(label), "-");
	if (c[TSOR_CONN_ATTR_NETNS_INUM]) {
		uint32_t inum = mnl_attr_get_u32(c[TSOR_CONN_ATTR_NETNS_INUM]);

		name = netns_name(inum);
		snprintf(label, sizeof(label), "%u", inum);
	}
	print_str("netns", NULL, name);
	print_attr_uint("inum", NULL, c[TSOR_CONN_ATTR_NETNS_INUM]);
	print_text("%-12s", name ? name : label);

	conn_print_end("local", "local_port", c[TSOR_CONN_ATTR_SADDR],
		       c[TSOR_CONN_ATTR_SPORT]);
	conn_print_end("peer", "peer_port", c[TSOR_CONN_ATTR_DADDR],
		       c[TSOR_CONN_ATTR_DPORT]);
	print_str("path", " %-4s", c[TSOR_CONN_ATTR_PATH] ?
		  path_name(mnl_attr_get_u8(c[TSOR_CONN_ATTR_PATH])) : NULL);
	print_str("fallback", " %-13s", c[TSOR_CONN_ATTR_FALLBACK] ?
		  fallback_name(mnl_attr_get_u8(c[TSOR_CONN_ATTR_FALLBACK])) :
		  NULL);
	print_attr_uint("tx_bytes", " %12s", c[TSOR_CONN_ATTR_TX_BYTES]);
	print_attr_uint("rx_bytes", " %12s", c[TSOR_CONN_ATTR_RX_BYTES]);
	print_attr_uint("credits", " %10s", c[TSOR_CONN_ATTR_CREDITS]);
	print_text("\n");
	print_obj_close();
	return 0;
}

static int conn_show(int argc, char **argv)
{
	struct netns_sel sel = { .fd = -1 };
	bool header_done = false;
	struct request req = {
		.what = "conn show",
		.cmd = TSOR_CMD_CONN_GET,
		.flags = REQ_DUMP | REQ_LIST,
		.print = conn_print,
		.print_arg = &header_done,
	};
	int rc;

	if (!argc)
		return run_request(&req);
	if (strcmp(argv[0], "netns") && strcmp(argv[0], "pid"))
		return usage_error("conn show: unknown argument \"%s\" (want netns NS or pid PID)",
				   argv[0]);
	/* "pid PID" is the selector itself; "netns" precedes one. */
	if (argv[0][0] == 'n') {
		argc--;
		argv++;
	}
	rc = netns_sel_parse(req.what, argc, argv, &sel);
	if (rc)
		return rc;
	req.fill = netns_sel_put;
	req.fill_arg = &sel;
	rc = run_request(&req);
	netns_sel_close(&sel);
	return rc;
}

static const struct command conn_cmds[] = {
	{ "show",	conn_show },
};

const struct object conn_object = {
	.name = "conn",
	.usage =
	"conn show [netns [NS] | pid PID]\n"
	"\n"
	"Every taken-over connection of the enabled namespaces (only the\n"
	"caller's own without CAP_NET_ADMIN), or of the one namespace given:\n"
	"its namespace, local and peer address, the path carrying its bytes (tcp, rdma or shm), why it fell back to\n"
	"TCP if it did, bytes sent and received, and the credits the peer\n"
	"still grants.\n",
	.cmds = conn_cmds,
	.n_cmds = ARRAY_SIZE(conn_cmds),
	.run = conn_show,
};
