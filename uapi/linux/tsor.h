/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tsor: TCP sockets over RDMA for containers.
 *
 * The one contract between tsor.ko and its user-space tools: the generic
 * netlink family, its commands and attributes, and the enums both sides
 * print.  Everything here is ABI; append, never renumber.
 */
#ifndef _UAPI_LINUX_TSOR_H
#define _UAPI_LINUX_TSOR_H

#include <linux/types.h>

#define TSOR_GENL_NAME		"tsor"
#define TSOR_GENL_VERSION	1

/*
 * Private protocol number of tsor's protosw.  Taken-over sockets still
 * report IPPROTO_TCP through SO_PROTOCOL; this number shows only in the
 * protosw table.  253 is reserved for experimentation (RFC 3692).
 */
#define TSOR_IPPROTO		253

/* Longest RDMA device name, with its NUL (the kernel's IB_DEVICE_NAME_MAX). */
#define TSOR_IBDEV_NAME_MAX	64

/* Bits of TSOR_ATTR_FEATURES: what this module implements. */
enum tsor_feature {
	TSOR_FEATURE_TAKEOVER	= 1 << 0,	/* socket takeover per netns */
	TSOR_FEATURE_IPV6	= 1 << 1,
	TSOR_FEATURE_RDMA	= 1 << 2,	/* cross-node data path */
	TSOR_FEATURE_SHM	= 1 << 3,	/* same-node data path */
	TSOR_FEATURE_PEERS	= 1 << 4,	/* peer table */
	TSOR_FEATURE_EXCLUDE	= 1 << 5,	/* per-netns exclusions */
};

enum tsor_cmd {
	TSOR_CMD_UNSPEC,
	TSOR_CMD_VERSION_GET,	/* do: module version, features */
	TSOR_CMD_NETNS_GET,	/* do: one netns; dump: enabled ones */
	TSOR_CMD_NETNS_SET,	/* do: enable or disable a netns */
	TSOR_CMD_STATS_GET,	/* do: a netns or global; dump: per netns */
	TSOR_CMD_PEER_ADD,	/* do: add a CIDR -> node route */
	TSOR_CMD_PEER_DEL,	/* do: delete one */
	TSOR_CMD_PEER_GET,	/* dump: the peer table */
	TSOR_CMD_PEER_REPLACE,	/* do: replace the whole table at once */
	TSOR_CMD_CONN_GET,	/* dump: taken-over connections */
	TSOR_CMD_LINK_GET,	/* dump: node-pair links */
	TSOR_CMD_DEV_GET,	/* do: node RDMA endpoint settings */
	TSOR_CMD_DEV_SET,	/* do: change them */

	__TSOR_CMD_MAX,
	TSOR_CMD_MAX = __TSOR_CMD_MAX - 1
};

enum tsor_attr {
	TSOR_ATTR_UNSPEC,
	TSOR_ATTR_PAD,
	TSOR_ATTR_VERSION,	/* string: module version */
	TSOR_ATTR_FEATURES,	/* u32: enum tsor_feature bits */
	TSOR_ATTR_PROTOCOL,	/* u32: TSOR_IPPROTO as registered */
	/* Selects a netns; at most one of FD and PID, none means the caller's. */
	TSOR_ATTR_NETNS_FD,	/* u32: fd of a netns file */
	TSOR_ATTR_NETNS_PID,	/* u32: a process whose netns is meant */
	TSOR_ATTR_NETNS_INUM,	/* u32: netns inode number (replies only) */
	TSOR_ATTR_NETNS_NSID,	/* s32: nsid as seen from the caller, or -1 */
	TSOR_ATTR_ENABLED,	/* u8: 0 or 1 */
	TSOR_ATTR_GLOBAL,	/* flag: STATS_GET of the whole module */
	TSOR_ATTR_STATS,	/* nest: TSOR_ATTR_STAT entries */
	TSOR_ATTR_STAT,		/* nest: enum tsor_stat_attr */
	TSOR_ATTR_PEER,		/* nest: enum tsor_peer_attr */
	TSOR_ATTR_CONN,		/* nest: enum tsor_conn_attr */
	TSOR_ATTR_LINK,		/* nest: enum tsor_link_attr */
	TSOR_ATTR_DEV,		/* nest: enum tsor_dev_attr */
	/*
	 * A netns's exclusions: connections they cover stay plain TCP.  In
	 * NETNS_SET, present (even empty) replaces the whole list, absent
	 * leaves it; NETNS_GET always reports it.
	 */
	TSOR_ATTR_EXCLUDES,	/* nest: TSOR_ATTR_EXCLUDE entries */
	TSOR_ATTR_EXCLUDE,	/* nest: enum tsor_exclude_attr */

