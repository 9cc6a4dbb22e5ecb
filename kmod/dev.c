// SPDX-License-Identifier: GPL-2.0
/*
 * The node's RDMA endpoint: which RDMA devices exist (an ib_client, so
 * `rdma link add/delete` is followed), a protection domain on each, the
 * configuration `tsorctl dev set` changes, and the rdma_cm listener that
 * other nodes dial.
 *
 * Locking: tsor_dev_mutex serialises configuration and the listener;
 * tsor_rdevs_lock guards the device list, because link.c looks protection
 * domains up from rdma_cm handlers, which device removal may be waiting
 * for while it holds the mutex's callers back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inetdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <net/addrconf.h>
#include <net/route.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>
#include "link.h"

struct tsor_rdev {
	struct list_head node;
	struct ib_device *ibdev;
	struct ib_pd *pd;
	struct ib_event_handler events;
	bool dead;		/* being removed: no new users */
};

static DEFINE_MUTEX(tsor_dev_mutex);	/* tsor_cfg, the listener */
static struct tsor_dev_cfg tsor_cfg = {
	.port = TSOR_DEV_PORT_DEFAULT,
	.local_path = TSOR_LOCAL_PATH_SHM,
};

static struct rdma_cm_id *tsor_listen_id;
static struct work_struct tsor_listen_work;
static bool tsor_dev_exiting;		/* under tsor_dev_mutex */

static DEFINE_SPINLOCK(tsor_rdevs_lock);
static LIST_HEAD(tsor_rdevs);

static struct ib_client tsor_ib_client;

void tsor_addr_to_sockaddr(const struct tsor_addr *a, u16 port,
			   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->raw, 16);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->raw, 4);
	}
}

/* A v4-mapped IPv6 address counts as IPv4, as the peer table has it. */
bool tsor_addr_from_sockaddr(struct tsor_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->raw, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *in6 =
			&((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (ipv6_addr_v4mapped(in6)) {
			a->family = AF_INET;
			memcpy(a->raw, &in6->s6_addr32[3], 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->raw, in6, 16);
		}
		return true;
	}
	return false;
}

static bool tsor_addr_any(const struct tsor_addr *a)
{
	static const u8 zero[16];

	return !a->family || !memcmp(a->raw, zero, sizeof(zero));
}

/* Devices */

struct ib_pd *tsor_dev_pd(struct ib_device *ibdev)
{
	struct tsor_rdev *rd;
	struct ib_pd *pd = NULL;

	spin_lock_bh(&tsor_rdevs_lock);
	list_for_each_entry(rd, &tsor_rdevs, node) {
		if (rd->ibdev == ibdev && !rd->dead) {
			pd = rd->pd;
			break;
		}
	}
	spin_unlock_bh(&tsor_rdevs_lock);
	return pd;
}

bool tsor_dev_any(void)
{
	struct tsor_rdev *rd;
	bool any = false;

	spin_lock_bh(&tsor_rdevs_lock);
	list_for_each_entry(rd, &tsor_rdevs, node)
		any |= !rd->dead;
	spin_unlock_bh(&tsor_rdevs_lock);
	return any;
}

/* Only IB and RoCE ports carry RDMA WRITE_WITH_IMM; iWARP does not. */
static bool tsor_dev_usable(struct ib_device *ibdev)
{
	u32 port;

	rdma_for_each_port(ibdev, port)
		if (rdma_ib_or_roce(ibdev, port))
			return true;
	return false;
}

static void tsor_dev_event(struct ib_event_handler *h, struct ib_event *ev)
{
	if (ev->event == IB_EVENT_GID_CHANGE)
		tsor_link_gid_changed();
}

static int tsor_dev_add(struct ib_device *ibdev)
{
	struct tsor_rdev *rd;

	if (!tsor_dev_usable(ibdev))
		return -EOPNOTSUPP;
	rd = kzalloc(sizeof(*rd), GFP_KERNEL);
	if (!rd)
		return -ENOMEM;
	rd->ibdev = ibdev;
	rd->pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(rd->pd)) {
		int err = PTR_ERR(rd->pd);

		kfree(rd);
		return err;
	}
	INIT_IB_EVENT_HANDLER(&rd->events, ibdev, tsor_dev_event);
	ib_register_event_handler(&rd->events);
	spin_lock_bh(&tsor_rdevs_lock);
	list_add_tail(&rd->node, &tsor_rdevs);
	spin_unlock_bh(&tsor_rdevs_lock);
	ib_set_client_data(ibdev, &tsor_ib_client, rd);
	/* A listener bound to an address this device carries may now work. */
	schedule_work(&tsor_listen_work);
	return 0;
}

