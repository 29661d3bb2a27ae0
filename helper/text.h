/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* text.h: bounded text for messages, from inputs that are not.
 *
 * Promises: nothing here logs, reads globals or keeps state; each result is
 * complete about what it leaves out (how many levels, bytes, items), so a
 * message stays bounded without hiding that something was cut. */
#pragma once

#include <stddef.h>

/* Results never exceed MAX bytes; a smaller MAX is raised to this. */
#define TEXT_SHORTEN_MIN 64

/* PATH as is when it fits in MAX bytes; else its first and last components
 * (as many as fit) around a count of the levels left out:
 * "a/a/a/…[5,990 levels]…/a/a". A path with too few components, or whose
 * first and last components alone do not fit, keeps its first and last
 * bytes instead: "abc…[7,000 bytes]…xyz", never cutting a UTF-8 sequence.
 * Returns: a malloc'd string of at most max(MAX, TEXT_SHORTEN_MIN) bytes, or
 * NULL (out of memory, or PATH NULL): callers then print PATH itself. */
char *text_shorten_path(const char *path, size_t max);

/* Room for any unsigned long long in text_grouped(), with its NUL. */
#define TEXT_GROUPED_MAX 27

/* N with a comma every three digits, "4,992", into BUF.
 * Returns: BUF. */
char *text_grouped(unsigned long long n, char buf[static TEXT_GROUPED_MAX]);

/* The length of the well-formed UTF-8 sequence at S (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0 when the byte at S
 * starts none. Reads no further than a NUL. */
size_t utf8_seq_len(const char *s);
