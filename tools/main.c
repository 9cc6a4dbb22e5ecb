// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl: configure and observe tsor, TCP sockets over RDMA for
 * containers.  Global options, object dispatch and help.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "print.h"
#include "tsorctl.h"
#include "utils.h"

static const struct object *const objects[] = {
	&netns_object,
	&stats_object,
	&peer_object,
	&conn_object,
	&link_object,
	&dev_object,
	&version_object,
};

static const char options_help[] =
	"Options:\n"
	"    -j, --json       print JSON instead of text\n"
	"    -p, --pretty     print indented JSON (implies --json)\n"
	"    -h, --help       print this help and exit\n"
	"    -V, --version    print the version of tsorctl and exit\n";

static const char exit_help[] =
	"Exit status:\n"
	"    0  success\n"
	"    1  the operation failed; the kernel's reason is printed\n"
	"    2  usage error: unknown object or command, bad or missing\n"
	"       argument, bad address, unknown netns name, bad peer file\n"
	"    3  the tsor kernel module is not loaded\n"
	"    4  permission denied: changing settings needs CAP_NET_ADMIN\n";

/*
 * An object's usage: its synopsis lines prefixed by @first (first line)
 * or @next (the others), then its notes indented by @indent.
 */
static void print_object_usage(const struct object *o, const char *first,
			       const char *next, const char *indent)
{
	const char *line = o->usage, *end;
	bool synopsis = true;

	for (; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (end == line) {
			synopsis = false;
			putchar('\n');
		} else {
			printf("%s%.*s\n", synopsis ? first : indent,
			       (int)(end - line), line);
			first = next;
		}
		if (!*end)
			break;
	}
}

static void print_help(void)
{
	size_t i;

	printf("Usage: tsorctl [OPTIONS] OBJECT COMMAND [ARGUMENTS]\n"
	       "       tsorctl [OPTIONS] OBJECT help\n"
	       "\n"
	       "tsorctl configures and observes tsor, the kernel module that carries\n"
	       "the TCP connections of chosen network namespaces over RDMA between\n"
	       "nodes and over shared memory within a node.  Objects and commands\n"
	       "may be abbreviated to any unique prefix.\n"
	       "\n"
	       "Objects and commands:\n");
	for (i = 0; i < ARRAY_SIZE(objects); i++) {
		print_object_usage(objects[i], "    ", "    ", "        ");
		putchar('\n');
	}
	printf("%s\n%s\nSee tsorctl(8).\n", options_help, exit_help);
}

static int object_help(const struct object *o)
{
	print_object_usage(o, "Usage: tsorctl ", "       tsorctl ", "");
	return RC_OK;
}

static int run_object(const struct object *o, int argc, char **argv)
{
	const struct command *c;
	int i;

	if (argc && !strcmp(argv[0], "help"))
		return object_help(o);
	if (!o->cmds || (!argc && o->run))
		return o->run(argc, argv);
	if (!argc)
		return usage_error("%s: missing command (try \"tsorctl %s help\")",
				   o->name, o->name);

	i = match_word(argv[0], o->cmds, o->n_cmds, sizeof(*o->cmds));
	if (i == -1 && o->implicit)
		return o->run(argc, argv);
	if (i == -2)
		return usage_error("%s: \"%s\" is ambiguous (try \"tsorctl %s help\")",
				   o->name, argv[0], o->name);
	if (i < 0)
		return usage_error("%s: unknown command \"%s\" (try \"tsorctl %s help\")",
				   o->name, argv[0], o->name);
	c = &o->cmds[i];
	/* "tsorctl peer add help" helps too. */
	if (argc > 1 && !strcmp(argv[1], "help"))
		return object_help(o);
	return c->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json",	no_argument,	NULL, 'j' },
		{ "pretty",	no_argument,	NULL, 'p' },
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'V' },
		{ NULL,		0,		NULL, 0 },
	};
	const char *names[ARRAY_SIZE(objects)];
	bool json = false, pretty = false;
	int opt, i, rc;

	opterr = 0;	/* our own one-line messages */
	/* '+': options end at the object, so "-" stays an argument. */
	while ((opt = getopt_long(argc, argv, "+jphV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'p':
			json = pretty = true;
			break;
		case 'h':
			print_help();
			return RC_OK;
		case 'V':
			printf("tsorctl %s\n", TSORCTL_VERSION);
			return RC_OK;
		default:
			if (optopt)
				return usage_error("unknown option \"-%c\" (try \"tsorctl --help\")",
						   optopt);
			return usage_error("unknown option \"%s\" (try \"tsorctl --help\")",
					   argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (!argc)
		return usage_error("no object given (try \"tsorctl --help\")");
	if (!strcmp(argv[0], "help")) {
		print_help();
		return RC_OK;
	}

	for (i = 0; i < (int)ARRAY_SIZE(objects); i++)
		names[i] = objects[i]->name;
	i = match_word(argv[0], names, ARRAY_SIZE(names), sizeof(names[0]));
	if (i == -2)
		return usage_error("object \"%s\" is ambiguous (try \"tsorctl --help\")",
				   argv[0]);
	if (i < 0)
		return usage_error("unknown object \"%s\" (try \"tsorctl --help\")",
				   argv[0]);

	print_init(json, pretty);
	rc = run_object(objects[i], argc - 1, argv + 1);
	if (fflush(stdout) || ferror(stdout)) {
		errorf("cannot write the output: %s", strerror(errno));
		if (!rc)
			rc = RC_FAIL;
	}
	return rc;
}