static void tsor_dev_remove(struct ib_device *ibdev, void *data)
{
	struct tsor_rdev *rd = data;
	struct rdma_cm_id *lid = NULL;

	spin_lock_bh(&tsor_rdevs_lock);
	rd->dead = true;
	spin_unlock_bh(&tsor_rdevs_lock);
	ib_unregister_event_handler(&rd->events);

	/*
	 * Clients are removed last-added first, so rdma_cm still works here:
	 * tear our links down ourselves rather than wait for its
	 * DEVICE_REMOVAL events.
	 */
	tsor_link_dev_removed(ibdev);

	mutex_lock(&tsor_dev_mutex);
	if (tsor_listen_id && tsor_listen_id->device == ibdev) {
		lid = tsor_listen_id;
		tsor_listen_id = NULL;
	}
	mutex_unlock(&tsor_dev_mutex);
	if (lid) {
		pr_info("listener on %s stopped: device removed\n",
			dev_name(&ibdev->dev));
		rdma_destroy_id(lid);
	}

	spin_lock_bh(&tsor_rdevs_lock);
	list_del(&rd->node);
	spin_unlock_bh(&tsor_rdevs_lock);
	ib_dealloc_pd(rd->pd);
	kfree(rd);
}

static struct ib_client tsor_ib_client = {
	.name = "tsor",
	.add = tsor_dev_add,
	.remove = tsor_dev_remove,
};

/* Addresses and devices */

/* The netdev of init_net that holds @a, referenced, or NULL. */
static struct net_device *tsor_addr_netdev(const struct tsor_addr *a)
{
	if (a->family == AF_INET) {
		__be32 v4;

		memcpy(&v4, a->raw, 4);
		return ip_dev_find(&init_net, v4);
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (a->family == AF_INET6) {
		struct net_device *ndev;

		rcu_read_lock();
		ndev = ipv6_dev_find(&init_net, (const struct in6_addr *)a->raw,
				     NULL);
		if (ndev)
			dev_hold(ndev);
		rcu_read_unlock();
		return ndev;
	}
#endif
	return NULL;
}

/* The RDMA device on the netdev that holds @a, referenced, or NULL. */
static struct ib_device *tsor_addr_ibdev(const struct tsor_addr *a)
{
	struct net_device *ndev = tsor_addr_netdev(a);
	struct ib_device *ibdev;

	if (!ndev)
		return NULL;
	ibdev = ib_device_get_by_netdev(ndev, RDMA_DRIVER_UNKNOWN);
	dev_put(ndev);
	return ibdev;
}

/* The first address of a netdev of @ibdev: IPv4 first, then global IPv6. */
static bool tsor_ibdev_addr(struct ib_device *ibdev, struct tsor_addr *a)
{
	struct net_device *ndev;
	bool found = false;

	rcu_read_lock();
	for_each_netdev_rcu(&init_net, ndev) {
		struct in_device *in_dev;
		struct ib_device *owner;

		owner = ib_device_get_by_netdev(ndev, RDMA_DRIVER_UNKNOWN);
		if (!owner)
			continue;
		ib_device_put(owner);
		if (owner != ibdev)
			continue;
		in_dev = __in_dev_get_rcu(ndev);
		if (in_dev) {
			const struct in_ifaddr *ifa;

			in_dev_for_each_ifa_rcu(ifa, in_dev) {
				memset(a, 0, sizeof(*a));
				a->family = AF_INET;
				memcpy(a->raw, &ifa->ifa_local, 4);
				found = true;
				break;
			}
		}
#if IS_ENABLED(CONFIG_IPV6)
		if (!found) {
			struct inet6_dev *idev = __in6_dev_get(ndev);
			struct inet6_ifaddr *ifp;

			if (idev) {
				read_lock_bh(&idev->lock);
				list_for_each_entry(ifp, &idev->addr_list, if_list) {
					if (ipv6_addr_type(&ifp->addr) &
					    IPV6_ADDR_LINKLOCAL)
						continue;
					memset(a, 0, sizeof(*a));
					a->family = AF_INET6;
					memcpy(a->raw, &ifp->addr, 16);
					found = true;
					break;
				}
				read_unlock_bh(&idev->lock);
			}
		}
#endif
		if (found)
			break;
	}
	rcu_read_unlock();
	return found;
}

/* The first usable device, referenced, or NULL. */
static struct ib_device *tsor_dev_first(void)
{
	struct ib_device *ibdev = NULL;
	struct tsor_rdev *rd;

