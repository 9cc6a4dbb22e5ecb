// SPDX-License-Identifier: GPL-2.0
/*
 * The plugin's side of the CNI protocol (spec 1.0.0).
 *
 * Checks follow the reference implementation (libcni's skel), so a
 * runtime sees the codes it sees from the reference plugins: CNI_* first
 * (4), then stdin (5 when unreadable, 6 when not a JSON object), then
 * cniVersion (1), then the other fields (7).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "cni.h"

/*
 * Oldest first.  0.3.x is what flannel's and calico's own configs say, and
 * the plugin needs nothing version-specific from them; those versions
 * have no CHECK (cni_version_has_check()).
 */
static const char *const cni_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0" };
#define N_VERSIONS	(sizeof(cni_versions) / sizeof(*cni_versions))
#define CNI_NEWEST	"1.0.0"

/* A configuration larger than this is not one. */
#define CNI_CONF_MAX	(16u << 20)

/* Errors carry the configuration's version once it is known good. */
static const char *out_version = CNI_NEWEST;

/* Our own copy of @version (which outlives the configuration), or NULL. */
static const char *supported(const char *version)
{
	size_t i;

	for (i = 0; i < N_VERSIONS; i++)
		if (!strcmp(version, cni_versions[i]))
			return cni_versions[i];
	return NULL;
}

bool cni_version_has_check(const char *version)
{
	return strncmp(version, "0.3.", 4) != 0;
}

/* ["0.3.0" ... "1.0.0"], as the reference plugins list them in errors. */
static const char *versions_text(char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < N_VERSIONS && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s\"%s\"",
				      i ? " " : "[", cni_versions[i]);
	if (n < len)
		snprintf(buf + n, len - n, "]");
	return buf;
}

/* Output */

