/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_internal.h: what probe.c (the sorted indexes of targets) and
 * probe_many.c (the scans) share. No other module includes this.
 *
 * Promises: a mount, a device or a mount id is matched against every target
 * in one lookup (pm_copy_ranges, pm_index_range), never by asking each
 * target in turn, and as probe_scan() of each target alone would decide. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mntns.h"
#include "probe.h"

/* One entry of a sorted index: a target, a namespace or a copy (VAL) by a
 * number (a device, mount id or inode) or a string (Upper, Work, a path). */
typedef struct pm_ent {
        uint64_t num;
        const char *str;
        size_t val;
} pm_ent;

typedef struct pm_index {
        pm_ent *v;
        size_t n, cap;
} pm_index;

/* A lookup: a number, or the first LEN bytes of S. */
typedef struct pm_key {
        uint64_t num;
        const char *s;
        size_t len;
} pm_key;

/* Grows *P (*CAP entries of SIZE bytes) to hold more than N.
 * Returns: 0 or -ENOMEM. */
int pm_grow(void **p, size_t *cap, size_t n, size_t size);

/* Returns: 0 or -ENOMEM. */
int pm_index_add(pm_index *ix, uint64_t num, const char *str, size_t val);

/* Entry against key, by number or by string; for qsort(), entries by
 * number or string, then VAL. */
int pm_cmp_num(const pm_ent *e, const pm_key *k);
int pm_cmp_str(const pm_ent *e, const pm_key *k);
int pm_sort_num(const void *a, const void *b);
int pm_sort_str(const void *a, const void *b);
int pm_sort_size(const void *a, const void *b);

/* qsort(), and for N = 0 (V may be NULL) nothing. */
void pm_sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* Sorts V (*N entries of SIZE bytes) with CMP and drops what CMP finds equal. */
void pm_sort_unique(void *v, size_t *n, size_t size, int (*cmp)(const void *, const void *));

/* Returns: the end of the entries of IX (sorted to suit CMP) equal to K,
 * with *LO their start. */
size_t pm_index_range(const pm_index *ix, int (*cmp)(const pm_ent *, const pm_key *),
                      const pm_key *k, size_t *lo);

/* Every target by the keys that make a mount matter to it. */
typedef struct pm_tindex {
        pm_index dev, upper, work, path;
        pm_index layer;    /* num: pm_layer_key() of a target's Upper or Work */
        bool root_path; /* some target's path is "/": everything is beneath it */
} pm_tindex;

/* Returns: 0 or -ENOMEM (then free with pm_tindex_done all the same). */
int pm_tindex_build(const probe_target *t, size_t n, pm_tindex *ti);

/* One number for a dir's (device, inode): an overlay on the same Upper or
 * Work through another path (a bind mount, a symlink) is a copy too. A
 * collision could only make a probe say "busy" wrongly, never "free". */
static inline uint64_t pm_layer_key(dev_t dev, ino_t ino)
{
        return (uint64_t)ino ^ ((uint64_t)dev << 44) ^ ((uint64_t)dev >> 20);
}
void pm_tindex_done(pm_tindex *ti);

/* The targets M is a copy of (as a scan of one decides it: the same
 * superblock, or an overlay on the same Upper or Work dir), as up to three
 * ranges [RET_LO, RET_HI) of entries of RET_IX that may name a target twice.
 * Returns: the number of ranges. */
size_t pm_copy_ranges(const pm_tindex *ti, const ns_mount *m, const pm_index *ret_ix[3],
                      size_t ret_lo[3], size_t ret_hi[3]);

/* mntns_scan()'s filter, USERDATA a pm_tindex: keeps what any target's
 * own scan would keep (a copy of it, or a mount beneath its path). */
bool pm_keep_any(const ns_mount *m, void *userdata);

/* True when M, found by T's superblock device, is an overlay whose upper
 * dir is (by stat) another dir than T's Upper: a new overlay that got the
 * anonymous device number T's superblock had (numbers are reused at once),
 * no copy of T. Unknown (no layer ids, a path that does not resolve here):
 * false. */
bool pm_other_upper(const ns_mount *m, const probe_target *t);

/* What pm_keep_any() may keep, from a mount's numbers and its mount point
 * (see mount_prefilter), USERDATA the same pm_tindex. */
extern const mount_prefilter pm_prefilter;

bool pm_path_beneath(const char *path, const char *dir);
