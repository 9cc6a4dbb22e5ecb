// SPDX-License-Identifier: GPL-2.0
/*
 * tsor_rogue: a node that speaks tsor's RDMA link protocol by hand, to test
 * that tsor refuses what it must (selftests/tests/45-rogue.sh).  It dials
 * a node's rdma_cm listener as a peer node would (the hello of link.h in
 * the private data) and runs its commands in order, printing one line of
 * "key=value" words for each, for the test to assert on:
 *
 *   req SADDR SPORT DADDR DPORT SND RCV
 *       a hand-made PAIR_REQ for that 4-tuple (SADDR:SPORT the client, as
 *       the server sees it) with SND/RCV as the proof; prints the answer:
 *       "req reason=NAME"
 *   pair NETNS DADDR DPORT
 *       a real pairing: opens a plain TCP connection from the network
 *       namespace file NETNS (one tsor is off in) to DADDR:DPORT, reads its
 *       sequence numbers (TCP_REPAIR), asks with them as a real client's
 *       node would, and CONFIRMs an accepting answer: "pair reason=NAME"
 *   write TEXT
 *       TEXT into the paired server's ring by RDMA WRITE_WITH_IMM on this
 *       link, after what was written before: "write status=WC-STATUS"
 *   xwrite TEXT
 *       the same bytes, rkey and address, but on a second link of its own
 *       (dialled for it, closed after): "xwrite status=WC-STATUS"
 *   badkey TEXT
 *       a WRITE on this link to the paired ring's address with a wrong
 *       rkey (the right one with its low byte changed, a guess):
 *       "badkey status=WC-STATUS"
 *   fin
 *       ends the stream (FIN message with its cursor, then CLOSE) and waits
 *       for the server's CLOSE: "fin closed=yes|no"
 *
 * usage: tsor_rogue [-p PORT] [-r SIZE] [-t SECONDS] SRC NODE COMMAND...
 * -r SIZE: the ring size PAIR_REQ claims (default 65536, the real one)
 * SRC: the address this node dials from (it must be on an RDMA device);
 * NODE: the node whose listener it dials.  Exit 0 once every command ran
 * (whatever tsor answered), 1 on a local failure, 2 on usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <linux/tsor.h>
#include "common.h"

/* The wire format of kmod/link.h, with the same natural layout. */
#define LINK_MAGIC	0x74736f72
#define LINK_VERSION	1
#define MSG_SIZE	128
#define IMM_CHAN_MASK	0x00ffffffU

enum {
	LM_PAIR_REQ = 1,
	LM_PAIR_ANS,
	LM_CONFIRM,
	LM_CANCEL,
	LM_CREDIT,
	LM_FIN,
	LM_CLOSE,
};
#define LMF_FIN_AT	0x02

struct hello {
	uint32_t magic;
	uint8_t version;
	uint8_t pad[3];
};

struct msg_hdr {
	uint8_t type;
	uint8_t flags;
	uint16_t rsvd;
	uint32_t chan;
};

struct wire_addr {
	uint8_t family;
	uint8_t pad[3];
	uint8_t raw[16];
};

struct wire_ring {
	uint64_t addr;
	uint32_t rkey;
	uint32_t size;
};

struct msg_pair_req {
	struct msg_hdr hdr;
	uint32_t cchan;
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint16_t sport;
	uint16_t dport;
	struct wire_addr saddr;
	struct wire_addr daddr;
	struct wire_ring ring;
};

struct msg_pair_ans {
	struct msg_hdr hdr;
	uint32_t schan;
	uint32_t y;
	uint8_t reason;
	uint8_t fin;
	uint16_t pad;
	struct wire_ring ring;
};

struct msg_fin {
	struct msg_hdr hdr;
	uint32_t prod;
};

union msg {
	struct msg_hdr hdr;
	struct msg_pair_req req;
	struct msg_pair_ans ans;
	struct msg_fin fin;
	uint8_t raw[MSG_SIZE];
};

_Static_assert(offsetof(struct msg_pair_req, ring) == 64, "PAIR_REQ layout");
_Static_assert(offsetof(struct msg_pair_ans, ring) == 24, "PAIR_ANS layout");

#define NRX		32
#define RING_SIZE	65536	/* our own ring, which nobody writes here */
#define BUF_SIZE	4096	/* what we send from */

