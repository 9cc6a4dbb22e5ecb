// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl version: this tool's version and the loaded module's.
 */
#include <errno.h>
#include <stdio.h>

#include "names.h"
#include "print.h"
#include "request.h"
#include "tsorctl.h"
#include "utils.h"

static void version_features(uint32_t features)
{
	unsigned int bit;
	const char *sep = "";

	print_text("features         ");
	print_arr_open("features");
	for (bit = 0; bit < 32; bit++) {
		char unknown[16];
		const char *name = feature_name(bit);

		if (!(features & (1u << bit)))
			continue;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "bit%u", bit);
			name = unknown;
		}
		print_text("%s", sep);
		print_str(NULL, "%s", name);
		sep = " ";
	}
	print_arr_close();
	print_text("%s\n", features ? "" : "none");
}

static int version_print(const struct nlattr *const *tb, void *arg)
{
	(void)arg;
	if (!tb[TSOR_ATTR_VERSION])
		return -EBADMSG;
	print_obj_open("module");
	print_str("version", "module version   %s\n",
		  mnl_attr_get_str(tb[TSOR_ATTR_VERSION]));
	print_u64("genl_version", "genl version     %s\n",
		  nl_family_version());
	print_attr_uint("protocol", "protocol         %s\n",
			tb[TSOR_ATTR_PROTOCOL]);
	version_features(tb[TSOR_ATTR_FEATURES] ?
			 mnl_attr_get_u32(tb[TSOR_ATTR_FEATURES]) : 0);
	print_obj_close();
	return 0;
}

static int version_run(int argc, char **argv)
{
	struct request req = {
		.what = "version",
		.cmd = TSOR_CMD_VERSION_GET,
		.print = version_print,
	};
	int rc;

	if (argc)
		return usage_error("version: unexpected argument \"%s\"",
				   argv[0]);
	/* Our own version first: it is worth printing with no module. */
	print_obj_open(NULL);
	print_str("tsorctl", "tsorctl version  %s\n", TSORCTL_VERSION);
	rc = run_request(&req);
	if (rc == RC_NOMODULE)
		print_str("module", NULL, NULL);
	print_obj_close();
	return rc;
}

const struct object version_object = {
	.name = "version",
	.usage =
	"version\n"
	"\n"
	"The version of tsorctl and, when the module is loaded, the module's\n"
	"version, generic netlink family version, private protocol number and\n"
	"features.  Exits with 3 if the module is not loaded.\n",
	.run = version_run,
};
