// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl: messages, argument parsing, addresses and netns names.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "tsorctl.h"
#include "utils.h"

#define NETNS_RUN_DIR	"/run/netns"
#define NETNS_SELF	"/proc/self/ns/net"

static void verrorf(const char *fmt, va_list ap)
{
	fputs("tsorctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void errorf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(fmt, ap);
	va_end(ap);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(fmt, ap);
	va_end(ap);
	return RC_USAGE;
}

int match_word(const char *word, const void *table, size_t n, size_t size)
{
	size_t wlen = strlen(word);
	int found = -1;
	size_t i;

	if (!wlen)
		return -1;
	for (i = 0; i < n; i++) {
		const char *name = *(const char *const *)
				   ((const char *)table + i * size);

		if (!strcmp(word, name))
			return (int)i;
		if (!strncmp(word, name, wlen))
			found = found == -1 ? (int)i : -2;
	}
	return found;
}

bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			return false;
	}
	if (v < min)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool inaddr_parse(const char *s, struct inaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->bytes) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a->bytes) == 1) {
		a->family = AF_INET6;
		return true;
	}
	return false;
}

const char *inaddr_ntop(const struct inaddr *a, char *buf)
{
	if (!inet_ntop(a->family, a->bytes, buf, INET6_ADDRSTRLEN))
		snprintf(buf, INET6_ADDRSTRLEN, "?");
	return buf;
}

const char *inaddr_port_ntop(const struct inaddr *a, unsigned int port,
			     char *buf)
{
	char addr[INET6_ADDRSTRLEN];

	inaddr_ntop(a, addr);
	snprintf(buf, ADDR_STRLEN, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 addr, (uint16_t)port);
	return buf;
}

bool inaddr_from_attr(const struct nlattr *attr, struct inaddr *a)
{
	uint16_t len = mnl_attr_get_payload_len(attr);

	memset(a, 0, sizeof(*a));
	if (len != 4 && len != 16)
		return false;
	a->family = len == 4 ? AF_INET : AF_INET6;
	memcpy(a->bytes, mnl_attr_get_payload(attr), len);
	return true;
}

/* Clears the bits past @len; true if any was set. */
static bool prefix_clear_host_bits(struct prefix *p)
{
	unsigned int nbytes = inaddr_len(&p->addr), i;
	bool had = false;

	for (i = 0; i < nbytes; i++) {
		unsigned int keep = p->len > i * 8 ? p->len - i * 8 : 0;
		unsigned char mask = keep >= 8 ? 0xff : (unsigned char)(0xff00 >> keep);

		if (p->addr.bytes[i] & ~mask)
			had = true;
		p->addr.bytes[i] &= mask;
	}
	return had;
}

bool prefix_parse(const char *s, struct prefix *p, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int max;
	uint32_t len;
	char fixed[ADDR_STRLEN];

	if (alen >= sizeof(addr))
		goto bad_addr;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (!inaddr_parse(addr, &p->addr))
		goto bad_addr;
	max = inaddr_len(&p->addr) * 8;
	if (!slash)
		len = max;
	else if (!parse_u32(slash + 1, 0, max, &len)) {
		snprintf(err, errlen, "%s: bad prefix length (want 0 to %u)",
			 s, max);
		return false;
	}
	p->len = len;
	if (prefix_clear_host_bits(p)) {
		snprintf(err, errlen, "%s: host bits set (did you mean %s?)",
			 s, prefix_ntop(p, fixed));
		return false;
	}
	return true;

bad_addr:
	snprintf(err, errlen, "%s: not an IPv4 or IPv6 CIDR", s);
	return false;
}

const char *prefix_ntop(const struct prefix *p, char *buf)
{
	char addr[INET6_ADDRSTRLEN];

	snprintf(buf, ADDR_STRLEN, "%s/%u", inaddr_ntop(&p->addr, addr),
		 (uint8_t)p->len);
	return buf;
}

int netns_open(const char *name)
{
	char path[PATH_MAX];

	if (strchr(name, '/'))
		return open(name, O_RDONLY | O_CLOEXEC);
	/* Names, like ip-netns(8)'s, must not climb out of the directory. */
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
		errno = ENOENT;
		return -1;
	}
	if (snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_RDONLY | O_CLOEXEC);
}

struct netns_entry {
	char *name;
	ino_t ino;
};

static struct {
	bool loaded;
	dev_t nsfs_dev;		/* every netns inode lives on nsfs */
	ino_t self;
	struct netns_entry *v;
	size_t n;
} netns_cache;

static int netns_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct netns_entry *)a)->name,
		      ((const struct netns_entry *)b)->name);
}

/* Stats every /run/netns name once; a namespace may have several names. */
static void netns_cache_load(void)
{
	struct dirent *de;
	struct stat st;
	DIR *dir;

	if (netns_cache.loaded)
		return;
	netns_cache.loaded = true;
	if (stat(NETNS_SELF, &st))
		return;
	netns_cache.nsfs_dev = st.st_dev;
	netns_cache.self = st.st_ino;

	dir = opendir(NETNS_RUN_DIR);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		struct netns_entry *v;
		char *name;

		if (de->d_name[0] == '.')
			continue;
		/* An unmounted leftover file is on tmpfs, not nsfs: skip it. */
		if (fstatat(dirfd(dir), de->d_name, &st, 0) ||
		    st.st_dev != netns_cache.nsfs_dev)
			continue;
		v = realloc(netns_cache.v, (netns_cache.n + 1) * sizeof(*v));
		if (!v)
			break;
		netns_cache.v = v;
		name = strdup(de->d_name);
		if (!name)
			break;
		v[netns_cache.n].name = name;
		v[netns_cache.n].ino = st.st_ino;
		netns_cache.n++;
	}
	closedir(dir);
	/* Sorted, so a netns with two names always shows the same one. */
	if (netns_cache.n)
		qsort(netns_cache.v, netns_cache.n, sizeof(*netns_cache.v),
		      netns_entry_cmp);
}

const char *netns_name(uint32_t inum)
{
	size_t i;

	netns_cache_load();
	for (i = 0; i < netns_cache.n; i++)
		if (netns_cache.v[i].ino == inum)
			return netns_cache.v[i].name;
	return NULL;
}

uint32_t netns_self_inum(void)
{
	netns_cache_load();
	return (uint32_t)netns_cache.self;
}