	spin_lock_bh(&tsor_rdevs_lock);
	list_for_each_entry(rd, &tsor_rdevs, node) {
		if (!rd->dead) {
			ibdev = rd->ibdev;
			break;
		}
	}
	spin_unlock_bh(&tsor_rdevs_lock);
	/* Removal tears links down before the device goes: name it by name. */
	if (ibdev)
		ibdev = ib_device_get_by_name(dev_name(&ibdev->dev),
					      RDMA_DRIVER_UNKNOWN);
	return ibdev;
}

/* Fills the automatic fields of @cfg where they can be resolved. */
static void tsor_dev_resolve(struct tsor_dev_cfg *cfg)
{
	struct ib_device *ibdev = NULL;

	if (cfg->ibdev[0])
		ibdev = ib_device_get_by_name(cfg->ibdev, RDMA_DRIVER_UNKNOWN);
	else if (!tsor_addr_any(&cfg->addr))
		ibdev = tsor_addr_ibdev(&cfg->addr);
	else
		ibdev = tsor_dev_first();
	if (!ibdev)
		return;
	if (!cfg->ibdev[0])
		strscpy(cfg->ibdev, dev_name(&ibdev->dev), sizeof(cfg->ibdev));
	if (tsor_addr_any(&cfg->addr))
		tsor_ibdev_addr(ibdev, &cfg->addr);
	ib_device_put(ibdev);
}

bool tsor_dev_src_addr(struct tsor_addr *addr)
{
	struct tsor_dev_cfg cfg;

	mutex_lock(&tsor_dev_mutex);
	cfg = tsor_cfg;
	mutex_unlock(&tsor_dev_mutex);
	/* With nothing configured, routing picks the source and device. */
	if (!cfg.ibdev[0] && tsor_addr_any(&cfg.addr))
		return false;
	tsor_dev_resolve(&cfg);
	*addr = cfg.addr;
	return !tsor_addr_any(addr);
}

u16 tsor_dev_port(void)
{
	u16 port;

	mutex_lock(&tsor_dev_mutex);
	port = tsor_cfg.port;
	mutex_unlock(&tsor_dev_mutex);
	return port;
}

/* The listener */

static int tsor_listen_handler(struct rdma_cm_id *id,
			       struct rdma_cm_event *event)
{
	/* A request arrives on a new id, which still has our handler. */
	if (event->event == RDMA_CM_EVENT_CONNECT_REQUEST)
		return tsor_link_cm_request(id, event);
	/*
	 * remove() drops a listener bound to the device before rdma_cm
	 * says this, unless a dev set bound one in between: drop it now,
	 * from a work, since destroying it here would deadlock.
	 */
	if (event->event == RDMA_CM_EVENT_DEVICE_REMOVAL)
		schedule_work(&tsor_listen_work);
	return 0;
}

/* A listener on @addr (any address when unset) and @port, or ERR_PTR. */
static struct rdma_cm_id *tsor_listen_start(const struct tsor_addr *addr,
					    u16 port)
{
	struct sockaddr_storage ss;
	struct rdma_cm_id *id;
	int err;

	id = rdma_create_id(&init_net, tsor_listen_handler, NULL, RDMA_PS_TCP,
			    IB_QPT_RC);
	if (IS_ERR(id))
		return id;
	if (!tsor_addr_any(addr)) {
		tsor_addr_to_sockaddr(addr, port, &ss);
		err = rdma_bind_addr(id, (struct sockaddr *)&ss);
	} else {
		struct tsor_addr any6 = { .family = AF_INET6 };

		/* [::] takes IPv4 too; without IPv6, 0.0.0.0. */
		tsor_addr_to_sockaddr(&any6, port, &ss);
		err = rdma_set_afonly(id, 0);
		if (!err)
			err = rdma_bind_addr(id, (struct sockaddr *)&ss);
		if (err) {
			rdma_destroy_id(id);
			id = rdma_create_id(&init_net, tsor_listen_handler,
					    NULL, RDMA_PS_TCP, IB_QPT_RC);
			if (IS_ERR(id))
				return id;
			any6.family = AF_INET;
			tsor_addr_to_sockaddr(&any6, port, &ss);
			err = rdma_bind_addr(id, (struct sockaddr *)&ss);
		}
	}
	if (!err)
		err = rdma_listen(id, 128);
	if (err) {
		rdma_destroy_id(id);
		return ERR_PTR(err);
	}
	return id;
}

static void tsor_listen_stop_locked(void)
{
	lockdep_assert_held(&tsor_dev_mutex);
	if (tsor_listen_id) {
		rdma_destroy_id(tsor_listen_id);
		tsor_listen_id = NULL;
	}
}

/*
 * Drops a listener whose device is going, and starts the configured one
 * if it is not up (a device came).
 */
static void tsor_listen_work_fn(struct work_struct *work)
{
	struct rdma_cm_id *id;

	mutex_lock(&tsor_dev_mutex);
	id = tsor_listen_id;
	if (id && id->device && !tsor_dev_pd(id->device))
		tsor_listen_stop_locked();
	if (!tsor_listen_id && !tsor_dev_exiting) {
		id = tsor_listen_start(&tsor_cfg.addr, tsor_cfg.port);
		if (!IS_ERR(id))
			tsor_listen_id = id;
	}
	mutex_unlock(&tsor_dev_mutex);
}

/* Configuration */

void tsor_dev_get(struct tsor_dev_cfg *cfg)
{
	mutex_lock(&tsor_dev_mutex);
	*cfg = tsor_cfg;
	mutex_unlock(&tsor_dev_mutex);
	tsor_dev_resolve(cfg);
}

/* Whether the device named @name has a netdev that holds @a. */
static bool tsor_ibdev_has_addr(const char *name, const struct tsor_addr *a)
{
	struct ib_device *owner = tsor_addr_ibdev(a);
	bool ok;

	if (!owner)
		return false;
	ok = !strcmp(dev_name(&owner->dev), name);
	ib_device_put(owner);
	return ok;
}

int tsor_dev_set(const struct tsor_dev_cfg *cfg, unsigned int mask,
		 struct netlink_ext_ack *extack)
{
	struct rdma_cm_id *lid = NULL;
	struct tsor_dev_cfg new;
	int err = 0;