struct link {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	union msg rx[NRX];
	struct ibv_mr *rx_mr;
	uint8_t *buf;			/* messages and data we send */
	struct ibv_mr *buf_mr;
	uint8_t *ring;			/* the ring we advertise */
	struct ibv_mr *ring_mr;
};

static int timeout_ms = 30000;
static uint16_t cm_port = 18515;
static uint32_t ask_ring_size = RING_SIZE;	/* what PAIR_REQ says (-r) */
static struct sockaddr_storage src_ss, node_ss;
static uint32_t next_cchan = 1;

/* The paired channel: the server's ring, its id, and our cursor. */
static struct {
	bool open;
	uint32_t cchan, schan;
	uint64_t addr;
	uint32_t rkey, size, off;
	int tcp;			/* the TCP connection it pairs */
} pc = { .tcp = -1 };

static const char *reason_name(unsigned int r)
{
	static const char *const names[] = {
		[TSOR_FALLBACK_NONE] = "none",
		[TSOR_FALLBACK_PEER_UNKNOWN] = "peer_unknown",
		[TSOR_FALLBACK_PEER_DISABLED] = "peer_disabled",
		[TSOR_FALLBACK_PEER_NO_TSOR] = "peer_no_tsor",
		[TSOR_FALLBACK_NO_DEVICE] = "no_device",
		[TSOR_FALLBACK_REFUSED] = "refused",
		[TSOR_FALLBACK_TIMEOUT] = "timeout",
		[TSOR_FALLBACK_LINK_DOWN] = "link_down",
		[TSOR_FALLBACK_NOMEM] = "nomem",
		[TSOR_FALLBACK_SOCKOPT] = "sockopt",
		[TSOR_FALLBACK_EXCLUDED] = "excluded",
		[TSOR_FALLBACK_LINK_FULL] = "link_full",
		[TSOR_FALLBACK_RESUMED] = "resumed",
	};

	return r < ARRAY_SIZE(names) && names[r] ? names[r] : "unknown";
}

static int cm_wait(struct link *l, enum rdma_cm_event_type want)
{
	struct pollfd p = { .fd = l->ec->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type got;
	int status;

	if (poll(&p, 1, timeout_ms) != 1) {
		fprintf(stderr, "%s: no %s in %d ms\n", progname,
			rdma_event_str(want), timeout_ms);
		return -1;
	}
	if (rdma_get_cm_event(l->ec, &ev))
		return -1;
	got = ev->event;
	status = ev->status;
	rdma_ack_cm_event(ev);
	if (got != want) {
		fprintf(stderr, "%s: %s (status %d) instead of %s\n", progname,
			rdma_event_str(got), status, rdma_event_str(want));
		return -1;
	}
	return 0;
}

static int post_rx(struct link *l, int i)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)&l->rx[i],
		.length = MSG_SIZE,
		.lkey = l->rx_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;

	return ibv_post_recv(l->id->qp, &wr, &bad);
}

static void link_close(struct link *l)
{
	if (l->id && l->id->qp) {
		rdma_disconnect(l->id);
		rdma_destroy_qp(l->id);
	}
	if (l->rx_mr)
		ibv_dereg_mr(l->rx_mr);
	if (l->buf_mr)
		ibv_dereg_mr(l->buf_mr);
	if (l->ring_mr)
		ibv_dereg_mr(l->ring_mr);
	if (l->cq)
		ibv_destroy_cq(l->cq);
	if (l->pd)
		ibv_dealloc_pd(l->pd);
	if (l->id)
		rdma_destroy_id(l->id);
	if (l->ec)
		rdma_destroy_event_channel(l->ec);
	free(l->buf);
	free(l->ring);
	memset(l, 0, sizeof(*l));
}

