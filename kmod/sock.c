// SPDX-License-Identifier: GPL-2.0
/*
 * tsor sockets: TCP sockets whose struct proto is a clone of TCP's and whose
 * proto_ops are ours.  The clone lets us register a protosw of our own that
 * the creation hook can redirect to; the ops are where the data path plugs
 * in.  Until a connection is paired every op delegates to TCP unchanged.
 *
 * Per-socket state hangs off sk_user_data rather than a larger sock object:
 * TCPv6 finds its ipv6_pinfo at a fixed offset in tcp6_sock, so the clone
 * must keep TCP's object size.  Owning sk_user_data also makes sockmap and
 * reuseport arrays refuse tsor sockets, as they must.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <net/inet_common.h>
#include <net/ipv6.h>
#include <net/protocol.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include "tsor.h"

/* What tsor knows about one of its sockets. */
struct tsor_sock {
	struct rcu_head rcu;
};

/*
 * Copied from TCP's at init, since inet6_stream_ops is only reachable at
 * run time; __ro_after_init makes them read-only once init is done.
 */
static struct proto_ops tsor_inet_ops __ro_after_init;	/* const after init */
static struct proto_ops tsor_inet6_ops __ro_after_init;	/* const after init */

/* One address family's clone of TCP and what it wraps. */
struct tsor_family {
	struct proto prot;
	struct inet_protosw protosw;
	const struct proto_ops *ops;
	const struct proto *tcp_prot;
	const struct proto_ops *tcp_ops;
};

static struct tsor_family tsor_inet;
static struct tsor_family tsor_inet6;

static const struct tsor_family *tsor_family_of_sk(const struct sock *sk)
{
	return sk->sk_prot_creator == &tsor_inet6.prot ? &tsor_inet6 : &tsor_inet;
}

static const struct proto_ops *tcp_ops(const struct socket *sock)
{
	return sock->ops == &tsor_inet6_ops ? tsor_inet6.tcp_ops :
					      tsor_inet.tcp_ops;
}

/*
 * Our pointer is tagged NOCOPY (accepted children must not inherit it) and
 * nothing else; psock and reuseport tag theirs with other bits.
 */
static struct tsor_sock *tsor_sk(const struct sock *sk)
{
	uintptr_t v = (uintptr_t)rcu_access_pointer(__sk_user_data(sk));

	if ((v & ~SK_USER_DATA_PTRMASK) != SK_USER_DATA_NOCOPY)
		return NULL;
	return (struct tsor_sock *)(v & SK_USER_DATA_PTRMASK);
}

static int tsor_sk_attach(struct sock *sk)
{
	struct tsor_sock *ts;
	int err = 0;

	ts = kzalloc(sizeof(*ts), sk->sk_allocation);
	if (!ts)
		return -ENOMEM;

	write_lock_bh(&sk->sk_callback_lock);
	if (rcu_access_pointer(__sk_user_data(sk)))
		err = -EBUSY;
	else
		__rcu_assign_sk_user_data_with_flags(sk, ts,
						     SK_USER_DATA_NOCOPY);
	write_unlock_bh(&sk->sk_callback_lock);

	if (err) {
		kfree(ts);
		return err;
	}
	tsor_stat_inc(tsor_net(sock_net(sk)), TSOR_STAT_SOCK_ACTIVE);
	return 0;
}

static void tsor_sk_detach(struct sock *sk)
{
	struct tsor_sock *ts;

	write_lock_bh(&sk->sk_callback_lock);
	ts = tsor_sk(sk);
	if (ts)
		rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);

	if (!ts)
		return;
	tsor_stat_add(tsor_net(sock_net(sk)), TSOR_STAT_SOCK_ACTIVE, -1);
	kfree_rcu(ts, rcu);
}

/* struct proto hooks */

static int tsor_sk_init(struct sock *sk)
{
	struct tsor_net *tn = tsor_net(sock_net(sk));
	int err;

	/*
	 * TCP's init runs first even when we refuse: inet_create answers an
	 * init error with sk_common_release(), which calls TCP's destroy.
	 */
	err = tsor_family_of_sk(sk)->tcp_prot->init(sk);
	if (err)
		return err;

	/* IP headers carry sk_protocol: it must say TCP, not our number. */
	sk->sk_protocol = IPPROTO_TCP;

	/* Only the hook may create tsor sockets, and only where enabled. */
	if (!tsor_net_enabled(sock_net(sk))) {
		tsor_stat_inc(tn, TSOR_STAT_SOCK_REFUSED);
		return -EPROTONOSUPPORT;
	}

	err = tsor_sk_attach(sk);
	if (err)
		return err;
	tsor_stat_inc(tn, TSOR_STAT_SOCK_CREATED);
	return 0;
}