/* One JSON document and a newline on stdout; returns the exit status. */
static int print_json(const json_t *doc)
{
	if (json_dumpf(doc, stdout, JSON_COMPACT) || fputc('\n', stdout) == EOF ||
	    fflush(stdout)) {
		fprintf(stderr, "tsor: cannot write the answer: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * A JSON string of @s, which may quote what the runtime passed: JSON
 * wants UTF-8, so anything else has its non-ASCII bytes turned into '?'.
 */
static json_t *utf8_string(char *s)
{
	json_t *v = json_string(s);
	char *p;

	if (v)
		return v;
	for (p = s; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	return json_string(s);
}

int cni_error(unsigned int code, const char *msg, const char *fmt, ...)
{
	char details[1024];
	json_t *err;
	va_list ap;

	err = json_pack("{s:s, s:I, s:s}", "cniVersion", out_version,
			"code", (json_int_t)code, "msg", msg);
	if (err && fmt) {
		va_start(ap, fmt);
		vsnprintf(details, sizeof(details), fmt, ap);
		va_end(ap);
		json_object_set_new(err, "details", utf8_string(details));
	}
	if (!err) {
		fputs("{\"code\":999,\"msg\":\"out of memory\"}\n", stdout);
		return 1;
	}
	print_json(err);
	json_decref(err);
	return 1;
}

int cni_print_versions(void)
{
	json_t *v, *list = json_array();
	size_t i;
	int rc;

	for (i = 0; list && i < N_VERSIONS; i++)
		json_array_append_new(list, json_string(cni_versions[i]));
	v = json_pack("{s:s, s:o}", "cniVersion", CNI_NEWEST,
		      "supportedVersions", list);
	if (!v)
		return cni_error(CNI_ERR_GENERIC, "out of memory", NULL);
	rc = print_json(v);
	json_decref(v);
	return rc;
}

int cni_print_result(const json_t *result)
{
	return print_json(result);
}

/* Environment */

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* The spec's rule for container IDs and network names. */
static bool valid_id(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* Why @name cannot be an interface name, or NULL if it can. */
static const char *bad_ifname(const char *name)
{
	const char *p;

	if (strlen(name) >= IFNAMSIZ)
		return "interface name is too long";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "interface name is . or ..";
	for (p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return "interface name contains / or : or whitespace characters";
	return NULL;
}

static int load_env(struct cni_args *a)
{
	/* In the order of enum cni_command. */
	static const char *const cmds[] = { "ADD", "DEL", "CHECK", "VERSION" };
	const char *cmd = env("CNI_COMMAND"), *why;
	char missing[128] = "";
	size_t i;

	if (!cmd)
		return cni_error(CNI_ERR_INVALID_ENV,
				 "required env variables [CNI_COMMAND] missing",
				 NULL);
	for (i = 0; i < sizeof(cmds) / sizeof(*cmds); i++)
		if (!strcmp(cmd, cmds[i]))
			break;
	if (i == sizeof(cmds) / sizeof(*cmds))
		return cni_error(CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND",
				 "CNI_COMMAND is \"%s\" (want ADD, DEL, CHECK or VERSION)",
				 cmd);
	a->cmd = (enum cni_command)i;
	if (a->cmd == CNI_VERSION)
		return 0;

	a->container_id = env("CNI_CONTAINERID");
	a->netns = env("CNI_NETNS");
	a->ifname = env("CNI_IFNAME");
	a->path = env("CNI_PATH");
	/* As the reference plugins do: all but CNI_NETNS on DEL. */
	if (!a->container_id)
		strcat(missing, ",CNI_CONTAINERID");
	if (!a->netns && a->cmd != CNI_DEL)
		strcat(missing, ",CNI_NETNS");
	if (!a->ifname)
		strcat(missing, ",CNI_IFNAME");
	if (!a->path)
		strcat(missing, ",CNI_PATH");
	if (*missing) {
		char msg[160];

		snprintf(msg, sizeof(msg), "required env variables [%s] missing",
			 missing + 1);
		return cni_error(CNI_ERR_INVALID_ENV, msg, NULL);
	}
	if (!valid_id(a->container_id))
		return cni_error(CNI_ERR_INVALID_ENV,
				 "invalid characters in CNI_CONTAINERID",
				 "%s", a->container_id);
	why = bad_ifname(a->ifname);
	if (why)
		return cni_error(CNI_ERR_INVALID_ENV, "invalid CNI_IFNAME",
				 "%s: \"%s\"", why, a->ifname);
	return 0;
}

/* Configuration */

/* The whole of @f, NUL-terminated; NULL with errno set on failure. */
static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap), *more;

	while (buf) {
		n += fread(buf + n, 1, cap - n - 1, f);
		if (ferror(f))
			break;
		if (feof(f)) {
			buf[n] = '\0';
			*len = n;
			return buf;
		}
		if (cap >= CNI_CONF_MAX) {
			errno = EFBIG;
			break;
		}
		more = realloc(buf, cap * 2);
		if (!more)
			break;
		buf = more;
		cap *= 2;
	}
	free(buf);
	return NULL;
}

/* A required string field; NULL after printing the error. */
static const char *conf_string(const json_t *conf, const char *key, int *rc)
{
	const json_t *v = json_object_get(conf, key);

	if (!v) {
		*rc = cni_error(CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"required field \"%s\" missing", key);
		return NULL;
	}
	if (!json_is_string(v) || !*json_string_value(v)) {
		*rc = cni_error(CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				"\"%s\" must be a non-empty string", key);
		return NULL;
	}
	return json_string_value(v);
}

static int load_conf(struct cni_args *a)
{
	const char *version, *name, *prev_version;
	char versions[64];
	json_t *prev_v;
	json_error_t jerr;
	size_t len;
	char *buf;
	int rc = 0;

	buf = read_all(stdin, &len);
	if (!buf)
		return cni_error(CNI_ERR_IO,
				 "cannot read the network configuration from stdin",
				 "%s", strerror(errno));
	a->conf = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (!a->conf)
		return cni_error(CNI_ERR_DECODE,
				 "cannot decode the network configuration",
				 "line %d, column %d: %s", jerr.line,
				 jerr.column, jerr.text);
	if (!json_is_object(a->conf))
		return cni_error(CNI_ERR_DECODE,
				 "cannot decode the network configuration",
				 "it is not a JSON object");

	version = conf_string(a->conf, "cniVersion", &rc);
	if (!version)
		return rc;
	a->version = supported(version);
	if (!a->version)
		return cni_error(CNI_ERR_INCOMPATIBLE_VERSION,
				 "incompatible CNI versions",
				 "config is \"%s\", plugin supports %s", version,
				 versions_text(versions, sizeof(versions)));
	out_version = a->version;

	name = conf_string(a->conf, "name", &rc);
	if (!name)
		return rc;
	if (!valid_id(name))
		return cni_error(CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				 "invalid characters in the network name \"%s\"",
				 name);
	if (!conf_string(a->conf, "type", &rc))
		return rc;

	a->prev_result = json_object_get(a->conf, "prevResult");
	if (!a->prev_result || json_is_null(a->prev_result)) {
		a->prev_result = NULL;
		return 0;
	}
	if (!json_is_object(a->prev_result))
		return cni_error(CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				 "\"prevResult\" must be a JSON object");
	/* Passed through as ADD's result, it must be of the config's version. */
	prev_v = json_object_get(a->prev_result, "cniVersion");
	if (!prev_v)
		return json_object_set_new(a->prev_result, "cniVersion",
					   json_string(a->version)) ?
		       cni_error(CNI_ERR_GENERIC, "out of memory", NULL) : 0;
	prev_version = json_string_value(prev_v);
	if (!prev_version)
		return cni_error(CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				 "\"prevResult\" has a cniVersion that is not a string");
	if (strcmp(prev_version, a->version))
		return cni_error(CNI_ERR_INCOMPATIBLE_VERSION,
				 "incompatible CNI versions",
				 "prevResult is \"%s\", config is \"%s\"",
				 prev_version, a->version);
	return 0;
}

int cni_args_load(struct cni_args *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	rc = load_env(a);
	/* VERSION takes nothing on stdin. */
	if (!rc && a->cmd != CNI_VERSION)
		rc = load_conf(a);
	if (rc)
		cni_args_free(a);
	return rc;
}

void cni_args_free(struct cni_args *a)
{
	json_decref(a->conf);
	a->conf = NULL;
	a->prev_result = NULL;
	a->version = NULL;
}
