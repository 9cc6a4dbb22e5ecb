// SPDX-License-Identifier: GPL-2.0
/*
 * smc_pnet: add an entry to the SMC pnet table of the caller's network
 * namespace, as smc-tools' smc_pnet -a does (Debian has no smc-tools).
 *
 *   smc_pnet add PNETID [eth NETDEV] [ib IBDEV [PORT]]
 *   smc_pnet flush
 *
 * SMC-R uses an RDMA device for a connection only when the netdev the TCP
 * handshake used and the RDMA device's port carry the same pnetid.  Pods'
 * veths have no hardware pnetid, so the benchmark gives them one by hand.
 * Exits 0 on success (an entry that exists already counts as success), 1
 * when the kernel refused, 2 on a usage error.
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

static void usage(void)
{
	fprintf(stderr,
		"usage: smc_pnet add PNETID [eth NETDEV] [ib IBDEV [PORT]]\n"
		"       smc_pnet flush\n");
	exit(2);
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

int main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *sk;
	struct nlmsghdr *nlh;
	uint16_t family = 0;
	int i, rc;

	if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "flush")))
		usage();
	if (!strcmp(argv[1], "add") && argc < 5)
		usage();

	sk = mnl_socket_open(NETLINK_GENERIC);
	if (!sk || mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("smc_pnet: netlink");
		return 1;
	}
	nlh = genl_start(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, SMCR_GENL_FAMILY_NAME);
	rc = transact(sk, nlh, family_msg_cb, &family);
	if (rc < 0 || !family) {
		fprintf(stderr, "smc_pnet: no %s family (is smc loaded?): %s\n",
			SMCR_GENL_FAMILY_NAME, strerror(-rc));
		return 1;
	}

	if (!strcmp(argv[1], "flush")) {
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
		fprintf(stderr, "smc_pnet: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	return 0;
}
