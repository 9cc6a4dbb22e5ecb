// SPDX-License-Identifier: GPL-2.0
/*
 * tsor_stream: byte-exact bidirectional TCP stream tester for tsor.
 *
 *   tsor_stream server [-6] [-b ADDR] -p PORT [options]
 *   tsor_stream client [-6] -a ADDR -p PORT [options]
 *   tsor_stream hold [-6] -a ADDR -p PORT | --listen [-b ADDR] -p PORT
 *   tsor_stream sockinfo [-6] [--udp] [--proto N]
 *
 * Exit status: 0 every check passed, 1 a check failed, 2 usage error.
 */
#define _GNU_SOURCE
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Past the timeout, this much longer with no progress means a hang. */
#define WATCHDOG_GRACE_MS	5000

static const char usage_text[] =
"Usage:\n"
"  tsor_stream server [-6] [-b ADDR] -p PORT [options]\n"
"  tsor_stream client [-6] [-b ADDR] -a ADDR -p PORT [options]\n"
"  tsor_stream hold [-6] [-b ADDR] -a ADDR -p PORT [--until-signal] [--timeout S]\n"
"  tsor_stream hold --listen [-6] [-b ADDR] -p PORT [--until-signal] [--timeout S]\n"
"  tsor_stream sockinfo [-6] [--udp] [--proto N]\n"
"\n"
"server/client: N connections; on each, both ends send and receive at once\n"
"a deterministic stream of -n bytes per direction, verify every received\n"
"byte, and expect EOF right after the last one.\n"
"  -6                 IPv6 (default IPv4)\n"
"  -a ADDR            server address to connect to (client, hold)\n"
"  -b ADDR            listen address (server, default any) or source address\n"
"  -p PORT            port (server: 0 picks one and prints port=N)\n"
"  -c N               connections (default 1); both ends must agree\n"
"  -n BYTES           bytes per direction and connection, K/M/G suffixes\n"
"                     (default 1M)\n"
"  --random-sizes     each connection and direction carries 1..BYTES bytes,\n"
"                     chosen from the seed\n"
"  -s SEED            stream seed (default 1); both ends must agree\n"
"  -m MODE            block | poll | epoll | epollet (default block)\n"
"  --iov              send/receive some chunks with writev/sendmsg/readv/recvmsg\n"
"  --peek             MSG_PEEK before every read; the read must agree\n"
"  --waitall          read with MSG_WAITALL (block mode: must return it all)\n"
"  --print-addrs      print 'addrs idx=I role=R local=A:P peer=A:P' on connect\n"
"  --expect-ulp-refused  setsockopt(TCP_ULP, \"tls\") must fail; prints\n"
"                     'ulp idx=I role=R refused errno=N (text)'\n"
"  --dual-stack       -6 server also accepts IPv4 (default IPV6_V6ONLY=1)\n"
"  --ready-file PATH  server: write the port to PATH once listening\n"
"  --timeout S        limit on every wait, seconds (default 30)\n"
"Output: 'listening' (server), then per connection\n"
"  conn=I role=R sent=N recv=N sha_tx=HEX sha_rx=HEX proto=6 local=A:P peer=A:P\n"
"    tcpi_bytes_acked=N tcpi_bytes_received=N\n"
"(on one line; the tcpi_ values are the inner TCP socket's tcp_info, read\n"
"just before close, or 'tcpi=none'), or 'conn=I role=R FAIL: reason'; then\n"
"  summary role=R conns=N ok=N total_sent=N total_recv=N tcpi_conns=N\n"
"    tcpi_bytes_acked=N tcpi_bytes_received=N\n"
"(one line, sums over the connections) and a last line 'ok' or 'FAIL: reason'.\n"
"Only the per-connection lines contain 'conn=' or ' sent='.\n"
"\n"
"hold: open one connection (or accept one with --listen) and keep it until\n"
"stdin reaches EOF or SIGTERM/SIGINT arrives (--until-signal: ignore stdin).\n"
"It fails if the connection breaks or the timeout passes first.\n"
"\n"
"sockinfo: create a socket and print 'proto=N type=N domain=N'.\n";