/* Dials NODE from SRC: a link as tsor's own dialler makes one. */
static int link_open(struct link *l)
{
	struct hello hello = {
		.magic = htobe32(LINK_MAGIC),
		.version = LINK_VERSION,
	};
	struct rdma_conn_param param = {
		.private_data = &hello,
		.private_data_len = sizeof(hello),
		.responder_resources = 1,
		.initiator_depth = 1,
		.retry_count = 7,
		.rnr_retry_count = 7,
	};
	struct ibv_qp_init_attr qa = {
		.cap = {
			.max_send_wr = 16, .max_recv_wr = NRX,
			.max_send_sge = 1, .max_recv_sge = 1,
		},
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
	};
	int i;

	memset(l, 0, sizeof(*l));
	l->ec = rdma_create_event_channel();
	if (!l->ec || rdma_create_id(l->ec, &l->id, NULL, RDMA_PS_TCP))
		goto fail;
	if (rdma_resolve_addr(l->id, (struct sockaddr *)&src_ss,
			      (struct sockaddr *)&node_ss, timeout_ms) ||
	    cm_wait(l, RDMA_CM_EVENT_ADDR_RESOLVED) ||
	    rdma_resolve_route(l->id, timeout_ms) ||
	    cm_wait(l, RDMA_CM_EVENT_ROUTE_RESOLVED))
		goto fail;
	l->pd = ibv_alloc_pd(l->id->verbs);
	l->cq = l->pd ? ibv_create_cq(l->id->verbs, 64, NULL, NULL, 0) : NULL;
	if (!l->cq)
		goto fail;
	qa.send_cq = l->cq;
	qa.recv_cq = l->cq;
	if (rdma_create_qp(l->id, l->pd, &qa))
		goto fail;
	l->buf = calloc(1, BUF_SIZE);
	l->ring = aligned_alloc(4096, RING_SIZE);
	if (!l->buf || !l->ring)
		goto fail;
	l->rx_mr = ibv_reg_mr(l->pd, l->rx, sizeof(l->rx),
			      IBV_ACCESS_LOCAL_WRITE);
	l->buf_mr = ibv_reg_mr(l->pd, l->buf, BUF_SIZE, IBV_ACCESS_LOCAL_WRITE);
	l->ring_mr = ibv_reg_mr(l->pd, l->ring, RING_SIZE,
				IBV_ACCESS_LOCAL_WRITE |
				IBV_ACCESS_REMOTE_WRITE);
	if (!l->rx_mr || !l->buf_mr || !l->ring_mr)
		goto fail;
	for (i = 0; i < NRX; i++)
		if (post_rx(l, i))
			goto fail;
	if (rdma_connect(l->id, &param) ||
	    cm_wait(l, RDMA_CM_EVENT_ESTABLISHED))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "%s: cannot dial the node: %s\n", progname,
		strerror(errno));
	link_close(l);
	return -1;
}

/* Messages that came while we waited for something else. */
#define NPEND	64
static union msg pend[NPEND];
static int npend;

typedef bool (*msg_fn)(const union msg *m, void *arg);

/* A pending message @on_msg takes, removed from the queue. */
static bool take_pending(msg_fn on_msg, void *arg)
{
	int i;

	for (i = 0; i < npend; i++) {
		if (!on_msg(&pend[i], arg))
			continue;
		memmove(&pend[i], &pend[i + 1], (npend - i - 1) * sizeof(pend[0]));
		npend--;
		return true;
	}
	return false;
}

/*
 * Polls until the send posted with @wr_id completes (returns its status),
 * or, with @on_msg, until a message it takes comes (returns 0); -1 after
 * the timeout.  Other messages are kept for later.
 */
static int poll_cq(struct link *l, uint64_t wr_id, msg_fn on_msg, void *arg)
{
	int64_t end = now_ms() + timeout_ms;
	struct ibv_wc wc;
	int n;

	if (on_msg && take_pending(on_msg, arg))
		return 0;
	while (now_ms() < end) {
		n = ibv_poll_cq(l->cq, 1, &wc);
		if (n < 0)
			return -1;
		if (!n) {
			usleep(1000);
			continue;
		}
		if (wc.opcode & IBV_WC_RECV) {
			int i = (int)wc.wr_id;
			union msg m;

			/* Writes into our ring are not messages. */
			if (wc.status != IBV_WC_SUCCESS ||
			    wc.opcode != IBV_WC_RECV)
				continue;
			memcpy(&m, &l->rx[i], sizeof(m));
			post_rx(l, i);
			if (on_msg && on_msg(&m, arg))
				return 0;
			if (npend < NPEND)
				pend[npend++] = m;
			continue;
		}
		if (!on_msg && wc.wr_id == wr_id)
			return wc.status;
	}
	return -1;
}

