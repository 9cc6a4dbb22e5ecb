/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tsor socket's own state, shared by sock.c (the proto_ops) and pair.c
 * (pairing it with its peer).
 */
#ifndef _TSOR_SOCK_H
#define _TSOR_SOCK_H

#include <net/sock.h>
#include "channel.h"

/* Where a connection is; moves only forward. */
enum tsor_sock_state {
	TSOR_SK_IDLE,		/* TCP, and pairing may still start */
	TSOR_SK_PAIRING,	/* ch is waiting for an answer or CONFIRM */
	TSOR_SK_PAIRED,		/* ch carries the bytes */
	TSOR_SK_TCP,		/* TCP for good; reason says why */
};

/* Bits of tsor_sock.flags */
enum {
	TSOR_SKF_CLIENT,	/* connect() was called */
	TSOR_SKF_STARTED,	/* pairing was started, or judged pointless */
	TSOR_SKF_CONNECTING,	/* a blocking connect() waits: it pairs */
};

struct tsor_sock {
	struct rcu_head rcu;
	struct sock *sk;
	struct list_head node;		/* on tsor_net.socks */
	/* Under the socket lock; read locklessly with READ_ONCE. */
	enum tsor_sock_state state;
	struct tsor_channel *ch;	/* with PAIRING and PAIRED */
	enum tsor_fallback reason;	/* with TCP */
	u32 tcp_rx_end;			/* reads drain TCP up to this seq */
	unsigned long flags;
	atomic_t tcp_busy;		/* TCP sends in progress (server) */
	void (*tcp_state_change)(struct sock *sk);
	void (*tcp_data_ready)(struct sock *sk);	/* once paired */
};

struct tsor_sock *tsor_sk(const struct sock *sk);
struct tsor_sock *tsor_sk_get_or_attach(struct sock *sk);
bool tsor_sk_is_ours(const struct sock *sk);

/*
 * The server states a pairing request is served in: a server that already
 * sent its last byte and FIN can still be paired, the client's bytes then
 * travelling over the channel and the FIN with Y.
 */
#define TSOR_PAIR_STATES \
	(TCPF_ESTABLISHED | TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2)

/* pair.c */
void tsor_pair_start(struct sock *sk);
u32 tsor_pair_ring_size(const struct sock *sk);
void tsor_pair_tuple(const struct sock *sk, struct tsor_pair_req *req);

/* nat.c */
void tsor_nat_resolve(struct sock *sk, struct tsor_pair_req *req);

#endif /* _TSOR_SOCK_H */
