// SPDX-License-Identifier: GPL-2.0
/*
 * The 4-tuple as the server sees it, for connections that went through
 * NAT: a Kubernetes Service is a DNAT of a virtual address to a pod.  The
 * conntrack entry's reply direction names the real server and the address
 * it sees the client by.
 *
 * nf_conntrack is looked up with symbol_get() rather than linked: without
 * it loaded there is no NAT to undo, and tsor need not pull it in.
 */
#include <linux/module.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_zones.h>
#include "sock.h"
#include "transport.h"

static void tsor_nat_tuple(const struct tsor_pair_req *req,
			   struct nf_conntrack_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->src.l3num = req->saddr.family;
	memcpy(&t->src.u3, req->saddr.raw, sizeof(t->src.u3));
	t->src.u.tcp.port = req->sport;
	memcpy(&t->dst.u3, req->daddr.raw, sizeof(t->dst.u3));
	t->dst.u.tcp.port = req->dport;
	t->dst.protonum = IPPROTO_TCP;
	t->dst.dir = IP_CT_DIR_ORIGINAL;
}

/* nf_conntrack_find_get(), once symbol_get() found it. */
struct tsor_ct_find {
	struct nf_conntrack_tuple_hash *
		(*get)(struct net *net, const struct nf_conntrack_zone *zone,
		       const struct nf_conntrack_tuple *tuple);
};

/* The reply tuple of @net's NAT'd entry for @t into @req; true if found. */
static bool tsor_nat_lookup(struct net *net,
			    const struct nf_conntrack_tuple *t,
			    const struct tsor_ct_find *find,
			    struct tsor_pair_req *req)
{
	const struct nf_conntrack_zone zone = {
		.id = NF_CT_DEFAULT_ZONE_ID,
		.dir = NF_CT_DEFAULT_ZONE_DIR,
	};
	const struct nf_conntrack_tuple *r;
	struct nf_conntrack_tuple_hash *h;
	struct nf_conn *ct;
	bool nat;

	h = find->get(net, &zone, t);
	if (!h)
		return false;
	ct = nf_ct_tuplehash_to_ctrack(h);
	nat = ct->status & IPS_NAT_MASK;
	if (nat) {
		r = &ct->tuplehash[IP_CT_DIR_REPLY].tuple;
		memcpy(req->daddr.raw, &r->src.u3, sizeof(req->daddr.raw));
		req->dport = r->src.u.tcp.port;
		memcpy(req->saddr.raw, &r->dst.u3, sizeof(req->saddr.raw));
		req->sport = r->dst.u.tcp.port;
		if (req->saddr.family == AF_INET) {
			memset(req->saddr.raw + 4, 0, sizeof(req->saddr.raw) - 4);
			memset(req->daddr.raw + 4, 0, sizeof(req->daddr.raw) - 4);
		}
	}
	nf_conntrack_put(&ct->ct_general);
	return nat;
}

/*
 * Rewrites @req's 4-tuple (the client socket's own) into the server's view
 * when conntrack NAT'd the connection: in the pod's namespace, or in the
 * node's, where kube-proxy's rules live.
 */
void tsor_nat_resolve(struct sock *sk, struct tsor_pair_req *req)
{
	struct tsor_ct_find find;
	struct nf_conntrack_tuple t;

	find.get = symbol_get(nf_conntrack_find_get);
	if (!find.get)
		return;
	tsor_nat_tuple(req, &t);
	if (!tsor_nat_lookup(sock_net(sk), &t, &find, req) &&
	    !net_eq(sock_net(sk), &init_net))
		tsor_nat_lookup(&init_net, &t, &find, req);
	symbol_put(nf_conntrack_find_get);
}
