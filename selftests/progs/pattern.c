// SPDX-License-Identifier: GPL-2.0
/* Deterministic test streams; the definition is spelled out in pattern.h. */
#include "pattern.h"

#define GOLDEN	0x9e3779b97f4a7c15ULL

uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t pattern_derive(uint64_t seed, uint64_t domain, unsigned int conn,
			enum pattern_dir dir)
{
	return mix64(mix64(seed ^ domain) +
		     GOLDEN * (2 * (uint64_t)conn + (uint64_t)dir + 1));
}

static inline uint64_t pattern_word(uint64_t key, uint64_t i)
{
	return mix64(key + GOLDEN * (i + 1));
}

void pattern_fill(uint64_t key, uint64_t off, uint8_t *buf, size_t len)
{
	uint64_t w = off / 8;
	unsigned int b = off % 8;

	while (len) {
		uint64_t v = pattern_word(key, w++) >> (8 * b);

		/* Whole words are the common case; a partial first or last word
		 * just stops early. */
		for (; b < 8 && len; b++, len--) {
			*buf++ = (uint8_t)v;
			v >>= 8;
		}
		b = 0;
	}
}

uint64_t pattern_random_size(uint64_t seed, unsigned int conn,
			     enum pattern_dir dir, uint64_t max)
{
	uint64_t r = mix64(pattern_derive(seed, PATTERN_DOMAIN_SIZE, conn, dir));

	return max ? 1 + r % max : 0;
}

uint64_t rng_next(struct rng *r)
{
	r->state += GOLDEN;
	return mix64(r->state);
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

size_t rng_chunk(struct rng *r)
{
	/* 2^0 .. 2^16: CHUNK_MAX is 2^16. */
	unsigned int bits = (unsigned int)rng_below(r, 17);

	return 1 + (size_t)rng_below(r, (uint64_t)1 << bits);
}