/* Posts one send WR from l->buf; returns its completion's status. */
static int post_wait(struct link *l, enum ibv_wr_opcode op, uint32_t len,
		     uint32_t imm, uint64_t raddr, uint32_t rkey)
{
	static uint64_t next_id = 1ULL << 32;
	struct ibv_sge sge = {
		.addr = (uintptr_t)l->buf, .length = len, .lkey = l->buf_mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = next_id++, .sg_list = &sge, .num_sge = 1,
		.opcode = op, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	if (op != IBV_WR_SEND) {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	if (op == IBV_WR_RDMA_WRITE_WITH_IMM)
		wr.imm_data = htobe32(imm);
	if (ibv_post_send(l->id->qp, &wr, &bad))
		return -1;
	return poll_cq(l, wr.wr_id, NULL, NULL);
}

static int send_msg(struct link *l, const union msg *m)
{
	memcpy(l->buf, m, MSG_SIZE);
	return post_wait(l, IBV_WR_SEND, MSG_SIZE, 0, 0, 0);
}

struct ans_wait {
	uint32_t cchan;
	struct msg_pair_ans ans;
};

static bool got_ans(const union msg *m, void *arg)
{
	struct ans_wait *w = arg;

	if (m->hdr.type != LM_PAIR_ANS || be32toh(m->hdr.chan) != w->cchan)
		return false;
	w->ans = m->ans;
	return true;
}

static bool got_close(const union msg *m, void *arg)
{
	return m->hdr.type == LM_CLOSE &&
	       be32toh(m->hdr.chan) == *(uint32_t *)arg;
}

static int wire_addr(const char *s, struct wire_addr *w)
{
	memset(w, 0, sizeof(*w));
	if (inet_pton(AF_INET, s, w->raw) == 1) {
		w->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, w->raw) == 1) {
		w->family = AF_INET6;
		return 0;
	}
	return -1;
}

static void wire_addr_sa(struct wire_addr *w, const struct sockaddr_storage *ss,
			 uint16_t *port)
{
	memset(w, 0, sizeof(*w));
	w->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		memcpy(w->raw, &sin->sin_addr, 4);
		*port = sin->sin_port;
	} else {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		memcpy(w->raw, &sin6->sin6_addr, 16);
		*port = sin6->sin6_port;
	}
}

/* Sends @req (its proof and 4-tuple filled in) and waits for the answer. */
static int ask(struct link *l, union msg *req, struct msg_pair_ans *ans)
{
	struct ans_wait w = { .cchan = next_cchan++ };

	req->req.hdr.type = LM_PAIR_REQ;
	req->req.cchan = htobe32(w.cchan);
	req->req.ring.addr = htobe64((uintptr_t)l->ring);
	req->req.ring.rkey = htobe32(l->ring_mr->rkey);
	req->req.ring.size = htobe32(ask_ring_size);
	if (send_msg(l, req) != IBV_WC_SUCCESS)
		return -1;
	if (poll_cq(l, 0, got_ans, &w)) {
		fprintf(stderr, "%s: no PAIR_ANS in %d ms\n", progname,
			timeout_ms);
		return -1;
	}
	*ans = w.ans;
	return (int)w.cchan;
}

static int cmd_req(struct link *l, char **a)
{
	struct msg_pair_ans ans;
	union msg m = {};
	uint64_t sport, dport, snd, rcv;

	if (wire_addr(a[0], &m.req.saddr) || wire_addr(a[2], &m.req.daddr) ||
	    parse_u64(a[1], &sport) || sport > 65535 ||
	    parse_u64(a[3], &dport) || dport > 65535 ||
	    parse_u64(a[4], &snd) || snd > UINT32_MAX ||
	    parse_u64(a[5], &rcv) || rcv > UINT32_MAX)
		usage_error("req SADDR SPORT DADDR DPORT SND RCV: bad '%s %s %s %s %s %s'",
			    a[0], a[1], a[2], a[3], a[4], a[5]);
	m.req.sport = htons(sport);
	m.req.dport = htons(dport);
	m.req.snd_nxt = htobe32(snd);
	m.req.rcv_nxt = htobe32(rcv);
	if (ask(l, &m, &ans) < 0)
		return -1;
	printf("req reason=%s\n", reason_name(ans.reason));
	return 0;
}

