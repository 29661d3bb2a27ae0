/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strv.h: NULL-terminated string arrays.
 *
 * Promises: every function keeps the array NULL-terminated, and on -ENOMEM
 * leaves it as it was; strv_free() (util.h) frees one. Nothing here logs. */
#pragma once

#include <stddef.h>

/* Appends a copy of S. Returns: 0 or -ENOMEM. */
int strv_add(char ***v, const char *s);

/* Appends a copy of the first LEN bytes of S. Returns: 0 or -ENOMEM. */
int strv_add_len(char ***v, const char *s, size_t len);

/* Returns: 0 and *ret, an empty array, or -ENOMEM. */
int strv_new_empty(char ***ret);

size_t strv_length(char *const *v);

/* Sorts V and drops duplicates, in place. */
void strv_sort_unique(char **v);

/* Returns: V's strings joined by SEP ("" for none; free), or NULL. */
char *strv_join(char *const *v, const char *sep);
