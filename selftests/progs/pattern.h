/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The deterministic byte streams tsor_stream sends, and the small PRNG that
 * picks chunk sizes.
 *
 * Definition (so another tool can regenerate a stream):
 *   mix64(z)  = splitmix64 finaliser:
 *               z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
 *               z = (z ^ z>>27) * 0x94d049bb133111eb
 *               z ^ z>>31
 *   G         = 0x9e3779b97f4a7c15
 *   derive(seed, domain, conn, dir)
 *             = mix64(mix64(seed ^ domain) + G * (2*conn + dir + 1))
 *   key       = derive(seed, PATTERN_DOMAIN_STREAM, conn, dir)
 *   word i    = mix64(key + G * (i + 1))
 *   byte at offset o = byte (o % 8) of word (o / 8), least significant first
 * dir is 0 for client->server and 1 for server->client.  Because any byte
 * is computable from its offset alone, sender and receiver chunk freely.
 */
#ifndef TSOR_PROGS_PATTERN_H
#define TSOR_PROGS_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define PATTERN_DOMAIN_STREAM	0x53545245414d0001ULL	/* "STREAM" */
#define PATTERN_DOMAIN_SIZE	0x53495a4500000002ULL	/* "SIZE" */
#define PATTERN_DOMAIN_CHUNK	0x4348554e4b000003ULL	/* "CHUNK" */

enum pattern_dir {
	DIR_C2S = 0,
	DIR_S2C = 1,
};

#define CHUNK_MAX	65536

uint64_t mix64(uint64_t z);
uint64_t pattern_derive(uint64_t seed, uint64_t domain, unsigned int conn,
			enum pattern_dir dir);
void pattern_fill(uint64_t key, uint64_t off, uint8_t *buf, size_t len);

/* --random-sizes: uniform in 1..max for this connection and direction. */
uint64_t pattern_random_size(uint64_t seed, unsigned int conn,
			     enum pattern_dir dir, uint64_t max);

/* Sequential PRNG (splitmix64) for chunk sizes and I/O choices. */
struct rng {
	uint64_t state;
};

uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);	/* 0..n-1, n > 0 */
/*
 * 1..CHUNK_MAX, log-uniform: a uniform pick would make chunks below a few
 * hundred bytes vanishingly rare, and those are the interesting ones.
 */
size_t rng_chunk(struct rng *r);

#endif /* TSOR_PROGS_PATTERN_H */
