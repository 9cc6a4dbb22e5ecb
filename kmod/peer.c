// SPDX-License-Identifier: GPL-2.0
/*
 * The peer table: which node owns which pod CIDR.  It is node-wide, written
 * rarely (by an operator or a cluster agent) and read on every connection
 * setup, so it is an immutable array swapped under RCU.  Entries are kept
 * longest prefix first, which makes the first match the best one.  Every
 * change builds a new array, so a bulk replace is atomic for free.
 */
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include "tsor.h"

struct tsor_peer_table {
	struct rcu_head rcu;
	unsigned int len;
	struct tsor_peer entry[];
};

static struct tsor_peer_table __rcu *tsor_peers;
static DEFINE_MUTEX(tsor_peer_lock);	/* serialises writers */

static unsigned int tsor_addr_bits(const struct tsor_addr *a)
{
	return a->family == AF_INET ? 32 : 128;
}

/* Does @a fall inside the first @plen bits of @prefix (same family)? */
bool tsor_prefix_match(const struct tsor_addr *prefix, u8 plen,
		       const struct tsor_addr *a)
{
	const u8 *p = prefix->raw, *x = a->raw;
	unsigned int bytes = plen / 8, bits = plen % 8;

	if (prefix->family != a->family)
		return false;
	if (memcmp(p, x, bytes))
		return false;
	return !bits || !((p[bytes] ^ x[bytes]) & (0xff00 >> bits));
}

int tsor_prefix_validate(const struct tsor_addr *prefix, u8 plen,
			 struct netlink_ext_ack *extack)
{
	struct tsor_addr masked = *prefix;
	unsigned int bits = tsor_addr_bits(prefix);
	unsigned int i;

	if (plen > bits) {
		NL_SET_ERR_MSG(extack, "prefix length is longer than the address");
		return -EINVAL;
	}
	/* Clear the host part; anything left over was a mistake. */
	for (i = plen; i < bits; i++)
		masked.raw[i / 8] &= ~(0x80 >> (i % 8));
	if (memcmp(&masked, prefix, sizeof(masked))) {
		NL_SET_ERR_MSG(extack, "prefix has host bits set");
		return -EINVAL;
	}
	return 0;
}

int tsor_peer_validate(const struct tsor_peer *p, struct netlink_ext_ack *extack)
{
	return tsor_prefix_validate(&p->prefix, p->prefixlen, extack);
}

static bool tsor_peer_same_prefix(const struct tsor_peer *a,
				  const struct tsor_peer *b)
{
	return a->prefixlen == b->prefixlen &&
	       !memcmp(&a->prefix, &b->prefix, sizeof(a->prefix));
}

/* Longest prefix first; IPv4 before IPv6 to keep dumps stable. */
static int tsor_peer_cmp(const void *a, const void *b)
{
	const struct tsor_peer *x = a, *y = b;

	if (x->prefixlen != y->prefixlen)
		return x->prefixlen > y->prefixlen ? -1 : 1;
	return memcmp(&x->prefix, &y->prefix, sizeof(x->prefix));
}

static struct tsor_peer_table *tsor_peer_table_alloc(unsigned int len)
{
	struct tsor_peer_table *t;

	t = kvzalloc(struct_size(t, entry, len), GFP_KERNEL);
	if (t)
		t->len = len;
	return t;
}

static struct tsor_peer_table *tsor_peer_current(void)
{
	return rcu_dereference_protected(tsor_peers,
					 lockdep_is_held(&tsor_peer_lock));
}

/* Sorts @t, checks it has no duplicates, and publishes it. */
static int tsor_peer_publish(struct tsor_peer_table *t,
			     struct netlink_ext_ack *extack)
{
	struct tsor_peer_table *old;
	unsigned int i;

