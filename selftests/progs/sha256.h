/* SPDX-License-Identifier: GPL-2.0 */
/* SHA-256 (FIPS 180-4), incremental; no library dependency. */
#ifndef TSOR_PROGS_SHA256_H
#define TSOR_PROGS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN	32
#define SHA256_HEX_LEN		(2 * SHA256_DIGEST_LEN + 1)

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	uint8_t buf[64];	/* partial block */
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_LEN]);
/* Finalises a copy, so @s can keep growing; writes lowercase hex. */
void sha256_hex(const struct sha256 *s, char out[SHA256_HEX_LEN]);

#endif /* TSOR_PROGS_SHA256_H */