	mutex_lock(&tsor_dev_mutex);
	new = tsor_cfg;
	if (mask & TSOR_DEV_SET_IBDEV)
		strscpy(new.ibdev, cfg->ibdev, sizeof(new.ibdev));
	if (mask & TSOR_DEV_SET_ADDR) {
		new.addr = cfg->addr;
		if (tsor_addr_any(&new.addr))
			memset(&new.addr, 0, sizeof(new.addr));
	}
	if (mask & TSOR_DEV_SET_PORT)
		new.port = cfg->port;
	if (mask & TSOR_DEV_SET_LOCAL_PATH)
		new.local_path = cfg->local_path;

	/*
	 * A device is checked when it is named: one named before and removed
	 * since stays configured (it may come back) and does not block
	 * changes of the other settings.
	 */
	if ((mask & TSOR_DEV_SET_IBDEV) && new.ibdev[0]) {
		struct ib_device *ibdev;
		bool usable;

		ibdev = ib_device_get_by_name(new.ibdev, RDMA_DRIVER_UNKNOWN);
		if (!ibdev) {
			NL_SET_ERR_MSG(extack, "no RDMA device of that name");
			err = -ENODEV;
			goto out;
		}
		usable = ib_get_client_data(ibdev, &tsor_ib_client);
		ib_device_put(ibdev);
		if (!usable) {
			NL_SET_ERR_MSG(extack,
				       "RDMA device has no IB or RoCE port tsor can use");
			err = -EOPNOTSUPP;
			goto out;
		}
	}
	if (new.addr.family && new.addr.family != AF_INET &&
	    new.addr.family != AF_INET6) {
		NL_SET_ERR_MSG(extack, "address family must be IPv4 or IPv6");
		err = -EAFNOSUPPORT;
		goto out;
	}
	if (new.addr.family && !tsor_node_is_local(&new.addr)) {
		NL_SET_ERR_MSG(extack, "address is not one of this node's");
		err = -EADDRNOTAVAIL;
		goto out;
	}
	if (new.addr.family && new.ibdev[0] &&
	    (mask & (TSOR_DEV_SET_IBDEV | TSOR_DEV_SET_ADDR)) &&
	    !tsor_ibdev_has_addr(new.ibdev, &new.addr)) {
		NL_SET_ERR_MSG(extack,
			       "address is not on a network device of that RDMA device");
		err = -EINVAL;
		goto out;
	}
	if (!new.port) {
		NL_SET_ERR_MSG(extack, "port must not be 0");
		err = -EINVAL;
		goto out;
	}
	if (new.local_path != TSOR_LOCAL_PATH_SHM &&
	    new.local_path != TSOR_LOCAL_PATH_RDMA) {
		NL_SET_ERR_MSG(extack, "local-path must be shm or rdma");
		err = -EINVAL;
		goto out;
	}