enum {
	OPT_TIMEOUT = 256, OPT_IOV, OPT_PEEK, OPT_WAITALL, OPT_RANDOM_SIZES,
	OPT_PRINT_ADDRS, OPT_ULP, OPT_DUAL_STACK, OPT_READY_FILE, OPT_UDP,
	OPT_PROTO, OPT_LISTEN, OPT_UNTIL_SIGNAL, OPT_HELP,
};

static const struct option long_opts[] = {
	{ "timeout",		required_argument, NULL, OPT_TIMEOUT },
	{ "iov",		no_argument,	   NULL, OPT_IOV },
	{ "peek",		no_argument,	   NULL, OPT_PEEK },
	{ "waitall",		no_argument,	   NULL, OPT_WAITALL },
	{ "random-sizes",	no_argument,	   NULL, OPT_RANDOM_SIZES },
	{ "print-addrs",	no_argument,	   NULL, OPT_PRINT_ADDRS },
	{ "expect-ulp-refused",	no_argument,	   NULL, OPT_ULP },
	{ "dual-stack",		no_argument,	   NULL, OPT_DUAL_STACK },
	{ "ready-file",		required_argument, NULL, OPT_READY_FILE },
	{ "udp",		no_argument,	   NULL, OPT_UDP },
	{ "proto",		required_argument, NULL, OPT_PROTO },
	{ "listen",		no_argument,	   NULL, OPT_LISTEN },
	{ "until-signal",	no_argument,	   NULL, OPT_UNTIL_SIGNAL },
	{ "help",		no_argument,	   NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct subcmd {
	const char *name;
	const char *allowed;	/* short options it takes */
	const int *allowed_long;/* long options it takes, 0-terminated */
};

static const int long_transfer[] = {
	OPT_TIMEOUT, OPT_IOV, OPT_PEEK, OPT_WAITALL, OPT_RANDOM_SIZES,
	OPT_PRINT_ADDRS, OPT_ULP, OPT_DUAL_STACK, OPT_READY_FILE, 0,
};
static const int long_hold[] = {
	OPT_TIMEOUT, OPT_LISTEN, OPT_UNTIL_SIGNAL, OPT_DUAL_STACK, 0,
};
static const int long_sockinfo[] = { OPT_UDP, OPT_PROTO, 0 };

static const struct subcmd subcmds[] = {
	{ "server",   "6bpcnsm",  long_transfer },
	{ "client",   "6abpcnsm", long_transfer },
	{ "hold",     "6abp",     long_hold },
	{ "sockinfo", "6",        long_sockinfo },
};

static struct conn *g_conns;	/* for the watchdog's report */

void stream_die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", progname, msg);
	printf("FAIL: %s\n", msg);
	fflush(stdout);
	exit(EXIT_FAIL);
}

static bool option_allowed(const struct subcmd *sc, int opt)
{
	const int *l;

	if (opt < 256)
		return strchr(sc->allowed, opt) != NULL;
	for (l = sc->allowed_long; *l; l++)
		if (*l == opt)
			return true;
	return false;
}

static const char *option_name(int opt, char *buf, size_t len)
{
	const struct option *lo;

	for (lo = long_opts; lo->name; lo++)
		if (lo->val == opt) {
			snprintf(buf, len, "--%s", lo->name);
			return buf;
		}
	snprintf(buf, len, "-%c", opt);
	return buf;
}

static enum io_mode parse_mode(const char *s)
{
	static const char *const names[] = {
		[MODE_BLOCK] = "block", [MODE_POLL] = "poll",
		[MODE_EPOLL] = "epoll", [MODE_EPOLLET] = "epollet",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return (enum io_mode)i;
	usage_error("-m: unknown mode '%s' (block, poll, epoll, epollet)", s);
}

/* Parses argv into @o; returns the sub-command. */
static const struct subcmd *parse_args(int argc, char **argv, struct opts *o)
{
	const struct subcmd *sc = NULL;
	const char *addr = NULL, *bind_addr = NULL;
	bool have_port = false;
	uint64_t v;
	size_t i;
	int opt;

	if (argc < 2)
		usage_error("missing sub-command (server, client, hold, sockinfo)");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		exit(EXIT_OK);
	}
	for (i = 0; i < ARRAY_SIZE(subcmds); i++)
		if (!strcmp(argv[1], subcmds[i].name))
			sc = &subcmds[i];
	if (!sc)
		usage_error("unknown sub-command '%s'", argv[1]);

	*o = (struct opts){
		.role = strcmp(sc->name, "server") ? ROLE_CLIENT : ROLE_SERVER,
		.family = AF_INET, .conns = 1, .bytes = 1 << 20, .seed = 1,
		.mode = MODE_BLOCK, .timeout_ms = DEFAULT_TIMEOUT_MS,
		.proto = -1,
	};

	optind = 2;
	opterr = 0;	/* our own messages name the bad option */
	while ((opt = getopt_long(argc, argv, ":6a:b:p:c:n:s:m:h", long_opts,
				  NULL)) != -1) {
		if (opt == 'h' || opt == OPT_HELP) {
			fputs(usage_text, stdout);
			exit(EXIT_OK);
		}
		if (opt == '?')
			usage_error("unknown option '%s'", argv[optind - 1]);
		if (opt == ':')
			usage_error("option '%s' needs a value", argv[optind - 1]);
		if (!option_allowed(sc, opt)) {
			char name[32];

			usage_error("%s does not apply to '%s'",
				    option_name(opt, name, sizeof(name)), sc->name);
		}
		switch (opt) {
		case '6':
			o->family = AF_INET6;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'b':
			bind_addr = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || v > 65535)
				usage_error("-p: bad port '%s'", optarg);
			o->port = (uint16_t)v;
			have_port = true;
			break;
		case 'c':
			if (parse_u64(optarg, &v) || v < 1 || v > 100000)
				usage_error("-c: bad connection count '%s' (1..100000)", optarg);
			o->conns = (unsigned int)v;
			break;
		case 'n':
			if (parse_size(optarg, &o->bytes))
				usage_error("-n: bad size '%s'", optarg);
			break;
		case 's':
			if (parse_u64(optarg, &o->seed))
				usage_error("-s: bad seed '%s'", optarg);
			break;
		case 'm':
			o->mode = parse_mode(optarg);
			break;
		case OPT_TIMEOUT:
			if (parse_timeout_ms(optarg, &o->timeout_ms))
				usage_error("--timeout: bad seconds '%s'", optarg);
			break;
		case OPT_IOV: o->iov = true; break;
		case OPT_PEEK: o->peek = true; break;
		case OPT_WAITALL: o->waitall = true; break;
		case OPT_RANDOM_SIZES: o->random_sizes = true; break;
		case OPT_PRINT_ADDRS: o->print_addrs = true; break;
		case OPT_ULP: o->expect_ulp_refused = true; break;
		case OPT_DUAL_STACK: o->dual_stack = true; break;
		case OPT_READY_FILE: o->ready_file = optarg; break;
		case OPT_UDP: o->udp = true; break;
		case OPT_LISTEN: o->listen = true; break;
		case OPT_UNTIL_SIGNAL: o->until_signal = true; break;
		case OPT_PROTO:
			if (parse_u64(optarg, &v) || v > 255)
				usage_error("--proto: bad protocol '%s'", optarg);
			o->proto = (int)v;
			break;
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!strcmp(sc->name, "sockinfo"))
		return sc;

	if (o->random_sizes && !o->bytes)
		usage_error("--random-sizes needs -n of at least 1");
	if (!have_port)
		usage_error("-p PORT is required");
	if (o->listen || o->role == ROLE_SERVER) {
		if (addr)
			usage_error("-a is for connecting; use -b to pick the listen address");
		if (!o->port && o->listen)
			usage_error("hold --listen needs a fixed -p PORT");
		o->role = ROLE_SERVER;
	} else {
		if (!addr)
			usage_error("-a ADDR is required");
		if (!o->port)
			usage_error("-p 0 is only for the server");
		if (parse_sockaddr(o->family, addr, o->port, &o->target,
				   &o->target_len))
			usage_error("-a: '%s' is not a numeric IPv%c address%s", addr,
				    o->family == AF_INET ? '4' : '6',
				    o->family == AF_INET ? " (use -6 for IPv6)" : "");
	}
	if (o->family != AF_INET6 && o->dual_stack)
		usage_error("--dual-stack needs -6");
	/* Listeners bind the wildcard by default; clients bind only with -b. */
	o->have_bind = bind_addr != NULL;
	if (parse_sockaddr(o->family, bind_addr,
			   o->role == ROLE_SERVER ? o->port : 0,
			   &o->bind, &o->bind_len))
		usage_error("-b: '%s' is not a numeric IPv%c address", bind_addr,
			    o->family == AF_INET ? '4' : '6');
	return sc;
}

static int cmd_sockinfo(const struct opts *o)
{
	int type = o->udp ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(o->family, type | SOCK_CLOEXEC, o->proto < 0 ? 0 : o->proto);
	int proto = -1, stype = -1, domain = -1;
	socklen_t len;

	if (fd < 0) {
		printf("FAIL: socket(%d, %d, %d): errno=%d (%s)\n", o->family,
		       type, o->proto < 0 ? 0 : o->proto, errno, strerror(errno));
		return EXIT_FAIL;
	}
	len = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ||
	    (len = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_TYPE, &stype, &len)) ||
	    (len = sizeof(int), getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len))) {
		printf("FAIL: getsockopt: errno=%d (%s)\n", errno, strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	printf("proto=%d type=%d domain=%d\n", proto, stype, domain);
	close(fd);
	return EXIT_OK;
}

/* The listener is up: tell the calling script. */
static void announce_listening(const struct opts *o, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	uint16_t port = o->port;

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) == 0)
		port = sockaddr_port((struct sockaddr *)&ss);
	if (!o->port)
		printf("port=%u\n", port);
	if (o->ready_file) {
		FILE *f = fopen(o->ready_file, "w");

		if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f))
			stream_die("--ready-file %s: %s", o->ready_file,
				   strerror(errno));
	}
	printf("listening\n");
	fflush(stdout);
}