	__TSOR_ATTR_MAX,
	TSOR_ATTR_MAX = __TSOR_ATTR_MAX - 1
};

/* One counter.  Names travel with values so old tools print new counters. */
enum tsor_stat_attr {
	TSOR_STAT_ATTR_UNSPEC,
	TSOR_STAT_ATTR_PAD,
	TSOR_STAT_ATTR_ID,	/* u32: enum tsor_stat */
	TSOR_STAT_ATTR_NAME,	/* string */
	TSOR_STAT_ATTR_VALUE,	/* u64 */

	__TSOR_STAT_ATTR_MAX,
	TSOR_STAT_ATTR_MAX = __TSOR_STAT_ATTR_MAX - 1
};

/* Why a taken-over connection stayed (or became) plain TCP. */
enum tsor_fallback {
	TSOR_FALLBACK_NONE,		/* not fallen back */
	TSOR_FALLBACK_PEER_UNKNOWN,	/* destination not in the peer table */
	TSOR_FALLBACK_PEER_DISABLED,	/* server netns not enabled */
	TSOR_FALLBACK_PEER_NO_TSOR,	/* peer node does not run tsor */
	TSOR_FALLBACK_NO_DEVICE,	/* no RDMA device on this node */
	TSOR_FALLBACK_REFUSED,		/* peer refused the pairing */
	TSOR_FALLBACK_TIMEOUT,		/* no answer in time */
	TSOR_FALLBACK_LINK_DOWN,	/* node link failed */
	TSOR_FALLBACK_NOMEM,		/* rings could not be allocated */
	TSOR_FALLBACK_SOCKOPT,		/* an option tsor cannot carry */
	TSOR_FALLBACK_EXCLUDED,		/* a netns's exclusions cover it */
	TSOR_FALLBACK_LINK_FULL,	/* the node link has its most channels */
	TSOR_FALLBACK_RESUMED,		/* paired, then resumed over TCP at
					 * the exact byte when the link died
					 */

	__TSOR_FALLBACK_MAX
};