	sort(t->entry, t->len, sizeof(t->entry[0]), tsor_peer_cmp, NULL);
	for (i = 1; i < t->len; i++) {
		if (tsor_peer_same_prefix(&t->entry[i - 1], &t->entry[i])) {
			NL_SET_ERR_MSG(extack, "the same prefix is listed twice");
			kvfree(t);
			return -EEXIST;
		}
	}
	old = tsor_peer_current();
	rcu_assign_pointer(tsor_peers, t);
	if (old)
		kvfree_rcu(old, rcu);
	return 0;
}

int tsor_peer_add(const struct tsor_peer *p, struct netlink_ext_ack *extack)
{
	struct tsor_peer_table *old, *t;
	unsigned int len;
	int err;

	mutex_lock(&tsor_peer_lock);
	old = tsor_peer_current();
	len = old ? old->len : 0;
	err = -ENOSPC;
	if (len >= TSOR_PEER_MAX) {
		NL_SET_ERR_MSG(extack, "peer table is full");
		goto out;
	}
	err = -ENOMEM;
	t = tsor_peer_table_alloc(len + 1);
	if (!t)
		goto out;
	if (len)
		memcpy(t->entry, old->entry, len * sizeof(t->entry[0]));
	t->entry[len] = *p;
	err = tsor_peer_publish(t, extack);
out:
	mutex_unlock(&tsor_peer_lock);
	return err;
}

int tsor_peer_del(const struct tsor_peer *p, struct netlink_ext_ack *extack)
{
	struct tsor_peer_table *old, *t;
	unsigned int i, n = 0;
	int err = -ENOENT;

	mutex_lock(&tsor_peer_lock);
	old = tsor_peer_current();
	for (i = 0; old && i < old->len; i++)
		if (tsor_peer_same_prefix(&old->entry[i], p))
			break;
	if (!old || i == old->len) {
		NL_SET_ERR_MSG(extack, "no such prefix in the peer table");
		goto out;
	}
	err = -ENOMEM;
	t = tsor_peer_table_alloc(old->len - 1);
	if (!t)
		goto out;
	for (i = 0; i < old->len; i++)
		if (!tsor_peer_same_prefix(&old->entry[i], p))
			t->entry[n++] = old->entry[i];
	err = tsor_peer_publish(t, extack);
out:
	mutex_unlock(&tsor_peer_lock);
	return err;
}

int tsor_peer_replace(const struct tsor_peer *p, unsigned int len,
		      struct netlink_ext_ack *extack)
{
	struct tsor_peer_table *t;
	int err;

	t = tsor_peer_table_alloc(len);
	if (!t)
		return -ENOMEM;
	if (len)
		memcpy(t->entry, p, len * sizeof(*p));
	mutex_lock(&tsor_peer_lock);
	err = tsor_peer_publish(t, extack);
	mutex_unlock(&tsor_peer_lock);
	return err;
}

bool tsor_peer_lookup(const struct tsor_addr *pod, struct tsor_addr *node)
{
	const struct tsor_peer_table *t;
	bool found = false;
	unsigned int i;

	rcu_read_lock();
	t = rcu_dereference(tsor_peers);
	for (i = 0; t && i < t->len; i++) {
		if (tsor_prefix_match(&t->entry[i].prefix,
				      t->entry[i].prefixlen, pod)) {
			*node = t->entry[i].node;
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

int tsor_peer_walk(long skip, int visit(const struct tsor_peer *p, void *arg),
		   void *arg)
{
	const struct tsor_peer_table *t;
	int done = 0;
	long i;

	rcu_read_lock();
	t = rcu_dereference(tsor_peers);
	for (i = skip; t && i < t->len; i++) {
		if (visit(&t->entry[i], arg))
			break;
		done++;
	}
	rcu_read_unlock();
	return done;
}

void tsor_peer_exit(void)
{
	/* Netlink is gone by now: no writer, and readers finish before exit. */
	kvfree(rcu_dereference_protected(tsor_peers, true));
	RCU_INIT_POINTER(tsor_peers, NULL);
}
