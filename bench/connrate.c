// SPDX-License-Identifier: GPL-2.0
/*
 * connrate: connection setup rate, as connect + accept + close per second.
 *
 *   connrate server [-4|-6] [-a ADDR] -p PORT
 *   connrate client [-4|-6] -a ADDR -p PORT [-t SECONDS]
 *
 * The server accepts and closes each connection at once.  The client
 * connects, waits for the server's close (read() returns 0: the server
 * accepted it), closes, and starts the next one, one connection at a time,
 * for SECONDS (default 5).  It prints one line:
 *
 *   connrate conns=N seconds=S rate=R errors=E
 *
 * and exits 0 if at least one connection completed.  The server runs until
 * it is killed.  Plain socket(AF_INET/AF_INET6, SOCK_STREAM, 0): whatever
 * the namespace, tsor or a preload library makes of it is what is measured.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct opts {
	int family;
	const char *addr;
	unsigned short port;
	double seconds;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: connrate server [-4|-6] [-a ADDR] -p PORT\n"
		"       connrate client [-4|-6] -a ADDR -p PORT [-t SECONDS]\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static socklen_t make_addr(const struct opts *o, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (o->family == AF_INET6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(o->port);
		sin6->sin6_addr = in6addr_any;
		if (o->addr && inet_pton(AF_INET6, o->addr, &sin6->sin6_addr) != 1)
			return 0;
		return sizeof(*sin6);
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(o->port);
	sin->sin_addr.s_addr = htonl(INADDR_ANY);
	if (o->addr && inet_pton(AF_INET, o->addr, &sin->sin_addr) != 1)
		return 0;
	return sizeof(*sin);
}

static int run_server(const struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(o, &ss);
	int one = 1;
	int fd;

	if (!len) {
		fprintf(stderr, "connrate: bad address %s\n", o->addr);
		return 2;
	}
	fd = socket(o->family, SOCK_STREAM, 0);
	if (fd < 0) {
		perror("connrate: socket");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
		perror("connrate: bind/listen");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			perror("connrate: accept");
			return 1;
		}
		close(c);
	}
}

/* One connection: connect, wait for the server's close, close.  0 or -1. */
static int one_conn(const struct opts *o, const struct sockaddr_storage *ss,
		    socklen_t len)
{
	char buf[64];
	ssize_t n;
	int fd, err;

	fd = socket(o->family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)ss, len) < 0) {
		close(fd);
		return -1;
	}
	do {
		n = read(fd, buf, sizeof(buf));
	} while (n > 0 || (n < 0 && errno == EINTR));
	err = n < 0 ? errno : 0;
	close(fd);
	/* A reset instead of a FIN still completed the cycle. */
	return (n == 0 || err == ECONNRESET) ? 0 : -1;
}

static int run_client(const struct opts *o)
{
	unsigned long conns = 0, errors = 0;
	struct sockaddr_storage ss;
	socklen_t len = make_addr(o, &ss);
	double start, end, t = 0;

	if (!len || !o->addr) {
		fprintf(stderr, "connrate: client needs a valid -a ADDR\n");
		return 2;
	}
	start = now();
	end = start + o->seconds;
	do {
		if (one_conn(o, &ss, len) == 0)
			conns++;
		else if (++errors > 1000 && !conns)
			break;
		t = now();
	} while (t < end);
	t -= start;
	printf("connrate conns=%lu seconds=%.3f rate=%.1f errors=%lu\n",
	       conns, t, conns / t, errors);
	return conns ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o = { .family = AF_INET, .seconds = 5 };
	int server, c;

	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "server"))
		server = 1;
	else if (!strcmp(argv[1], "client"))
		server = 0;
	else
		usage();
	optind = 2;
	while ((c = getopt(argc, argv, "46a:p:t:")) != -1) {
		switch (c) {
		case '4':
			o.family = AF_INET;
			break;
		case '6':
			o.family = AF_INET6;
			break;
		case 'a':
			o.addr = optarg;
			break;
		case 'p':
			o.port = (unsigned short)atoi(optarg);
			break;
		case 't':
			o.seconds = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (!o.port || o.seconds <= 0)
		usage();
	return server ? run_server(&o) : run_client(&o);
}