/* Counters, per netns and global.  Gauges say so; the rest only grow. */
enum tsor_stat {
	TSOR_STAT_SOCK_CREATED,		/* socket() redirected to tsor */
	TSOR_STAT_SOCK_ACCEPTED,	/* accept() returned a tsor socket */
	TSOR_STAT_SOCK_ACTIVE,		/* gauge: tsor sockets alive now */
	TSOR_STAT_SOCK_REFUSED,		/* explicit protocol in a disabled netns */
	TSOR_STAT_CONN_PAIRED,		/* connections moved off TCP */
	/*
	 * One per tsor_fallback from PEER_UNKNOWN to SOCKOPT.  Reasons added
	 * later have their counters appended below, so no counter moves:
	 * use TSOR_STAT_FALLBACK().
	 */
	TSOR_STAT_FALLBACK_FIRST,
	TSOR_STAT_FALLBACK_LAST = TSOR_STAT_FALLBACK_FIRST +
				  TSOR_FALLBACK_SOCKOPT -
				  TSOR_FALLBACK_PEER_UNKNOWN,
	TSOR_STAT_TCP_TX_BYTES,		/* payload carried by the TCP socket */
	TSOR_STAT_TCP_RX_BYTES,
	TSOR_STAT_RDMA_TX_BYTES,	/* payload carried over an RDMA link */
	TSOR_STAT_RDMA_RX_BYTES,
	TSOR_STAT_SHM_TX_BYTES,		/* payload carried in shared memory */
	TSOR_STAT_SHM_RX_BYTES,
	/* Pairing requests this node answered, as the server side. */
	TSOR_STAT_PAIR_SERVED,		/* accepted */
	TSOR_STAT_PAIR_DENY_NO_SOCKET,	/* no such established connection */
	TSOR_STAT_PAIR_DENY_DISABLED,	/* it is in a netns tsor is off in */
	TSOR_STAT_PAIR_DENY_NOT_TSOR,	/* it is a plain TCP socket */
	TSOR_STAT_PAIR_DENY_PROOF,	/* sequence numbers did not match */
	TSOR_STAT_PAIR_DENY_NODE,	/* sender is not the client's node */
	TSOR_STAT_PAIR_DENY_BUSY,	/* a TCP send was in progress */
	TSOR_STAT_PAIR_DENY_NOMEM,	/* no memory for the rings */
	TSOR_STAT_PAIR_CANCELLED,	/* client gave up after an accept */
	TSOR_STAT_CONN_RESET,		/* paired connections reset */
	TSOR_STAT_CHANNEL_ACTIVE,	/* gauge: channels alive */
	TSOR_STAT_RING_BYTES,		/* gauge: their receive rings' memory */
	TSOR_STAT_FALLBACK_EXCLUDED,	/* fallback for TSOR_FALLBACK_EXCLUDED */
	TSOR_STAT_PAIR_DENY_EXCLUDED,	/* the server's netns excludes it */
	TSOR_STAT_SHM_DIRECT_BYTES,	/* of shm_rx_bytes: copied straight
					 * into a blocked reader's buffer
					 */
	TSOR_STAT_RING_CACHED_BYTES,	/* gauge: closed connections' rings
					 * kept for the netns's next ones
					 */
	/* RDMA links to other nodes, either end; counted in the initial netns. */
	TSOR_STAT_LINK_UP,		/* links established */
	TSOR_STAT_LINK_DOWN,		/* established links that went down */
	TSOR_STAT_FALLBACK_LINK_FULL,	/* fallback for TSOR_FALLBACK_LINK_FULL */
	/*
	 * Paired connections whose link died and that went on over their TCP
	 * connection from the exact byte; also the counter of
	 * TSOR_FALLBACK_RESUMED.
	 */
	TSOR_STAT_CONN_RESUMED,
	TSOR_STAT_RESUME_TX_BYTES,	/* bytes sent again over TCP then */

	__TSOR_STAT_MAX
};

/* The counter of connections that fell back for @reason (not NONE). */
#define TSOR_STAT_FALLBACK(reason)					\
	((reason) == TSOR_FALLBACK_EXCLUDED ?				\
	 TSOR_STAT_FALLBACK_EXCLUDED :					\
	 (reason) == TSOR_FALLBACK_LINK_FULL ?				\
	 TSOR_STAT_FALLBACK_LINK_FULL :					\
	 (reason) == TSOR_FALLBACK_RESUMED ?				\
	 TSOR_STAT_CONN_RESUMED :					\
	 TSOR_STAT_FALLBACK_FIRST + (reason) - TSOR_FALLBACK_PEER_UNKNOWN)

/* A peer-table entry: pod CIDR -> node address.  Address length sets family. */
enum tsor_peer_attr {
	TSOR_PEER_ATTR_UNSPEC,
	TSOR_PEER_ATTR_PREFIX,		/* binary: 4 or 16 bytes */
	TSOR_PEER_ATTR_PREFIXLEN,	/* u8 */
	TSOR_PEER_ATTR_NODE,		/* binary: 4 or 16 bytes */

	__TSOR_PEER_ATTR_MAX,
	TSOR_PEER_ATTR_MAX = __TSOR_PEER_ATTR_MAX - 1
};

/* Which transport carries a connection's bytes. */
enum tsor_path {
	TSOR_PATH_TCP,
	TSOR_PATH_RDMA,
	TSOR_PATH_SHM,
};