static void tsor_sk_destroy(struct sock *sk)
{
	tsor_family_of_sk(sk)->tcp_prot->destroy(sk);
	tsor_sk_detach(sk);
}

/*
 * proto_ops.  Each op below is where the data path takes over once a
 * connection is paired; until then it is TCP's op, plus byte accounting.
 */

static int tsor_release(struct socket *sock)
{
	return tcp_ops(sock)->release(sock);
}

static int tsor_connect(struct socket *sock, struct sockaddr *uaddr,
			int addr_len, int flags)
{
	return tcp_ops(sock)->connect(sock, uaddr, addr_len, flags);
}

static int tsor_accept(struct socket *sock, struct socket *newsock, int flags,
		       bool kern)
{
	struct sock *newsk;
	int err;

	err = tcp_ops(sock)->accept(sock, newsock, flags, kern);
	if (err)
		return err;

	/*
	 * The child is a clone of the listener and TCP already set it up;
	 * without our state it simply stays plain TCP under our ops.
	 */
	newsk = newsock->sk;
	if (!tsor_sk_attach(newsk))
		tsor_stat_inc(tsor_net(sock_net(newsk)),
			      TSOR_STAT_SOCK_ACCEPTED);
	return 0;
}

static void tsor_count_tcp(struct socket *sock, enum tsor_stat id, int len)
{
	if (len > 0)
		tsor_stat_add(tsor_net(sock_net(sock->sk)), id, len);
}

static int tsor_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	int ret = tcp_ops(sock)->sendmsg(sock, msg, size);

	tsor_count_tcp(sock, TSOR_STAT_TCP_TX_BYTES, ret);
	return ret;
}

static ssize_t tsor_sendpage(struct socket *sock, struct page *page,
			     int offset, size_t size, int flags)
{
	ssize_t ret = tcp_ops(sock)->sendpage(sock, page, offset, size, flags);

	tsor_count_tcp(sock, TSOR_STAT_TCP_TX_BYTES, ret);
	return ret;
}

static int tsor_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
			int flags)
{
	int ret = tcp_ops(sock)->recvmsg(sock, msg, size, flags);

	if (!(flags & MSG_PEEK))
		tsor_count_tcp(sock, TSOR_STAT_TCP_RX_BYTES, ret);
	return ret;
}

static ssize_t tsor_splice_read(struct socket *sock, loff_t *ppos,
				struct pipe_inode_info *pipe, size_t len,
				unsigned int flags)
{
	ssize_t ret = tcp_ops(sock)->splice_read(sock, ppos, pipe, len, flags);

	tsor_count_tcp(sock, TSOR_STAT_TCP_RX_BYTES, ret);
	return ret;
}

static __poll_t tsor_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	return tcp_ops(sock)->poll(file, sock, wait);
}

static int tsor_shutdown(struct socket *sock, int how)
{
	return tcp_ops(sock)->shutdown(sock, how);
}

static int tsor_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	/*
	 * A ULP would replace sk_prot under us and its bytes would bypass the
	 * data path; refuse it as net/smc does.
	 */
	if (level == SOL_TCP && optname == TCP_ULP)
		return -EOPNOTSUPP;
	return tcp_ops(sock)->setsockopt(sock, level, optname, optval, optlen);
}

/* Registration */

static void tsor_family_setup(struct tsor_family *f, const char *name,
			      const struct proto *tcp_prot,
			      const struct proto_ops *tcp_ops,
			      struct proto_ops *ops)	/* const after init */
{
	f->tcp_prot = tcp_prot;
	f->tcp_ops = tcp_ops;
	f->ops = ops;

	f->prot = *tcp_prot;
	strscpy(f->prot.name, name, sizeof(f->prot.name));
	f->prot.owner = THIS_MODULE;
	f->prot.init = tsor_sk_init;
	f->prot.destroy = tsor_sk_destroy;
	f->prot.slab = NULL;
	INIT_LIST_HEAD(&f->prot.node);

