/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.h: the little JSON writing the helper needs.
 *
 * Promises: strings come out escaped per RFC 8259 (control characters as
 * \uXXXX, bytes >= 0x80 passed through as they are, since paths are bytes). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

void json_string(FILE *f, const char *s);
/* "key": "value" (or null when VALUE is NULL), with a leading comma unless FIRST. */
void json_kv_string(FILE *f, bool first, const char *key, const char *value);
void json_kv_bool(FILE *f, bool first, const char *key, bool value);
void json_kv_u64(FILE *f, bool first, const char *key, unsigned long long value);
