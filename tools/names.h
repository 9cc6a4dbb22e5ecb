/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tsorctl: the names tsorctl prints for the uapi's enums, all in one place.
 *
 * A value newer than this tool prints as its number, never fails.
 */
#ifndef TSORCTL_NAMES_H
#define TSORCTL_NAMES_H

#include <stdbool.h>
#include <stdint.h>

/* Name of enum tsor_feature bit @bit, or NULL. */
const char *feature_name(unsigned int bit);

const char *path_name(uint64_t path);
const char *fallback_name(uint64_t reason);
const char *link_state_name(uint64_t state);
const char *local_path_name(uint64_t path);
/* Inverse of local_path_name(); false if @name is none of them. */
bool local_path_parse(const char *name, uint8_t *path);

#endif /* TSORCTL_NAMES_H */
