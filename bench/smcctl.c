// SPDX-License-Identifier: GPL-2.0
/*
 * smcctl: the two things of smc-tools the benchmark needs (Debian has no
 * smc-tools), in the caller's network namespace.
 *
 *   smcctl pnet add PNETID [eth NETDEV] [ib IBDEV [PORT]]
 *   smcctl pnet flush
 *   smcctl ueid add UEID
 *   smcctl stats
 *
 * pnet add: an entry of the SMC pnet table, as smc_pnet -a does.  SMC-R
 * uses an RDMA device for a connection only when the netdev of its TCP
 * handshake and the device's port carry the same pnetid; pods' veths have
 * no hardware pnetid, so the benchmark gives them one.  An entry that
 * exists already counts as success.
 *
 * ueid add: a user-defined EID, as smcr ueid add does.  SMC-Rv2, the only
 * SMC-R Soft-RoCE can do (its GIDs are all RoCEv2), is proposed only when
 * the system has one.  Node-wide.
 *
 * stats: SMC's counters, as smcd stats does, as one JSON object: the SMC-R
 * connections that succeeded (client and server), the bytes SMC-R moved,
 * handshake errors, and each fallback-to-TCP reason ("srv" or "clnt", then
 * the CLC decline code) with its count.  So the benchmark can prove that
 * RDMA, not TCP, carried a cell.
 *
 * Exits 0 on success, 1 when the kernel refused, 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/smc.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void usage(void)
{
	fprintf(stderr,
		"usage: smcctl pnet add PNETID [eth NETDEV] [ib IBDEV [PORT]]\n"
		"       smcctl pnet flush\n"
		"       smcctl ueid add UEID\n"
		"       smcctl stats\n");
	exit(2);
}

/* What smcctl stats gathers from the two dumps. */
struct smc_counts {
	uint64_t clnt_succ, srv_succ, tx_bytes, rx_bytes;
	uint64_t clnt_hs_err, srv_hs_err;
	int nfb;
	struct {
		int srv;
		uint32_t code;
		uint16_t count;
	} fb[64];
};

static const struct nlattr *nested(const struct nlattr *nest, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest)
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

static uint64_t nested_u64(const struct nlattr *nest, uint16_t type)
{
	const struct nlattr *a = nest ? nested(nest, type) : NULL;

	return a && mnl_attr_get_payload_len(a) == 8 ? mnl_attr_get_u64(a) : 0;
}

static int stats_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct smc_counts *c = data;
	const struct nlattr *top, *r;

	mnl_attr_for_each(top, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(top) != SMC_GEN_STATS)
			continue;
		r = nested(top, SMC_NLA_STATS_SMCR_TECH);
		c->clnt_succ += nested_u64(r, SMC_NLA_STATS_T_CLNT_V1_SUCC) +
				nested_u64(r, SMC_NLA_STATS_T_CLNT_V2_SUCC);
		c->srv_succ += nested_u64(r, SMC_NLA_STATS_T_SRV_V1_SUCC) +
			       nested_u64(r, SMC_NLA_STATS_T_SRV_V2_SUCC);
		c->tx_bytes += nested_u64(r, SMC_NLA_STATS_T_TX_BYTES);
		c->rx_bytes += nested_u64(r, SMC_NLA_STATS_T_RX_BYTES);
		c->clnt_hs_err += nested_u64(top, SMC_NLA_STATS_CLNT_HS_ERR_CNT);
		c->srv_hs_err += nested_u64(top, SMC_NLA_STATS_SRV_HS_ERR_CNT);
	}
	return MNL_CB_OK;
}

static int fback_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct smc_counts *c = data;
	const struct nlattr *top, *a;

	mnl_attr_for_each(top, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(top) != SMC_GEN_FBACK_STATS ||
		    c->nfb >= (int)ARRAY_SIZE(c->fb))
			continue;
		a = nested(top, SMC_NLA_FBACK_STATS_RSN_CODE);
		if (!a)
			continue;
		c->fb[c->nfb].code = mnl_attr_get_u32(a);
		a = nested(top, SMC_NLA_FBACK_STATS_RSN_CNT);
		c->fb[c->nfb].count = a ? mnl_attr_get_u16(a) : 0;
		a = nested(top, SMC_NLA_FBACK_STATS_TYPE);
		c->fb[c->nfb].srv = a ? mnl_attr_get_u8(a) : 0;
		if (c->fb[c->nfb].count)
			c->nfb++;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlattr *attr, void *data)
{
	uint16_t *id = data;

	if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
		*id = mnl_attr_get_u16(attr);
	return MNL_CB_OK;
}

static int family_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_cb, data);
	return MNL_CB_OK;
}

