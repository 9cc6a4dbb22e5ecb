/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: a tiny streaming JSON writer.
 *
 * Values take a key inside objects and NULL inside arrays or at the top.
 * The writer places commas and, when pretty, newlines and indentation; a
 * newline follows the top-level value.
 */
#ifndef TSORCTL_JSON_H
#define TSORCTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

void json_start(FILE *f, bool pretty);

void json_obj_open(const char *key);
void json_obj_close(void);
void json_arr_open(const char *key);
void json_arr_close(void);

void json_string(const char *key, const char *val);	/* NULL: null */
void json_u64(const char *key, uint64_t val);
void json_s64(const char *key, int64_t val);
void json_bool(const char *key, bool val);
void json_null(const char *key);

#endif /* TSORCTL_JSON_H */