/* A plain TCP connection from the namespace file @ns, and its proof. */
static int tcp_from(const char *ns, const char *addr, uint16_t port,
		    union msg *m)
{
	struct sockaddr_storage dst, me;
	socklen_t len = sizeof(me);
	int self, nsfd, fd = -1, one = 1, zero = 0, q;
	uint32_t snd, rcv;
	socklen_t sl = sizeof(snd);

	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	nsfd = open(ns, O_RDONLY | O_CLOEXEC);
	if (self < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET))
		goto fail;
	if (parse_sockaddr(strchr(addr, ':') ? AF_INET6 : AF_INET, addr, port,
			   &dst, &len) == 0)
		fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (setns(self, CLONE_NEWNET))
		fatal(EXIT_FAIL, "cannot go back to our namespace");
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, len))
		goto fail;
	len = sizeof(me);
	if (getsockname(fd, (struct sockaddr *)&me, &len))
		goto fail;
	/* What the connection's real client knows: its sequence numbers. */
	q = TCP_SEND_QUEUE;
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(fd, SOL_TCP, TCP_QUEUE_SEQ, &snd, &sl))
		goto fail;
	q = TCP_RECV_QUEUE;
	sl = sizeof(rcv);
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)) ||
	    getsockopt(fd, SOL_TCP, TCP_QUEUE_SEQ, &rcv, &sl) ||
	    setsockopt(fd, SOL_TCP, TCP_REPAIR, &zero, sizeof(zero)))
		goto fail;
	wire_addr_sa(&m->req.saddr, &me, &m->req.sport);
	wire_addr_sa(&m->req.daddr, &dst, &m->req.dport);
	m->req.snd_nxt = htobe32(snd);
	m->req.rcv_nxt = htobe32(rcv);
	close(self);
	close(nsfd);
	return fd;
fail:
	fprintf(stderr, "%s: TCP from %s to %s port %u: %s\n", progname, ns,
		addr, port, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (self >= 0)
		close(self);
	if (nsfd >= 0)
		close(nsfd);
	return -1;
}

static int cmd_pair(struct link *l, char **a)
{
	struct msg_pair_ans ans;
	union msg m = {};
	uint64_t port;
	int cchan;

	if (parse_u64(a[2], &port) || port > 65535)
		usage_error("pair NETNS DADDR DPORT: bad port '%s'", a[2]);
	pc.tcp = tcp_from(a[0], a[1], port, &m);
	if (pc.tcp < 0)
		return -1;
	cchan = ask(l, &m, &ans);
	if (cchan < 0)
		return -1;
	printf("pair reason=%s\n", reason_name(ans.reason));
	if (ans.reason != TSOR_FALLBACK_NONE)
		return 0;
	pc.cchan = cchan;
	pc.schan = be32toh(ans.schan) & IMM_CHAN_MASK;
	pc.addr = be64toh(ans.ring.addr);
	pc.rkey = be32toh(ans.ring.rkey);
	pc.size = be32toh(ans.ring.size);
	pc.off = 0;
	memset(&m, 0, sizeof(m));
	m.hdr.type = LM_CONFIRM;
	m.hdr.chan = htobe32(pc.schan);
	if (send_msg(l, &m) != IBV_WC_SUCCESS)
		return -1;
	pc.open = true;
	return 0;
}

static const char *wc_status(int st)
{
	return st < 0 ? "none" : ibv_wc_status_str(st);
}

/* @text into the paired ring at our cursor; how depends on @cmd. */
static int cmd_write(struct link *l, const char *cmd, const char *text)
{
	uint32_t len = strlen(text), rkey = pc.rkey;
	struct link x;
	int st;

	if (!pc.open)
		fatal(EXIT_FAIL, "%s: no paired channel", cmd);
	if (!len || len > BUF_SIZE || pc.off + len > pc.size)
		usage_error("%s: text of 1..%d bytes that fit the ring", cmd,
			    BUF_SIZE);
	if (!strcmp(cmd, "xwrite")) {
		/* Another link: the rkey was handed out on the first. */
		if (link_open(&x))
			return -1;
		memcpy(x.buf, text, len);
		st = post_wait(&x, IBV_WR_RDMA_WRITE, len, 0,
			       pc.addr + pc.off, rkey);
		link_close(&x);
	} else if (!strcmp(cmd, "badkey")) {
		/* The right key's index with another key byte: a guess. */
		rkey ^= 0x5a;
		memcpy(l->buf, text, len);
		st = post_wait(l, IBV_WR_RDMA_WRITE, len, 0, pc.addr + pc.off,
			       rkey);
	} else {
		memcpy(l->buf, text, len);
		st = post_wait(l, IBV_WR_RDMA_WRITE_WITH_IMM, len,
			       pc.schan,
			       pc.addr + pc.off, rkey);
		if (st == IBV_WC_SUCCESS)
			pc.off += len;
	}
	printf("%s status=%s\n", cmd, wc_status(st));
	return 0;
}