/* Sends @nlh and reads the answer; @cb sees the data messages.  0 or -errno. */
static int transact(struct mnl_socket *sk, struct nlmsghdr *nlh,
		    mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(sk);
	unsigned int seq = nlh->nlmsg_seq;
	ssize_t n;
	int rc;

	if (mnl_socket_sendto(sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(sk, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		rc = mnl_cb_run(buf, n, seq, portid, cb, data);
	} while (rc > 0);
	return rc < 0 ? -errno : 0;
}

static struct nlmsghdr *genl_start(char *buf, uint16_t type, uint8_t cmd,
				   uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *genl;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = (unsigned int)time(NULL);
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = 1;
	return nlh;
}

static void print_counts(const struct smc_counts *c)
{
	int i;

	printf("{\"smcr_clnt_succ\":%llu,\"smcr_srv_succ\":%llu,"
	       "\"smcr_tx_bytes\":%llu,\"smcr_rx_bytes\":%llu,"
	       "\"clnt_hs_err\":%llu,\"srv_hs_err\":%llu,\"fallbacks\":{",
	       (unsigned long long)c->clnt_succ,
	       (unsigned long long)c->srv_succ,
	       (unsigned long long)c->tx_bytes,
	       (unsigned long long)c->rx_bytes,
	       (unsigned long long)c->clnt_hs_err,
	       (unsigned long long)c->srv_hs_err);
	for (i = 0; i < c->nfb; i++)
		printf("%s\"%s:0x%08x\":%u", i ? "," : "",
		       c->fb[i].srv ? "srv" : "clnt", c->fb[i].code,
		       c->fb[i].count);
	printf("}}\n");
}

int main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *sk;
	struct nlmsghdr *nlh;
	const char *fam_name;
	uint16_t family = 0;
	int i, rc;

	struct smc_counts counts = { 0 };

	if (argc < 2)
		usage();
	fam_name = strcmp(argv[1], "pnet") ? SMC_GENL_FAMILY_NAME :
					    SMCR_GENL_FAMILY_NAME;
	if (!strcmp(argv[1], "pnet")) {
		argv++;
		argc--;
		if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "flush")))
			usage();
		if (!strcmp(argv[1], "add") && argc < 5)
			usage();
	} else if (!strcmp(argv[1], "ueid")) {
		if (argc != 4 || strcmp(argv[2], "add") ||
		    strlen(argv[3]) > SMC_MAX_EID_LEN)
			usage();
	} else if (strcmp(argv[1], "stats") || argc != 2) {
		usage();
	}

	sk = mnl_socket_open(NETLINK_GENERIC);
	if (!sk || mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("smcctl: netlink");
		return 1;
	}
	nlh = genl_start(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, fam_name);
	rc = transact(sk, nlh, family_msg_cb, &family);
	if (rc < 0 || !family) {
		fprintf(stderr, "smcctl: no %s family (is smc loaded?): %s\n",
			fam_name, strerror(-rc));
		return 1;
	}

	if (!strcmp(argv[1], "stats")) {
		nlh = genl_start(buf, family, SMC_NETLINK_GET_STATS, NLM_F_DUMP);
		rc = transact(sk, nlh, stats_msg_cb, &counts);
		if (!rc) {
			nlh = genl_start(buf, family, SMC_NETLINK_GET_FBACK_STATS,
					 NLM_F_DUMP);
			rc = transact(sk, nlh, fback_msg_cb, &counts);
		}
		mnl_socket_close(sk);
		if (rc < 0) {
			fprintf(stderr, "smcctl: stats: %s\n", strerror(-rc));
			return 1;
		}
		print_counts(&counts);
		return 0;
	}
	if (!strcmp(argv[1], "ueid")) {
		/* 32 characters, blank-padded, and the NUL. */
		char eid[SMC_MAX_EID_LEN + 1];

		memset(eid, ' ', SMC_MAX_EID_LEN);
		memcpy(eid, argv[3], strlen(argv[3]));
		eid[SMC_MAX_EID_LEN] = '\0';
		nlh = genl_start(buf, family, SMC_NETLINK_ADD_UEID, 0);
		mnl_attr_put(nlh, SMC_NLA_EID_TABLE_ENTRY, sizeof(eid), eid);
	} else if (!strcmp(argv[1], "flush")) {
		nlh = genl_start(buf, family, SMC_PNETID_FLUSH, 0);
	} else {
		nlh = genl_start(buf, family, SMC_PNETID_ADD, 0);
		mnl_attr_put_strz(nlh, SMC_PNETID_NAME, argv[2]);
		for (i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "eth") && i + 1 < argc) {
				mnl_attr_put_strz(nlh, SMC_PNETID_ETHNAME,
						  argv[++i]);
			} else if (!strcmp(argv[i], "ib") && i + 1 < argc) {
				mnl_attr_put_strz(nlh, SMC_PNETID_IBNAME,
						  argv[++i]);
				if (i + 1 < argc && argv[i + 1][0] >= '0' &&
				    argv[i + 1][0] <= '9')
					mnl_attr_put_u8(nlh, SMC_PNETID_IBPORT,
							(uint8_t)atoi(argv[++i]));
			} else {
				usage();
			}
		}
	}
	rc = transact(sk, nlh, NULL, NULL);
	mnl_socket_close(sk);
	if (rc == -EEXIST)
		rc = 0;
	if (rc < 0) {
		fprintf(stderr, "smcctl: pnet %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	return 0;
}
