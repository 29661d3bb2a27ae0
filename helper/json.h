/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.h: the little JSON writing the helper needs.
 *
 * Promises: what comes out is valid UTF-8 and valid JSON (RFC 8259) for any
 * input bytes. In a string, '"' and '\' are escaped, control characters
 * (0x00-0x1f, 0x7f) are written as \b \t \n \f \r or \u00XX, well-formed
 * UTF-8 passes through as it is, and each byte of an ill-formed sequence
 * (a path is bytes, not text) is written as \uDCXX, XX the byte (0x80-0xff):
 * the "surrogateescape" rule of PEP 383, so the bytes can be recovered
 * exactly (Python: s.encode("utf-8", "surrogateescape")). docs/json.md says
 * so to consumers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* S as a JSON string, or null when S is NULL. */
void json_string(FILE *f, const char *s);
/* "key": "value" (or null when VALUE is NULL), with a leading comma unless FIRST. */
void json_kv_string(FILE *f, bool first, const char *key, const char *value);
void json_kv_bool(FILE *f, bool first, const char *key, bool value);
/* "key": null unless KNOWN, else true or false. */
void json_kv_tristate(FILE *f, bool first, const char *key, bool known, bool value);
void json_kv_u64(FILE *f, bool first, const char *key, unsigned long long value);
/* "key": VALUE, or null where VALUE is 0 (an id the kernel did not give). */
void json_kv_id(FILE *f, bool first, const char *key, uint64_t value);
/* "key": [strings] of a NULL-terminated (or NULL: empty) list. */
void json_kv_strv(FILE *f, bool first, const char *key, char *const *v);