/* A taken-over connection, as `tsorctl conn show` lists it. */
enum tsor_conn_attr {
	TSOR_CONN_ATTR_UNSPEC,
	TSOR_CONN_ATTR_PAD,
	TSOR_CONN_ATTR_NETNS_INUM,	/* u32 */
	TSOR_CONN_ATTR_FAMILY,		/* u16: AF_INET or AF_INET6 */
	TSOR_CONN_ATTR_SADDR,		/* binary: 4 or 16 bytes */
	TSOR_CONN_ATTR_DADDR,		/* binary: 4 or 16 bytes */
	TSOR_CONN_ATTR_SPORT,		/* u16, host order */
	TSOR_CONN_ATTR_DPORT,		/* u16, host order */
	TSOR_CONN_ATTR_PATH,		/* u8: enum tsor_path */
	TSOR_CONN_ATTR_FALLBACK,	/* u8: enum tsor_fallback */
	TSOR_CONN_ATTR_TX_BYTES,	/* u64 */
	TSOR_CONN_ATTR_RX_BYTES,	/* u64 */
	TSOR_CONN_ATTR_CREDITS,		/* u32: bytes the peer may still take */

	__TSOR_CONN_ATTR_MAX,
	TSOR_CONN_ATTR_MAX = __TSOR_CONN_ATTR_MAX - 1
};

enum tsor_link_state {
	TSOR_LINK_CONNECTING,
	TSOR_LINK_UP,
	TSOR_LINK_DOWN,
};

/* A node-pair RDMA link. */
enum tsor_link_attr {
	TSOR_LINK_ATTR_UNSPEC,
	TSOR_LINK_ATTR_LOCAL,		/* binary: 4 or 16 bytes */
	TSOR_LINK_ATTR_REMOTE,		/* binary: 4 or 16 bytes */
	TSOR_LINK_ATTR_STATE,		/* u8: enum tsor_link_state */
	TSOR_LINK_ATTR_CHANNELS,	/* u32 */

	__TSOR_LINK_ATTR_MAX,
	TSOR_LINK_ATTR_MAX = __TSOR_LINK_ATTR_MAX - 1
};

/* How two pods on one node are joined. */
enum tsor_local_path {
	TSOR_LOCAL_PATH_SHM,
	TSOR_LOCAL_PATH_RDMA,
};

/* The node's RDMA endpoint. */
enum tsor_dev_attr {
	TSOR_DEV_ATTR_UNSPEC,
	TSOR_DEV_ATTR_IBDEV,		/* string: RDMA device name */
	TSOR_DEV_ATTR_ADDR,		/* binary: 4 or 16 bytes */
	TSOR_DEV_ATTR_PORT,		/* u16: rdma_cm listener port */
	TSOR_DEV_ATTR_LOCAL_PATH,	/* u8: enum tsor_local_path */

	__TSOR_DEV_ATTR_MAX,
	TSOR_DEV_ATTR_MAX = __TSOR_DEV_ATTR_MAX - 1
};

/*
 * One exclusion: a port (the server's port of a connection, whichever
 * side the netns is on) or a CIDR (the other end's address: the server's
 * for a client, the client's for a server).  Address length sets family.
 */
enum tsor_exclude_attr {
	TSOR_EXCLUDE_ATTR_UNSPEC,
	TSOR_EXCLUDE_ATTR_PORT,		/* u16, host order, 1 to 65535 */
	TSOR_EXCLUDE_ATTR_PREFIX,	/* binary: 4 or 16 bytes */
	TSOR_EXCLUDE_ATTR_PREFIXLEN,	/* u8 */

	__TSOR_EXCLUDE_ATTR_MAX,
	TSOR_EXCLUDE_ATTR_MAX = __TSOR_EXCLUDE_ATTR_MAX - 1
};

/* Most exclusions one netns may hold. */
#define TSOR_EXCLUDE_MAX	64

#endif /* _UAPI_LINUX_TSOR_H */
