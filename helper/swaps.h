/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* swaps.h: active swap areas, as holders of the filesystem or device
 * they live on.
 *
 * Promises: swaps_read() reads /proc/swaps once; swaps_holding() names
 * every swap file whose (device, inode) a stat() finds on superblock
 * DEVNUM, and every swap partition that is block device DEVNUM. The kernel
 * keeps an active swap file open, so its mount stays busy (EBUSY) until
 * swapoff. Paths are as /proc/swaps shows them, relative to our root: a
 * swap file outside it (or deleted) cannot be stat()ed and is not named.
 * Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct swap_area {
        char *path;         /* unescaped */
        bool partition;     /* "partition" in the Type column, else a file */
        bool has_dev;
        dev_t dev;          /* a file's st_dev; a partition's st_rdev */
} swap_area;

typedef struct swap_set {
        swap_area *v;
        size_t n;
} swap_set;

/* Returns: 0 and *ret (free with swaps_done; empty without /proc/swaps),
 * or -errno. */
int swaps_read(swap_set *ret);
void swaps_done(swap_set *s);

/* Returns: 0 with *ret the paths of the areas in S on DEVNUM
 * (NULL-terminated, NULL when none or DEVNUM is 0: strv_free), or -ENOMEM. */
int swaps_holding(const swap_set *s, dev_t devnum, char ***ret);
