// SPDX-License-Identifier: GPL-2.0
/*
 * Socket creation hook: a kprobe on inet_create and inet6_create that turns
 * an application's TCP socket into a tsor socket by rewriting the protocol
 * argument to TSOR_IPPROTO, which selects our protosw.  The rewrite happens
 * before the socket exists, so nothing can observe the switch; socket(2),
 * accept(2)'s listener and io_uring creation all pass through here.
 *
 * A kprobe on entry, not a kretprobe: it has no maxactive to miss under load.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/ptrace.h>
#include "tsor.h"

#if defined(CONFIG_X86_64)
static void tsor_set_protocol_arg(struct pt_regs *regs, int protocol)
{
	regs->dx = protocol;
}
#elif defined(CONFIG_ARM64)
static void tsor_set_protocol_arg(struct pt_regs *regs, int protocol)
{
	regs->regs[2] = protocol;
}
#else
#error "tsor: the creation hook knows argument registers of x86_64 and arm64 only"
#endif

/* Both hooked functions: (struct net *, struct socket *, int protocol, int kern) */
static int tsor_create_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct net *net = (struct net *)regs_get_kernel_argument(regs, 0);
	struct socket *sock = (struct socket *)regs_get_kernel_argument(regs, 1);
	int protocol = (int)regs_get_kernel_argument(regs, 2);
	int kern = (int)regs_get_kernel_argument(regs, 3);
	bool enabled;

	if (kern || sock->type != SOCK_STREAM)
		return 0;
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return 0;
	/* While unloading, new sockets stay TCP rather than fail. */
	if (!module_is_live(THIS_MODULE))
		return 0;

	rcu_read_lock();
	enabled = tsor_net_enabled(net);
	rcu_read_unlock();
	if (enabled)
		tsor_set_protocol_arg(regs, TSOR_IPPROTO);
	return 0;
}

static struct kprobe tsor_kp_inet = {
	.symbol_name = "inet_create",
	.pre_handler = tsor_create_pre,
};

static struct kprobe tsor_kp_inet6 = {
	.symbol_name = "inet6_create",
	.pre_handler = tsor_create_pre,
};

/* IPv4 first: without IPv6 only the first is registered. */
static struct kprobe *tsor_kprobes[] = { &tsor_kp_inet, &tsor_kp_inet6 };

static int tsor_nr_kprobes(void)
{
	return tsor_sock_ipv6() ? ARRAY_SIZE(tsor_kprobes) : 1;
}

int tsor_hook_init(void)
{
	int err;

	err = register_kprobes(tsor_kprobes, tsor_nr_kprobes());
	if (err)
		pr_err("cannot hook socket creation: %d\n", err);
	return err;
}

void tsor_hook_exit(void)
{
	/* Waits until no handler runs any more. */
	unregister_kprobes(tsor_kprobes, tsor_nr_kprobes());
}
