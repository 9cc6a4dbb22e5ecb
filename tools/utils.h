/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: messages, argument parsing, addresses and netns names.
 */
#ifndef TSORCTL_UTILS_H
#define TSORCTL_UTILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct nlattr;

/* "tsorctl: ..." on stderr. */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* errorf(), then RC_USAGE: for callers to return. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Index of @word in a table of @n entries of @size bytes, each starting
 * with its name: an exact match, else the one name @word is a prefix of.
 * -1 if none matches, -2 if @word is a prefix of several.
 */
int match_word(const char *word, const void *table, size_t n, size_t size);

/* Decimal only, no sign, no spaces; false if not in [min, max]. */
bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* An IPv4 or IPv6 address. */
struct inaddr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char bytes[16];
};

struct prefix {
	struct inaddr addr;
	unsigned int len;
};

static inline unsigned int inaddr_len(const struct inaddr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

/* Room for the text of an address, with a port or prefix length. */
#define ADDR_STRLEN	(INET6_ADDRSTRLEN + 8)

bool inaddr_parse(const char *s, struct inaddr *a);
/* Each @buf holds at least ADDR_STRLEN bytes. */
const char *inaddr_ntop(const struct inaddr *a, char *buf);
/* Address then port; IPv6 in brackets like ss(8). */
const char *inaddr_port_ntop(const struct inaddr *a, unsigned int port,
			     char *buf);
/* From a 4- or 16-byte attribute; false for any other length. */
bool inaddr_from_attr(const struct nlattr *attr, struct inaddr *a);

/*
 * ADDR/LEN, or a bare ADDR meaning a host prefix.  On error, writes why
 * (naming @s) to @err and returns false.
 */
bool prefix_parse(const char *s, struct prefix *p, char *err, size_t errlen);
const char *prefix_ntop(const struct prefix *p, char *buf);

/*
 * Opens a network namespace file: an "ip netns" NAME under /run/netns,
 * or a PATH if @name holds a slash.  -1 with errno set on failure.
 */
int netns_open(const char *name);
/* The "ip netns" name of the netns with inode @inum, or NULL. */
const char *netns_name(uint32_t inum);
/* Inode number of the caller's own netns, 0 if unknown. */
uint32_t netns_self_inum(void);

#endif /* TSORCTL_UTILS_H */