	/* A new listener first, so that a failure changes nothing. */
	if (!tsor_listen_id || new.port != tsor_cfg.port ||
	    memcmp(&new.addr, &tsor_cfg.addr, sizeof(new.addr))) {
		struct rdma_cm_id *id;

		tsor_listen_stop_locked();
		id = tsor_listen_start(&new.addr, new.port);
		if (IS_ERR(id)) {
			err = PTR_ERR(id);
			if (err == -EADDRINUSE)
				NL_SET_ERR_MSG(extack,
					       "port in use by another RDMA listener");
			else
				NL_SET_ERR_MSG(extack,
					       "cannot listen for RDMA connections on that address and port");
			/* Back to the old one, which worked. */
			id = tsor_listen_start(&tsor_cfg.addr, tsor_cfg.port);
			if (!IS_ERR(id))
				lid = id;
			tsor_listen_id = lid;
			goto out;
		}
		tsor_listen_id = id;
	}
	tsor_cfg = new;
out:
	mutex_unlock(&tsor_dev_mutex);
	return err;
}

enum tsor_local_path tsor_dev_local_path(void)
{
	return READ_ONCE(tsor_cfg.local_path);
}

bool tsor_node_is_local(const struct tsor_addr *node)
{
	if (node->family == AF_INET) {
		__be32 a;

		memcpy(&a, node->raw, sizeof(a));
		return inet_addr_type(&init_net, a) == RTN_LOCAL;
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (node->family == AF_INET6)
		return ipv6_chk_addr(&init_net, (const struct in6_addr *)node->raw,
				     NULL, 0);
#endif
	return false;
}

int tsor_dev_init(void)
{
	struct rdma_cm_id *id;
	int err;

	INIT_WORK(&tsor_listen_work, tsor_listen_work_fn);
	err = ib_register_client(&tsor_ib_client);
	if (err)
		return err;
	/* Any address works without a device; rdma_cm adds them as they come. */
	id = tsor_listen_start(&tsor_cfg.addr, tsor_cfg.port);
	if (IS_ERR(id))
		pr_warn("no RDMA listener on port %u: %ld\n", tsor_cfg.port,
			PTR_ERR(id));
	else
		tsor_listen_id = id;
	return 0;
}

void tsor_dev_exit(void)
{
	mutex_lock(&tsor_dev_mutex);
	tsor_dev_exiting = true;
	tsor_listen_stop_locked();
	mutex_unlock(&tsor_dev_mutex);
	/* Runs remove() for every device: no link is left by now. */
	ib_unregister_client(&tsor_ib_client);
	cancel_work_sync(&tsor_listen_work);
}