	*ops = *tcp_ops;
	ops->owner = THIS_MODULE;
	ops->release = tsor_release;
	ops->connect = tsor_connect;
	ops->accept = tsor_accept;
	ops->sendmsg = tsor_sendmsg;
	ops->sendpage = tsor_sendpage;
	ops->recvmsg = tsor_recvmsg;
	ops->splice_read = tsor_splice_read;
	ops->poll = tsor_poll;
	ops->shutdown = tsor_shutdown;
	ops->setsockopt = tsor_setsockopt;

	f->protosw.type = SOCK_STREAM;
	f->protosw.protocol = TSOR_IPPROTO;
	f->protosw.prot = &f->prot;
	f->protosw.ops = f->ops;
	f->protosw.flags = INET_PROTOSW_ICSK;
}

/*
 * The clone shares TCP's request and timewait socks.  proto_register() and
 * proto_unregister() would create and destroy slabs for them, overwriting
 * TCP's own, so they are hidden from both calls.
 */
static int tsor_proto_register(struct proto *prot)
{
	struct request_sock_ops *rsk = prot->rsk_prot;
	struct timewait_sock_ops *twsk = prot->twsk_prot;
	int err;

	prot->rsk_prot = NULL;
	prot->twsk_prot = NULL;
	err = proto_register(prot, 1);
	prot->rsk_prot = rsk;
	prot->twsk_prot = twsk;
	return err;
}

static void tsor_proto_unregister(struct proto *prot)
{
	prot->rsk_prot = NULL;
	prot->twsk_prot = NULL;
	proto_unregister(prot);
}

/* inet6_stream_ops is not exported; a kernel TCPv6 socket carries it. */
static const struct proto_ops *tsor_tcpv6_ops(void)
{
	const struct proto_ops *ops;
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, AF_INET6, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return ERR_PTR(err);
	ops = sock->ops;
	sock_release(sock);
	return ops;
}

/* False when the kernel runs with IPv6 disabled (ipv6.disable=1). */
static bool tsor_have_ipv6 __ro_after_init;

bool tsor_sock_ipv6(void)
{
	return tsor_have_ipv6;
}

int tsor_sock_init(void)
{
	const struct proto_ops *ops6;
	int err;

	ops6 = tsor_tcpv6_ops();
	if (IS_ERR(ops6) && PTR_ERR(ops6) != -EAFNOSUPPORT)
		return PTR_ERR(ops6);

	tsor_family_setup(&tsor_inet, "TSOR", &tcp_prot, &inet_stream_ops,
			  &tsor_inet_ops);
	err = tsor_proto_register(&tsor_inet.prot);
	if (err)
		return err;
	inet_register_protosw(&tsor_inet.protosw);

	if (IS_ERR(ops6)) {
		pr_info("IPv6 is disabled: taking over IPv4 sockets only\n");
		return 0;
	}
	tsor_family_setup(&tsor_inet6, "TSORv6", &tcpv6_prot, ops6,
			  &tsor_inet6_ops);
	err = tsor_proto_register(&tsor_inet6.prot);
	if (err)
		goto out_inet;
	err = inet6_register_protosw(&tsor_inet6.protosw);
	if (err)
		goto out_prot6;
	tsor_have_ipv6 = true;
	return 0;

out_prot6:
	tsor_proto_unregister(&tsor_inet6.prot);
out_inet:
	inet_unregister_protosw(&tsor_inet.protosw);
	tsor_proto_unregister(&tsor_inet.prot);
	return err;
}

void tsor_sock_exit(void)
{
	/* Both unregister calls wait for RCU readers of the protosw lists. */
	if (tsor_have_ipv6) {
		inet6_unregister_protosw(&tsor_inet6.protosw);
		tsor_proto_unregister(&tsor_inet6.prot);
	}
	inet_unregister_protosw(&tsor_inet.protosw);
	tsor_proto_unregister(&tsor_inet.prot);
}

int tsor_conn_walk(struct tsor_net *tn, long skip,
		   int visit(const struct tsor_conn_info *ci, void *arg),
		   void *arg)
{
	return 0;
}
