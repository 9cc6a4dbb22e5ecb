/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: one call per field, printed as text or as JSON.
 *
 * Like iproute2's print_*(PRINT_ANY, ...): in JSON mode @key names the
 * field and @fmt is ignored; in text mode @key is ignored and @fmt, a
 * printf format taking one "%s", receives the value as text.  A NULL
 * @fmt prints nothing in text mode.
 */
#ifndef TSORCTL_PRINT_H
#define TSORCTL_PRINT_H

#include <stdbool.h>
#include <stdint.h>

struct nlattr;

void print_init(bool json, bool pretty);
bool print_json(void);

/* Containers exist in JSON only. */
void print_obj_open(const char *key);
void print_obj_close(void);
void print_arr_open(const char *key);
void print_arr_close(void);

void print_str(const char *key, const char *fmt, const char *val);
void print_u64(const char *key, const char *fmt, uint64_t val);
void print_s64(const char *key, const char *fmt, int64_t val);
/* Text mode prints @on or @off as they are (either may be NULL). */
void print_bool(const char *key, const char *on, const char *off, bool val);
/* An unsigned attribute of 1, 2, 4 or 8 bytes; absent: "-" or no key. */
void print_attr_uint(const char *key, const char *fmt,
		     const struct nlattr *attr);
/* Text mode only: headers, separators, newlines. */
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* TSORCTL_PRINT_H */
