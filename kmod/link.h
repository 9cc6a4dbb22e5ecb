/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The RDMA link: its wire format, and what dev.c (devices, protection
 * domains, the rdma_cm listener) and link.c (links and their channels) ask
 * of each other.  docs/rdma-link.md describes the protocol.
 *
 * Everything on the wire is big-endian and fixed-size, so that both ends of
 * a link agree whatever their CPUs.
 */
#ifndef _TSOR_LINK_H
#define _TSOR_LINK_H

#include <linux/types.h>
#include <rdma/rdma_cm.h>
#include "tsor.h"

/* Carried in the rdma_cm connect request: the dialler runs tsor. */
#define TSOR_LINK_MAGIC		0x74736f72	/* "tsor" */
#define TSOR_LINK_VERSION	1

struct tsor_link_hello {
	__be32 magic;
	u8 version;
	u8 pad[3];
};

/*
 * Immediate data of an RDMA WRITE_WITH_IMM: the receiver's channel id in
 * the low 24 bits, and FIN: the sender's stream ends after these bytes.
 */
#define TSOR_IMM_CHAN_MASK	0x00ffffffU
#define TSOR_IMM_FIN		0x80000000U
#define TSOR_CHAN_MAX		TSOR_IMM_CHAN_MASK

/* Control messages: SENDs into the peer's pre-posted receive buffers. */
enum tsor_msg_type {
	TSOR_MSG_PAIR_REQ = 1,	/* client -> server */
	TSOR_MSG_PAIR_ANS,	/* server -> client */
	TSOR_MSG_CONFIRM,	/* client -> server, after an accepting answer */
	TSOR_MSG_CANCEL,	/* client -> server, instead of CONFIRM */
	TSOR_MSG_CREDIT,	/* the receiver read up to cons */
	TSOR_MSG_FIN,		/* end of stream, when no data carries it */
	TSOR_MSG_CLOSE,		/* the sender will not touch the rings again */
	TSOR_MSG_NOP,		/* nothing: probes an idle link (ignored) */
};

/* Bits of tsor_msg_hdr.flags */
#define TSOR_MSGF_ABORT		0x01	/* CLOSE: the peer sees a reset */
#define TSOR_MSGF_FIN_AT	0x02	/* FIN: prod says where the stream ends */

struct tsor_msg_hdr {
	u8 type;
	u8 flags;
	__be16 rsvd;
	__be32 chan;		/* receiver's channel id; 0 in PAIR_REQ */
};

struct tsor_wire_addr {
	u8 family;		/* AF_INET or AF_INET6 */
	u8 pad[3];
	u8 raw[16];
};

/* A ring the peer may write: where, how big, and its rkey. */
struct tsor_wire_ring {
	__be64 addr;
	__be32 rkey;
	__be32 size;
};

struct tsor_msg_pair_req {
	struct tsor_msg_hdr hdr;
	__be32 cchan;		/* the client's channel id */
	__be32 snd_nxt;		/* the proof */
	__be32 rcv_nxt;
	__be16 sport;
	__be16 dport;
	struct tsor_wire_addr saddr;
	struct tsor_wire_addr daddr;
	struct tsor_wire_ring ring;
};

struct tsor_msg_pair_ans {
	struct tsor_msg_hdr hdr;	/* chan: the client's */
	__be32 schan;			/* the server's channel id */
	__be32 y;
	u8 reason;			/* enum tsor_fallback; NONE: accepted */
	u8 fin;
	__be16 pad;
	struct tsor_wire_ring ring;
};

struct tsor_msg_credit {
	struct tsor_msg_hdr hdr;
	__be32 cons;
};

/*
 * The sender's producer cursor after its last byte: the receiver delivers
 * the FIN only once it has that much, so a FIN never ends a stream short.
 */
struct tsor_msg_fin {
	struct tsor_msg_hdr hdr;
	__be32 prod;
};

#define TSOR_MSG_SIZE	128

union tsor_msg {
	struct tsor_msg_hdr hdr;
	struct tsor_msg_pair_req req;
	struct tsor_msg_pair_ans ans;
	struct tsor_msg_credit credit;
	struct tsor_msg_fin fin;
	u8 raw[TSOR_MSG_SIZE];
};

/* dev.c, for link.c */

/* The protection domain tsor uses on @ibdev, or NULL if it has none. */
struct ib_pd *tsor_dev_pd(struct ib_device *ibdev);
/* Whether any RDMA device tsor can use exists. */
bool tsor_dev_any(void);
/* The address links are dialled from; false: let routing choose. */
bool tsor_dev_src_addr(struct tsor_addr *addr);
void tsor_addr_to_sockaddr(const struct tsor_addr *a, u16 port,
			   struct sockaddr_storage *ss);
bool tsor_addr_from_sockaddr(struct tsor_addr *a, const struct sockaddr *sa);
u16 tsor_dev_port(void);

/* link.c, for dev.c */

/* A connect request reached the listener; non-zero rejects it. */
int tsor_link_cm_request(struct rdma_cm_id *id,
			 const struct rdma_cm_event *event);
/* @ibdev is going away: every link on it is torn down before this returns. */
void tsor_link_dev_removed(struct ib_device *ibdev);
/* A device's GID table changed: links whose source GID went are taken down. */
void tsor_link_gid_changed(void);

#endif /* _TSOR_LINK_H */