/* Connects or accepts the single socket of 'hold'. */
static int hold_open(const struct opts *o, char *local, char *peer)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (o->listen) {
		struct pollfd p;
		int lfd = stream_listen(o, false), r;

		announce_listening(o, lfd);
		p = (struct pollfd){ .fd = lfd, .events = POLLIN };
		r = poll(&p, 1, o->timeout_ms);
		if (r <= 0)
			stream_die("hold: no connection within %d ms%s%s",
				   o->timeout_ms, r ? ": " : "",
				   r ? strerror(errno) : "");
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			stream_die("hold: accept: %s", strerror(errno));
		close(lfd);
	} else {
		fd = socket(o->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			stream_die("hold: socket: %s", strerror(errno));
		if (set_socket_timeouts(fd, o->timeout_ms))
			stream_die("hold: SO_SNDTIMEO: %s", strerror(errno));
		if (o->have_bind &&
		    bind(fd, (const struct sockaddr *)&o->bind, o->bind_len))
			stream_die("hold: bind: %s", strerror(errno));
		if (connect(fd, (const struct sockaddr *)&o->target, o->target_len))
			stream_die("hold: connect: %s",
				   errno == EINPROGRESS ? "timed out" : strerror(errno));
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		stream_die("hold: getsockname: %s", strerror(errno));
	format_sockaddr((struct sockaddr *)&ss, local, ADDRSTR_LEN);
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len))
		stream_die("hold: getpeername: %s", strerror(errno));
	format_sockaddr((struct sockaddr *)&ss, peer, ADDRSTR_LEN);
	return fd;
}