static int cmd_fin(struct link *l)
{
	union msg m = {};
	uint32_t cchan = pc.cchan;
	bool closed;

	if (!pc.open)
		fatal(EXIT_FAIL, "fin: no paired channel");
	m.hdr.type = LM_FIN;
	m.hdr.flags = LMF_FIN_AT;
	m.hdr.chan = htobe32(pc.schan);
	m.fin.prod = htobe32(pc.off);
	if (send_msg(l, &m) != IBV_WC_SUCCESS)
		return -1;
	memset(&m, 0, sizeof(m));
	m.hdr.type = LM_CLOSE;
	m.hdr.chan = htobe32(pc.schan);
	if (send_msg(l, &m) != IBV_WC_SUCCESS)
		return -1;
	/* The server reads the end of stream, closes, and says so. */
	closed = !poll_cq(l, 0, got_close, &cchan);
	printf("fin closed=%s\n", closed ? "yes" : "no");
	return 0;
}

static void usage(void)
{
	printf("usage: %s [-p PORT] [-r SIZE] [-t SECONDS] SRC NODE COMMAND...\n"
	       "commands: req SADDR SPORT DADDR DPORT SND RCV | pair NETNS DADDR DPORT |\n"
	       "          write TEXT | xwrite TEXT | badkey TEXT | fin\n",
	       progname);
}

int main(int argc, char **argv)
{
	struct link l;
	socklen_t len;
	uint64_t v;
	int opt, i, need;

	set_progname(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "p:r:t:h")) != -1) {
		switch (opt) {
		case 'r':
			if (parse_u64(optarg, &v) || v > UINT32_MAX)
				usage_error("bad ring size '%s'", optarg);
			ask_ring_size = v;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || !v || v > 65535)
				usage_error("bad port '%s'", optarg);
			cm_port = v;
			break;
		case 't':
			if (parse_timeout_ms(optarg, &timeout_ms))
				usage_error("bad timeout '%s'", optarg);
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			usage_error("unknown option");
		}
	}
	if (argc - optind < 3)
		usage_error("SRC NODE and a command are needed");
	len = sizeof(src_ss);
	if (parse_sockaddr(strchr(argv[optind], ':') ? AF_INET6 : AF_INET,
			   argv[optind], 0, &src_ss, &len))
		usage_error("bad SRC '%s'", argv[optind]);
	len = sizeof(node_ss);
	if (parse_sockaddr(strchr(argv[optind + 1], ':') ? AF_INET6 : AF_INET,
			   argv[optind + 1], cm_port, &node_ss, &len))
		usage_error("bad NODE '%s'", argv[optind + 1]);
	/* Every command is checked before the first runs. */
	for (i = optind + 2; i < argc; i += need + 1) {
		const char *c = argv[i];

		if (!strcmp(c, "req"))
			need = 6;
		else if (!strcmp(c, "pair"))
			need = 3;
		else if (!strcmp(c, "write") || !strcmp(c, "xwrite") ||
			 !strcmp(c, "badkey"))
			need = 1;
		else if (!strcmp(c, "fin"))
			need = 0;
		else
			usage_error("unknown command '%s'", c);
		if (i + need >= argc)
			usage_error("%s: %d argument(s) needed", c, need);
	}
	if (link_open(&l))
		return EXIT_FAIL;
	for (i = optind + 2; i < argc; i++) {
		const char *c = argv[i];
		int err = 0;

		if (!strcmp(c, "req")) {
			err = cmd_req(&l, &argv[i + 1]);
			i += 6;
		} else if (!strcmp(c, "pair")) {
			err = cmd_pair(&l, &argv[i + 1]);
			i += 3;
		} else if (!strcmp(c, "fin")) {
			err = cmd_fin(&l);
		} else {
			err = cmd_write(&l, c, argv[i + 1]);
			i += 1;
		}
		if (err) {
			link_close(&l);
			return EXIT_FAIL;
		}
	}
	if (pc.tcp >= 0)
		close(pc.tcp);
	link_close(&l);
	return EXIT_OK;
}
