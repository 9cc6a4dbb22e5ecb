/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsor_stream internals shared by its parts:
 *   tsor_stream.c    command line, sub-commands, results, watchdog
 *   stream_conn.c    one connection: setup checks and the data path
 *   stream_block.c   -m block: two threads per connection
 *   stream_evloop.c  -m poll|epoll|epollet: one non-blocking event loop
 */
#ifndef TSOR_PROGS_STREAM_H
#define TSOR_PROGS_STREAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common.h"
#include "pattern.h"
#include "sha256.h"

enum io_mode {
	MODE_BLOCK,	/* blocking sockets, SO_RCVTIMEO/SO_SNDTIMEO */
	MODE_POLL,	/* non-blocking, poll() */
	MODE_EPOLL,	/* non-blocking, level-triggered epoll */
	MODE_EPOLLET,	/* non-blocking, edge-triggered epoll, drain to EAGAIN */
};

enum role {
	ROLE_CLIENT,
	ROLE_SERVER,
};

struct opts {
	enum role role;
	int family;			/* AF_INET or AF_INET6 (-6) */
	struct sockaddr_storage target;	/* client: where to connect */
	socklen_t target_len;
	struct sockaddr_storage bind;	/* server: listen here; client: source */
	socklen_t bind_len;
	bool have_bind;			/* -b given */
	uint16_t port;
	unsigned int conns;
	uint64_t bytes;
	bool random_sizes;
	uint64_t seed;
	enum io_mode mode;
	int timeout_ms;
	bool iov, peek, waitall;
	bool print_addrs, expect_ulp_refused, dual_stack;
	const char *ready_file;
	/* hold and sockinfo */
	bool listen, until_signal, udp;
	int proto;			/* sockinfo --proto, -1 = 0 */
};

enum conn_state {
	CS_IDLE,	/* not started */
	CS_CONNECTING,	/* non-blocking connect in flight */
	CS_ACTIVE,	/* established, data moving */
	CS_DONE,	/* closed, result final */
};

/* What one tx_step()/rx_step() call achieved. */
enum step {
	STEP_MORE,	/* moved bytes; call again */
	STEP_WAIT,	/* EAGAIN on a non-blocking socket */
	STEP_DONE,	/* direction finished (shutdown sent / EOF seen) */
	STEP_FAIL,	/* conn_fail() recorded why */
};

struct conn {
	const struct opts *o;
	unsigned int idx;
	int fd;
	enum conn_state state;
	bool blocking;
	/* Client: the first readable event proves the server accepted us. */
	bool gate_open;
	uint32_t ev_mask;		/* evloop: events registered (LT epoll) */

	/* Send side; only the tx thread touches it in block mode. */
	uint64_t tx_key, tx_len, tx_off;
	struct rng tx_rng;
	uint8_t *tx_buf;
	size_t tx_fill, tx_pos;		/* current chunk: generated, written */
	struct sha256 sha_tx;
	bool tx_done;

	/* Receive side; only the rx thread touches it in block mode. */
	uint64_t rx_key, rx_len, rx_off;
	struct rng rx_rng;
	uint8_t *rx_buf, *rx_expect, *rx_peek;
	struct sha256 sha_rx;
	bool rx_done;

	int proto;			/* SO_PROTOCOL */
	/*
	 * The inner TCP socket's own byte counts (TCP_INFO on a tsor socket
	 * answers for the TCP connection underneath), read just before close.
	 */
	bool have_tcpi;
	uint64_t tcpi_bytes_acked, tcpi_bytes_received;
	char local[ADDRSTR_LEN], peer[ADDRSTR_LEN];

	atomic_bool failed;
	char err[512];			/* first failure, under err_lock */
	atomic_llong last_progress;	/* now_ms() of the last progress */
	pthread_t tx_thread, rx_thread;
	bool threads;
};

/* now_ms() of the last progress anywhere; the watchdog reads it. */
extern atomic_llong g_last_progress;

void progress_touch(struct conn *c);

void conn_init(struct conn *c, const struct opts *o, unsigned int idx);
void conn_free(struct conn *c);

/* Records the first failure of @c and prints every one to stderr. */
__attribute__((format(printf, 2, 3)))
void conn_fail(struct conn *c, const char *fmt, ...);
static inline bool conn_failed(struct conn *c)
{
	return atomic_load(&c->failed);
}

/* "connecting" or "sent X/Y, received A/B ..." for timeout messages. */
void conn_describe(struct conn *c, char *buf, size_t len);

/*
 * The socket is connected: run the always-on socket checks, record the
 * addresses, set TCP_NODELAY, try TCP_ULP if asked.  @accepted_from is the
 * address accept() returned (server) or NULL (client).  Returns false if
 * the connection failed.
 */
bool conn_established(struct conn *c, const struct sockaddr *accepted_from);

/* Records the inner TCP's tcpi_bytes_acked/received; before close(). */
void conn_tcp_info(struct conn *c);

enum step tx_step(struct conn *c);
enum step rx_step(struct conn *c);

/* "FAIL: msg" on stdout (and stderr), exit 1: setup cannot go on. */
__attribute__((noreturn, format(printf, 1, 2)))
void stream_die(const char *fmt, ...);

/* Listening socket as the options say; stream_die() on failure. */
int stream_listen(const struct opts *o, bool nonblock);
/* Client socket, bound with -b; -1 after conn_fail() on failure. */
int stream_client_socket(struct conn *c, bool nonblock);

/* Engines: run every connection to completion. */
void run_block(const struct opts *o, struct conn *conns, int lfd);
void run_evloop(const struct opts *o, struct conn *conns, int lfd);

#endif /* TSOR_PROGS_STREAM_H */
