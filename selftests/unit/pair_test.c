// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of kmod/pair.h: the pairing proof, the client's pairing state
 * machine and the byte-exact switch point, including sequence numbers
 * that wrap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint8_t u8;
typedef uint32_t u32;
#include <linux/tsor.h>
#include "../../kmod/pair.h"

static int failures;

#define CHECK(cond, what) do {						\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__,	\
			#cond, what);					\
	}								\
} while (0)

static void test_seq(void)
{
	CHECK(tsor_seq_before(0xfffffff0u, 0x10), "before across the wrap");
	CHECK(!tsor_seq_before(0x10, 0xfffffff0u), "not after across the wrap");
	CHECK(tsor_seq_between(5, 0xfffffffeu, 10), "inside a wrapping window");
	CHECK(tsor_seq_between(0xfffffffeu, 0xfffffffeu, 10), "window start");
	CHECK(tsor_seq_between(10, 0xfffffffeu, 10), "window end");
	CHECK(!tsor_seq_between(11, 0xfffffffeu, 10), "past the window");
	CHECK(!tsor_seq_between(0xfffffffdu, 0xfffffffeu, 10), "before it");
}

static void test_proof(void)
{
	/* Server sent 100 bytes from ISN 0xffffffc0. */
	struct tsor_pair_tcp srv = {
		.snd_isn1 = 0xffffffc1u,
		.snd_nxt = 0xffffffc1u + 100,
		.rcv_nxt = 0x12345679u,
	};
	struct tsor_pair_proof req = { .snd_nxt = 0x12345679u,
				       .rcv_nxt = 0xffffffc1u + 70 };
	unsigned long guessed = 0;
	int i;

	CHECK(tsor_pair_proof_ok(&req, &srv), "the real client is accepted");
	req.rcv_nxt = srv.snd_isn1;
	CHECK(tsor_pair_proof_ok(&req, &srv), "client that read nothing yet");
	req.rcv_nxt = srv.snd_nxt;
	CHECK(tsor_pair_proof_ok(&req, &srv), "client that read everything");
	req.rcv_nxt = srv.snd_nxt + 1;
	CHECK(!tsor_pair_proof_ok(&req, &srv), "received more than was sent");
	req.rcv_nxt = srv.snd_isn1 - 1;
	CHECK(!tsor_pair_proof_ok(&req, &srv), "before the first byte");
	req.rcv_nxt = srv.snd_isn1;
	req.snd_nxt = srv.rcv_nxt + 1;
	CHECK(!tsor_pair_proof_ok(&req, &srv), "client claims to have sent");

	/* A node that guesses sequence numbers: 2^20 tries, none may pass. */
	srand(42);
	for (i = 0; i < 1 << 20; i++) {
		req.snd_nxt = (u32)rand() << 16 ^ (u32)rand();
		req.rcv_nxt = (u32)rand() << 16 ^ (u32)rand();
		guessed += tsor_pair_proof_ok(&req, &srv);
	}
	CHECK(guessed == 0, "a random guess was accepted");
}

static struct tsor_pair run(enum tsor_pair_event ev1, enum tsor_fallback r1,
			    enum tsor_pair_event ev2, enum tsor_fallback r2)
{
	struct tsor_pair p = { TSOR_PAIR_IDLE, TSOR_FALLBACK_NONE };

	tsor_pair_step(&p, ev1, r1);
	tsor_pair_step(&p, ev2, r2);
	return p;
}

static void test_states(void)
{
	struct tsor_pair p = { TSOR_PAIR_IDLE, TSOR_FALLBACK_NONE };

	CHECK(!tsor_pair_settled(&p), "idle is not settled");
	CHECK(!tsor_pair_step(&p, TSOR_PAIR_EV_ACK, 0), "ACK before a request");
	CHECK(p.state == TSOR_PAIR_IDLE, "and it changed nothing");

	p = run(TSOR_PAIR_EV_ESTABLISHED, TSOR_FALLBACK_PEER_UNKNOWN, 0, 0);
	CHECK(p.state == TSOR_PAIR_TCP && p.reason == TSOR_FALLBACK_PEER_UNKNOWN,
	      "unknown peer: plain TCP at once");
	CHECK(tsor_pair_settled(&p), "and connect() may return");

	p = run(TSOR_PAIR_EV_ESTABLISHED, TSOR_FALLBACK_NONE,
		TSOR_PAIR_EV_ACK, 0);
	CHECK(p.state == TSOR_PAIR_PAIRED, "ACK pairs");
	CHECK(!tsor_pair_step(&p, TSOR_PAIR_EV_TIMEOUT, 0) &&
	      p.state == TSOR_PAIR_PAIRED, "a late timeout is ignored");

	p = run(TSOR_PAIR_EV_ESTABLISHED, TSOR_FALLBACK_NONE,
		TSOR_PAIR_EV_NAK, TSOR_FALLBACK_PEER_DISABLED);
	CHECK(p.state == TSOR_PAIR_TCP && p.reason == TSOR_FALLBACK_PEER_DISABLED,
	      "NAK keeps the peer's reason");
	p = run(TSOR_PAIR_EV_ESTABLISHED, TSOR_FALLBACK_NONE,
		TSOR_PAIR_EV_NAK, TSOR_FALLBACK_NONE);
	CHECK(p.reason == TSOR_FALLBACK_REFUSED, "NAK without reason: refused");
	CHECK(!tsor_pair_step(&p, TSOR_PAIR_EV_ACK, 0) &&
	      p.state == TSOR_PAIR_TCP, "an ACK after falling back is ignored");

	p = run(TSOR_PAIR_EV_ESTABLISHED, TSOR_FALLBACK_NONE,
		TSOR_PAIR_EV_TIMEOUT, 0);
	CHECK(p.reason == TSOR_FALLBACK_TIMEOUT, "timeout");
	p = run(TSOR_PAIR_EV_ESTABLISHED, TSOR_FALLBACK_NONE,
		TSOR_PAIR_EV_LINK_DOWN, 0);
	CHECK(p.reason == TSOR_FALLBACK_LINK_DOWN, "link down");
	p = run(TSOR_PAIR_EV_ESTABLISHED, TSOR_FALLBACK_NONE,
		TSOR_PAIR_EV_ESTABLISHED, TSOR_FALLBACK_NONE);
	CHECK(p.state == TSOR_PAIR_WAITING, "a second ESTABLISHED is ignored");
}

static void test_switch(void)
{
	CHECK(tsor_pair_tcp_left(100, 100) == 0, "nothing left on TCP");
	CHECK(tsor_pair_tcp_left(90, 100) == 10, "ten bytes left on TCP");
	CHECK(tsor_pair_tcp_left(0xfffffffbu, 5) == 10, "left across the wrap");
	CHECK(tsor_pair_tcp_left(101, 100) == 0, "never negative");
}

int main(void)
{
	test_seq();
	test_proof();
	test_states();
	test_switch();
	printf("pair_test: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
