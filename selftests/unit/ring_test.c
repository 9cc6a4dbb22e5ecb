// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of kmod/ring.h, the channel's ring and credit arithmetic, in
 * user space: edge cases by hand, then a randomised sender and receiver
 * moving a checked byte stream through rings of many sizes, with cursors
 * starting just below the u32 wrap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t u32;
#include "../../kmod/ring.h"

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

static void test_spans(void)
{
	struct tsor_span s[2];

	CHECK(tsor_ring_spans(16, 0, 0, s) == 0, "empty transfer");
	CHECK(tsor_ring_spans(16, 3, 5, s) == 1 && s[0].off == 3 &&
	      s[0].len == 5, "inside the ring");
	CHECK(tsor_ring_spans(16, 12, 4, s) == 1 && s[0].len == 4,
	      "ends exactly at the end");
	CHECK(tsor_ring_spans(16, 14, 6, s) == 2 && s[0].off == 14 &&
	      s[0].len == 2 && s[1].off == 0 && s[1].len == 4, "wraps");
	CHECK(tsor_ring_spans(16, 0xfffffffe, 4, s) == 2 && s[0].off == 14 &&
	      s[1].len == 2, "cursor wraps u32 too");
}

static void test_protocol_errors(void)
{
	struct tsor_ring_tx tx = { .size = 64, .prod = 0xfffffff0,
				   .cons = 0xfffffff0 };
	struct tsor_ring_rx rx = { .size = 64 };
	struct tsor_span s[2];

	CHECK(tsor_tx_claim(&tx, 100, s) == 64, "claim is capped by space");
	CHECK(tsor_tx_space(&tx) == 0, "ring is full");
	CHECK(tsor_tx_claim(&tx, 1, s) == 0, "nothing more fits");
	CHECK(!tsor_tx_credit(&tx, tx.prod + 1), "credit past prod refused");
	CHECK(!tsor_tx_credit(&tx, tx.cons - 1), "credit backwards refused");
	CHECK(tsor_tx_credit(&tx, tx.cons + 10), "credit across the wrap");
	CHECK(tsor_tx_space(&tx) == 10, "space follows credit");
	CHECK(tsor_tx_credit(&tx, tx.cons), "repeated credit is harmless");

	CHECK(tsor_rx_produced(&rx, 64), "a full ring's worth is fine");
	CHECK(!tsor_rx_produced(&rx, 1), "overrun detected");
	CHECK(rx.prod == 64, "a refused write changes nothing");
	tsor_rx_consume(&rx, 31);
	CHECK(!tsor_rx_announce(&rx), "under half freed: no announcement");
	tsor_rx_consume(&rx, 1);
	CHECK(tsor_rx_announce(&rx) && rx.announced == 32, "half freed");
	CHECK(!tsor_rx_announce(&rx), "announced once");
}

static uint64_t rng;

static u32 rnd(u32 n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (u32)(rng % n) : 0;
}

static unsigned char stream_byte(uint64_t i)
{
	return (unsigned char)(i * 2654435761u >> 13);
}

/* Moves @total bytes through a ring of @size with random chunking. */
static void simulate(u32 size, uint64_t total, u32 start)
{
	struct tsor_ring_tx tx = { .size = size, .prod = start, .cons = start };
	struct tsor_ring_rx rx = { .size = size, .prod = start, .cons = start,
				   .announced = start };
	unsigned char *mem = calloc(size, 1);
	uint64_t sent = 0, rcvd = 0, inflight = 0, announcements = 0;
	struct tsor_span s[2];
	int i, n;

	while (rcvd < total) {
		/* Sender: write what its credits allow. */
		u32 want = rnd(size + size / 2) + 1, got;

		if (want > total - sent)
			want = (u32)(total - sent);
		got = tsor_tx_claim(&tx, want, s);
		CHECK(got <= size - inflight, "claim beyond free space");
		for (i = 0; i < 2; i++)
			for (u32 k = 0; k < s[i].len; k++)
				mem[s[i].off + k] = stream_byte(sent++);
		/* The write lands (completions may be merged or split). */
		if (got) {
			CHECK(tsor_rx_produced(&rx, got), "valid write refused");
			inflight += got;
		}
		/* Receiver: read a random amount, check every byte. */
		n = (int)tsor_rx_peek(&rx, rnd(size) + 1, s);
		for (i = 0; i < 2; i++)
			for (u32 k = 0; k < s[i].len; k++, rcvd++)
				if (mem[s[i].off + k] != stream_byte(rcvd)) {
					CHECK(0, "byte %llu wrong (ring %u)",
					      (unsigned long long)rcvd, size);
					free(mem);
					return;
				}
		tsor_rx_consume(&rx, (u32)n);
		inflight -= (u32)n;
		/* Poison what was read, so a stale read would show. */
		for (i = 0; i < 2; i++)
			memset(mem + s[i].off, 0xa5, s[i].len);
		if (tsor_rx_announce(&rx)) {
			announcements++;
			CHECK(tsor_tx_credit(&tx, rx.announced), "valid credit refused");
		}
		CHECK(tsor_tx_space(&tx) + inflight + (rx.cons - rx.announced) == size,
		      "credit accounting drifted");
		/* A full ring with nothing left to read would be a deadlock. */
		CHECK(!(tsor_tx_space(&tx) == 0 && tsor_rx_avail(&rx) == 0),
		      "deadlock at ring %u", size);
		if (tsor_tx_space(&tx) == 0 && tsor_rx_avail(&rx) == 0)
			break;
	}
	CHECK(rcvd == total, "received %llu of %llu", (unsigned long long)rcvd,
	      (unsigned long long)total);
	CHECK(announcements <= 2 * total / size + 1,
	      "%llu announcements for %llu bytes in a ring of %u",
	      (unsigned long long)announcements, (unsigned long long)total, size);
	free(mem);
}

int main(int argc, char **argv)
{
	u32 size;
	int round;

	rng = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x9e3779b97f4a7c15ull;
	test_spans();
	test_protocol_errors();
	for (size = 16; size <= 1 << 16; size <<= 1)
		for (round = 0; round < 8; round++)
			simulate(size, (uint64_t)size * (rnd(20) + 3) + rnd(size),
				 round & 1 ? 0u - rnd(3 * size) : rnd(size));
	printf("ring_test: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
