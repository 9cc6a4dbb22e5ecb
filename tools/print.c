// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl: one call per field, printed as text or as JSON.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "json.h"
#include "nl.h"
#include "print.h"

static bool use_json;

void print_init(bool json, bool pretty)
{
	use_json = json;
	if (json)
		json_start(stdout, pretty);
}

bool print_json(void)
{
	return use_json;
}

void print_obj_open(const char *key)
{
	if (use_json)
		json_obj_open(key);
}

void print_obj_close(void)
{
	if (use_json)
		json_obj_close();
}

void print_arr_open(const char *key)
{
	if (use_json)
		json_arr_open(key);
}

void print_arr_close(void)
{
	if (use_json)
		json_arr_close();
}

/* The format is the caller's literal with exactly one %s. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void print_fmt(const char *fmt, const char *val)
{
	if (fmt)
		printf(fmt, val);
}
#pragma GCC diagnostic pop

void print_str(const char *key, const char *fmt, const char *val)
{
	if (use_json)
		json_string(key, val);
	else
		print_fmt(fmt, val ? val : "-");
}

void print_u64(const char *key, const char *fmt, uint64_t val)
{
	char buf[24];

	if (use_json) {
		json_u64(key, val);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	print_fmt(fmt, buf);
}

void print_s64(const char *key, const char *fmt, int64_t val)
{
	char buf[24];

	if (use_json) {
		json_s64(key, val);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRId64, val);
	print_fmt(fmt, buf);
}

void print_bool(const char *key, const char *on, const char *off, bool val)
{
	const char *text = val ? on : off;

	if (use_json)
		json_bool(key, val);
	else if (text)
		fputs(text, stdout);
}

void print_attr_uint(const char *key, const char *fmt,
		     const struct nlattr *attr)
{
	if (attr)
		print_u64(key, fmt, nl_attr_uint(attr));
	else if (!use_json)
		print_fmt(fmt, "-");
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (use_json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
