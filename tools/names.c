// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl: the names tsorctl prints for the uapi's enums, all in one place.
 */
#include <stdio.h>
#include <string.h>

#include <linux/tsor.h>

#include "names.h"
#include "tsorctl.h"

static const char *const feature_names[] = {
	"takeover",	/* TSOR_FEATURE_TAKEOVER */
	"ipv6",		/* TSOR_FEATURE_IPV6 */
	"rdma",		/* TSOR_FEATURE_RDMA */
	"shm",		/* TSOR_FEATURE_SHM */
	"peers",	/* TSOR_FEATURE_PEERS */
	"exclude",	/* TSOR_FEATURE_EXCLUDE */
};
_Static_assert(1u << (ARRAY_SIZE(feature_names) - 1) == TSOR_FEATURE_EXCLUDE,
	       "name every enum tsor_feature bit here");

static const char *const path_names[] = {
	[TSOR_PATH_TCP]		= "tcp",
	[TSOR_PATH_RDMA]	= "rdma",
	[TSOR_PATH_SHM]		= "shm",
};

static const char *const fallback_names[] = {
	[TSOR_FALLBACK_NONE]		= "none",
	[TSOR_FALLBACK_PEER_UNKNOWN]	= "peer-unknown",
	[TSOR_FALLBACK_PEER_DISABLED]	= "peer-disabled",
	[TSOR_FALLBACK_PEER_NO_TSOR]	= "peer-no-tsor",
	[TSOR_FALLBACK_NO_DEVICE]	= "no-device",
	[TSOR_FALLBACK_REFUSED]		= "refused",
	[TSOR_FALLBACK_TIMEOUT]		= "timeout",
	[TSOR_FALLBACK_LINK_DOWN]	= "link-down",
	[TSOR_FALLBACK_NOMEM]		= "nomem",
	[TSOR_FALLBACK_SOCKOPT]		= "sockopt",
	[TSOR_FALLBACK_EXCLUDED]	= "excluded",
	[TSOR_FALLBACK_LINK_FULL]	= "link-full",
	[TSOR_FALLBACK_RESUMED]		= "resumed",
};
_Static_assert(ARRAY_SIZE(fallback_names) == __TSOR_FALLBACK_MAX,
	       "name every enum tsor_fallback value here");

static const char *const link_state_names[] = {
	[TSOR_LINK_CONNECTING]	= "connecting",
	[TSOR_LINK_UP]		= "up",
	[TSOR_LINK_DOWN]	= "down",
};

static const char *const local_path_names[] = {
	[TSOR_LOCAL_PATH_SHM]	= "shm",
	[TSOR_LOCAL_PATH_RDMA]	= "rdma",
};

/* @val's name, or its number: a few buffers so one printf can use several. */
static const char *lookup(const char *const *names, size_t n, uint64_t val)
{
	static char unknown[4][24];
	static unsigned int next;
	char *buf;

	if (val < n && names[val])
		return names[val];
	buf = unknown[next++ % ARRAY_SIZE(unknown)];
	snprintf(buf, sizeof(unknown[0]), "%llu", (unsigned long long)val);
	return buf;
}

#define LOOKUP(names, val)	lookup(names, ARRAY_SIZE(names), val)

const char *feature_name(unsigned int bit)
{
	return bit < ARRAY_SIZE(feature_names) ? feature_names[bit] : NULL;
}

const char *path_name(uint64_t path)
{
	return LOOKUP(path_names, path);
}

const char *fallback_name(uint64_t reason)
{
	return LOOKUP(fallback_names, reason);
}

const char *link_state_name(uint64_t state)
{
	return LOOKUP(link_state_names, state);
}

const char *local_path_name(uint64_t path)
{
	return LOOKUP(local_path_names, path);
}

bool local_path_parse(const char *name, uint8_t *path)
{
	uint8_t i;

	for (i = 0; i < ARRAY_SIZE(local_path_names); i++) {
		if (local_path_names[i] && !strcmp(name, local_path_names[i])) {
			*path = i;
			return true;
		}
	}
	return false;
}
