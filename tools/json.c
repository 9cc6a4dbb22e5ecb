// SPDX-License-Identifier: GPL-2.0
/*
 * tsorctl: a tiny streaming JSON writer.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "json.h"

/* Nesting depends on tsorctl's code only, never on input: 3 is enough. */
#define JSON_MAX_DEPTH	8

static struct {
	FILE *f;
	bool pretty;
	unsigned int depth;
	bool empty[JSON_MAX_DEPTH];	/* nothing written yet at this level */
} js;

void json_start(FILE *f, bool pretty)
{
	js.f = f;
	js.pretty = pretty;
	js.depth = 0;
	js.empty[0] = true;
}

static void json_quote(const char *s)
{
	static const char hex[] = "0123456789abcdef";

	fputc('"', js.f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			fputs("\\\"", js.f);
			break;
		case '\\':
			fputs("\\\\", js.f);
			break;
		case '\n':
			fputs("\\n", js.f);
			break;
		case '\r':
			fputs("\\r", js.f);
			break;
		case '\t':
			fputs("\\t", js.f);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(js.f, "\\u00%c%c", hex[c >> 4],
					hex[c & 0xf]);
			else
				fputc(c, js.f);
		}
	}
	fputc('"', js.f);
}

static void json_newline(void)
{
	unsigned int i;

	if (!js.pretty)
		return;
	fputc('\n', js.f);
	for (i = 0; i < js.depth; i++)
		fputs("    ", js.f);
}

/* Whatever goes before a value: comma, indentation, key. */
static void json_key(const char *key)
{
	if (!js.empty[js.depth])
		fputc(',', js.f);
	js.empty[js.depth] = false;
	if (js.depth)
		json_newline();
	if (key) {
		json_quote(key);
		fputs(js.pretty ? ": " : ":", js.f);
	}
}

/* A complete top-level value ends the line. */
static void json_value_done(void)
{
	if (!js.depth)
		fputc('\n', js.f);
}

static void json_open(const char *key, char c)
{
	if (js.depth + 1 >= JSON_MAX_DEPTH)
		abort();
	json_key(key);
	fputc(c, js.f);
	js.empty[++js.depth] = true;
}

static void json_close(char c)
{
	if (!js.depth)
		abort();
	js.depth--;
	if (!js.empty[js.depth + 1])
		json_newline();
	fputc(c, js.f);
	json_value_done();
}

void json_obj_open(const char *key)
{
	json_open(key, '{');
}

void json_obj_close(void)
{
	json_close('}');
}

void json_arr_open(const char *key)
{
	json_open(key, '[');
}

void json_arr_close(void)
{
	json_close(']');
}

void json_string(const char *key, const char *val)
{
	if (!val) {
		json_null(key);
		return;
	}
	json_key(key);
	json_quote(val);
	json_value_done();
}

void json_u64(const char *key, uint64_t val)
{
	json_key(key);
	fprintf(js.f, "%" PRIu64, val);
	json_value_done();
}

void json_s64(const char *key, int64_t val)
{
	json_key(key);
	fprintf(js.f, "%" PRId64, val);
	json_value_done();
}

void json_bool(const char *key, bool val)
{
	json_key(key);
	fputs(val ? "true" : "false", js.f);
	json_value_done();
}

void json_null(const char *key)
{
	json_key(key);
	fputs("null", js.f);
	json_value_done();
}
