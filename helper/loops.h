/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loops.h: loop devices, as holders of the filesystem their backing file
 * lives on.
 *
 * Promises: loops_read() and loops_holding() find every attached loop device whose backing
 * file lives on superblock DEVNUM or was opened through one of MNT_IDS (the
 * kernel's LOOP_GET_STATUS64 device and inode of the file, and the mount of
 * the path sysfs shows), never by comparing path strings alone. A loop
 * device keeps its backing file open, so the mount stays busy (EBUSY) and,
 * once lazily detached, alive. Devices that vanish mid-scan are skipped;
 * nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct loop_dev {
        char *name;         /* "loop3" */
        char *file;         /* the backing file's path, as sysfs shows it */
        bool has_dev;
        dev_t dev;          /* the backing file's device (LOOP_GET_STATUS64) */
        bool has_mnt_id;
        uint64_t mnt_id;    /* the mount of FILE's path */
} loop_dev;

typedef struct loop_set {
        loop_dev *v;
        size_t n;
} loop_set;

/* Every attached loop device, read once. UNIQUE: take statmount()'s unique
 * mount ids of the backing paths, else mountinfo's.
 * Returns: 0 and *ret (free with loops_done), or -errno. */
int loops_read(bool unique, loop_set *ret);
void loops_done(loop_set *s);

/* Returns: 0 with *ret "/dev/loopN (backing FILE)" strings of the devices
 * in S backed on superblock DEVNUM or through one of MNT_IDS
 * (NULL-terminated, NULL when none: strv_free), or -ENOMEM. */
int loops_holding(const loop_set *s, dev_t devnum, const uint64_t *mnt_ids, size_t n_mnt_ids,
                  char ***ret);
