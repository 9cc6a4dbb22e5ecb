// SPDX-License-Identifier: GPL-2.0
/*
 * Counters.  Each namespace has a per-CPU block, and a global block sums
 * every namespace that ever existed, so deleting a namespace does not make
 * module-wide totals go backwards.
 */
#include <linux/percpu.h>
#include "tsor.h"

static struct tsor_stats __percpu *tsor_global_stats;

/* Names as tools print them; sent over netlink with each value. */
static const char * const tsor_stat_names[__TSOR_STAT_MAX] = {
	[TSOR_STAT_SOCK_CREATED] = "sock_created",
	[TSOR_STAT_SOCK_ACCEPTED] = "sock_accepted",
	[TSOR_STAT_SOCK_ACTIVE] = "sock_active",
	[TSOR_STAT_SOCK_REFUSED] = "sock_refused",
	[TSOR_STAT_CONN_PAIRED] = "conn_paired",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_PEER_UNKNOWN)] =
		"fallback_peer_unknown",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_PEER_DISABLED)] =
		"fallback_peer_disabled",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_PEER_NO_TSOR)] =
		"fallback_peer_no_tsor",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_NO_DEVICE)] =
		"fallback_no_device",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_REFUSED)] =
		"fallback_refused",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_TIMEOUT)] =
		"fallback_timeout",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_LINK_DOWN)] =
		"fallback_link_down",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_NOMEM)] = "fallback_nomem",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_SOCKOPT)] =
		"fallback_sockopt",
	[TSOR_STAT_TCP_TX_BYTES] = "tcp_tx_bytes",
	[TSOR_STAT_TCP_RX_BYTES] = "tcp_rx_bytes",
	[TSOR_STAT_RDMA_TX_BYTES] = "rdma_tx_bytes",
	[TSOR_STAT_RDMA_RX_BYTES] = "rdma_rx_bytes",
	[TSOR_STAT_SHM_TX_BYTES] = "shm_tx_bytes",
	[TSOR_STAT_SHM_RX_BYTES] = "shm_rx_bytes",
	[TSOR_STAT_PAIR_SERVED] = "pair_served",
	[TSOR_STAT_PAIR_DENY_NO_SOCKET] = "pair_deny_no_socket",
	[TSOR_STAT_PAIR_DENY_DISABLED] = "pair_deny_disabled",
	[TSOR_STAT_PAIR_DENY_NOT_TSOR] = "pair_deny_not_tsor",
	[TSOR_STAT_PAIR_DENY_PROOF] = "pair_deny_proof",
	[TSOR_STAT_PAIR_DENY_NODE] = "pair_deny_node",
	[TSOR_STAT_PAIR_DENY_BUSY] = "pair_deny_busy",
	[TSOR_STAT_PAIR_DENY_NOMEM] = "pair_deny_nomem",
	[TSOR_STAT_PAIR_CANCELLED] = "pair_cancelled",
	[TSOR_STAT_CONN_RESET] = "conn_reset",
	[TSOR_STAT_CHANNEL_ACTIVE] = "channel_active",
	[TSOR_STAT_RING_BYTES] = "ring_bytes",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_EXCLUDED)] = "fallback_excluded",
	[TSOR_STAT_PAIR_DENY_EXCLUDED] = "pair_deny_excluded",
	[TSOR_STAT_SHM_DIRECT_BYTES] = "shm_direct_bytes",
	[TSOR_STAT_RING_CACHED_BYTES] = "ring_cached_bytes",
	[TSOR_STAT_LINK_UP] = "link_up",
	[TSOR_STAT_LINK_DOWN] = "link_down",
	[TSOR_STAT_FALLBACK(TSOR_FALLBACK_LINK_FULL)] = "fallback_link_full",
	[TSOR_STAT_CONN_RESUMED] = "conn_resumed",
	[TSOR_STAT_RESUME_TX_BYTES] = "resume_tx_bytes",
};

const char *tsor_stat_name(enum tsor_stat id)
{
	return tsor_stat_names[id];
}

/* Gauges go down with a negative delta; u64 wrap-around sums correctly. */
void tsor_stat_add(struct tsor_net *tn, enum tsor_stat id, s64 delta)
{
	this_cpu_add(tn->stats->v[id], delta);
	this_cpu_add(tsor_global_stats->v[id], delta);
}

void tsor_stats_sum(const struct tsor_stats __percpu *stats,
		    u64 out[__TSOR_STAT_MAX])
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * __TSOR_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const struct tsor_stats *s = per_cpu_ptr(stats, cpu);

		for (i = 0; i < __TSOR_STAT_MAX; i++)
			out[i] += READ_ONCE(s->v[i]);
	}
}

const struct tsor_stats __percpu *tsor_stats_global(void)
{
	return tsor_global_stats;
}

int tsor_stats_init(void)
{
	int i;

	/*
	 * Each fallback reason has a counter of its own: a reason appended to
	 * the uapi needs its counter appended and TSOR_STAT_FALLBACK() taught.
	 */
	BUILD_BUG_ON(TSOR_STAT_FALLBACK(TSOR_FALLBACK_SOCKOPT) !=
		     TSOR_STAT_FALLBACK_LAST);
	BUILD_BUG_ON(TSOR_STAT_FALLBACK(TSOR_FALLBACK_EXCLUDED) !=
		     TSOR_STAT_FALLBACK_EXCLUDED);
	BUILD_BUG_ON(TSOR_STAT_FALLBACK(TSOR_FALLBACK_LINK_FULL) !=
		     TSOR_STAT_FALLBACK_LINK_FULL);
	BUILD_BUG_ON(TSOR_STAT_FALLBACK(__TSOR_FALLBACK_MAX - 1) !=
		     TSOR_STAT_CONN_RESUMED);

	/* A counter without a name would print as garbage; refuse to load. */
	for (i = 0; i < __TSOR_STAT_MAX; i++)
		if (WARN_ON(!tsor_stat_names[i]))
			return -EINVAL;

	tsor_global_stats = alloc_percpu(struct tsor_stats);
	return tsor_global_stats ? 0 : -ENOMEM;
}

void tsor_stats_exit(void)
{
	free_percpu(tsor_global_stats);
}
