/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The plugin's side of the CNI protocol (spec 1.0.0): the environment,
 * the network configuration on stdin, and what goes to stdout.
 */
#ifndef TSOR_CNI_H
#define TSOR_CNI_H

#include <stdbool.h>

#include <jansson.h>

/* The spec's well-known error codes; plugins own 100 and up. */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION	= 1,
	CNI_ERR_UNSUPPORTED_FIELD	= 2,	/* msg names key and value */
	CNI_ERR_UNKNOWN_CONTAINER	= 3,	/* no cleanup needed */
	CNI_ERR_INVALID_ENV		= 4,	/* msg names the variables */
	CNI_ERR_IO			= 5,
	CNI_ERR_DECODE			= 6,
	CNI_ERR_INVALID_CONFIG		= 7,
	CNI_ERR_TRY_AGAIN		= 11,
	CNI_ERR_GENERIC			= 999,
};

enum cni_command {
	CNI_ADD,
	CNI_DEL,
	CNI_CHECK,
	CNI_VERSION,
};

/* One invocation.  The strings point into the environment. */
struct cni_args {
	enum cni_command cmd;
	const char *container_id;
	const char *netns;	/* NULL if not given, which only DEL allows */
	const char *ifname;
	const char *path;
	json_t *conf;		/* the configuration object (owned) */
	const char *version;	/* its cniVersion, a supported one */
	json_t *prev_result;	/* its prevResult object, or NULL */
};

/*
 * Reads and checks CNI_* and, except for VERSION, the configuration on
 * stdin: cniVersion, name, type and prevResult, not the plugin's own
 * keys.  0, after which cni_args_free() must follow; else the exit
 * status, the CNI error printed.
 */
int cni_args_load(struct cni_args *a);
void cni_args_free(struct cni_args *a);

/* VERSION's answer; returns the exit status. */
int cni_print_versions(void);

/* An ADD result on stdout; returns the exit status. */
int cni_print_result(const json_t *result);

/*
 * Prints the error JSON, with details from @fmt if not NULL, on stdout;
 * returns the exit status to end with.
 */
/* CHECK exists from spec 0.4.0 on. */
bool cni_version_has_check(const char *version);

int cni_error(unsigned int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* TSOR_CNI_H */