/*
 * hold: keep one connection open (e.g. across an rmmod attempt).  Data
 * from the peer is read and dropped; its EOF is reported but the socket
 * stays open; a reset or error fails.
 */
static int cmd_hold(const struct opts *o)
{
	char local[ADDRSTR_LEN], peer[ADDRSTR_LEN], buf[4096];
	int64_t deadline;
	unsigned long long dropped = 0;
	bool peer_eof = false;
	sigset_t mask;
	int fd, sfd, proto = -1;
	socklen_t len = sizeof(proto);

	/* Signals arrive through a descriptor so poll() sees them race-free. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		stream_die("signalfd: %s", strerror(errno));

	fd = hold_open(o, local, peer);
	getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len);
	printf("holding proto=%d local=%s peer=%s\n", proto, local, peer);
	fflush(stdout);

	deadline = now_ms() + o->timeout_ms;
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = fd, .events = peer_eof ? 0 : POLLIN },
			{ .fd = o->until_signal ? -1 : STDIN_FILENO, .events = POLLIN },
		};
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			stream_die("hold: still holding after %d ms: neither stdin EOF nor SIGTERM arrived",
				   o->timeout_ms);
		r = poll(p, 3, (int)left);
		if (r < 0 && errno != EINTR)
			stream_die("hold: poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		if (p[0].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				printf("released signal=%s\n",
				       sigabbrev_np((int)si.ssi_signo));
			break;
		}
		if (p[2].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n <= 0) {
				printf("released stdin=eof\n");
				break;
			}
		}
		if (p[1].revents & POLLIN) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n > 0) {
				dropped += (unsigned long long)n;
			} else if (n == 0) {
				peer_eof = true;
				printf("peer-eof dropped=%llu\n", dropped);
				fflush(stdout);
			} else if (errno != EAGAIN && errno != EINTR) {
				stream_die("hold: connection broke: recv: %s",
					   strerror(errno));
			}
		} else if (p[1].revents & (POLLERR | POLLHUP)) {
			int err = 0;

			len = sizeof(err);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			stream_die("hold: connection broke: %s",
				   err ? strerror(err) : "hang-up");
		}
	}
	close(fd);
	close(sfd);
	printf("ok\n");
	return EXIT_OK;
}

static void *watchdog(void *arg)
{
	const struct opts *o = arg;
	unsigned int i;
	char state[160];

	for (;;) {
		usleep(200 * 1000);
		if (now_ms() - atomic_load(&g_last_progress) <=
		    o->timeout_ms + WATCHDOG_GRACE_MS)
			continue;
		for (i = 0; i < o->conns; i++) {
			conn_describe(&g_conns[i], state, sizeof(state));
			fprintf(stderr, "%s: watchdog: conn %u: %s\n", progname,
				i, state);
		}
		printf("FAIL: watchdog: no progress for %d ms although every wait is limited to %d ms (a blocking call ignored SO_RCVTIMEO/SO_SNDTIMEO?)\n",
		       o->timeout_ms + WATCHDOG_GRACE_MS, o->timeout_ms);
		fflush(stdout);
		_exit(EXIT_FAIL);
	}
	return NULL;
}

/*
 * One line over every connection, failed ones included: what the program
 * moved, and what the inner TCP sockets carried (their tcp_info, summed
 * over those that had one).  No 'conn=' and no ' sent=': scripts count
 * and sum the per-connection lines by those.
 */
static void print_summary(const struct opts *o, struct conn *conns,
			  const char *role)
{
	unsigned long long sent = 0, recv = 0, acked = 0, rcvd = 0;
	unsigned int i, tcpi = 0, ok = 0;

	for (i = 0; i < o->conns; i++) {
		struct conn *c = &conns[i];

		sent += c->tx_off;
		recv += c->rx_off;
		ok += !conn_failed(c);
		if (!c->have_tcpi)
			continue;
		tcpi++;
		acked += c->tcpi_bytes_acked;
		rcvd += c->tcpi_bytes_received;
	}
	printf("summary role=%s conns=%u ok=%u total_sent=%llu total_recv=%llu tcpi_conns=%u tcpi_bytes_acked=%llu tcpi_bytes_received=%llu\n",
	       role, o->conns, ok, sent, recv, tcpi, acked, rcvd);
}

static void print_results(const struct opts *o, struct conn *conns)
{
	const char *role = o->role == ROLE_CLIENT ? "client" : "server";
	unsigned int i, failed = 0, first = 0;

	for (i = 0; i < o->conns; i++) {
		struct conn *c = &conns[i];
		char tx[SHA256_HEX_LEN], rx[SHA256_HEX_LEN];

		if (c->state == CS_IDLE)
			conn_fail(c, o->role == ROLE_CLIENT ?
				  "not started: an earlier connection failed" :
				  "never accepted");
		if (conn_failed(c)) {
			if (!failed++)
				first = i;
			printf("conn=%u role=%s FAIL: %s\n", i, role, c->err);
			continue;
		}
		sha256_hex(&c->sha_tx, tx);
		sha256_hex(&c->sha_rx, rx);
		printf("conn=%u role=%s sent=%llu recv=%llu sha_tx=%s sha_rx=%s proto=%d local=%s peer=%s",
		       i, role, (unsigned long long)c->tx_off,
		       (unsigned long long)c->rx_off, tx, rx, c->proto,
		       c->local, c->peer);
		if (c->have_tcpi)
			printf(" tcpi_bytes_acked=%llu tcpi_bytes_received=%llu\n",
			       (unsigned long long)c->tcpi_bytes_acked,
			       (unsigned long long)c->tcpi_bytes_received);
		else
			printf(" tcpi=none\n");
	}
	print_summary(o, conns, role);
	if (failed)
		printf("FAIL: %u of %u connections failed; first: conn %u: %s\n",
		       failed, o->conns, first, conns[first].err);
	else
		printf("ok\n");
}

int main(int argc, char **argv)
{
	const struct subcmd *sc;
	struct conn *conns;
	struct opts o;
	pthread_t wd;
	unsigned int i;
	int lfd = -1, rc = EXIT_OK;

	set_progname(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);	/* scripts wait for lines */
	signal(SIGPIPE, SIG_IGN);		/* writev() has no MSG_NOSIGNAL */
	sc = parse_args(argc, argv, &o);
	if (!strcmp(sc->name, "sockinfo"))
		return cmd_sockinfo(&o);
	if (!strcmp(sc->name, "hold"))
		return cmd_hold(&o);

	conns = xcalloc(o.conns, sizeof(*conns));
	for (i = 0; i < o.conns; i++)
		conn_init(&conns[i], &o, i);
	g_conns = conns;
	atomic_store(&g_last_progress, now_ms());
	if (pthread_create(&wd, NULL, watchdog, &o))
		stream_die("pthread_create(watchdog) failed");
	pthread_detach(wd);

	if (o.role == ROLE_SERVER) {
		lfd = stream_listen(&o, o.mode != MODE_BLOCK);
		announce_listening(&o, lfd);
	}
	if (o.mode == MODE_BLOCK)
		run_block(&o, conns, lfd);
	else
		run_evloop(&o, conns, lfd);
	if (lfd >= 0)
		close(lfd);

	print_results(&o, conns);
	for (i = 0; i < o.conns; i++) {
		if (conn_failed(&conns[i]))
			rc = EXIT_FAIL;
		conn_free(&conns[i]);
	}
	free(conns);
	return rc;
}
