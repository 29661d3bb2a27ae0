/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mounttab.h: what is mounted where, without parsing the whole table.
 *
 * Promises: mount_at() answers "what is the topmost mount at PATH" for PATH
 * itself (a symlink there is never followed: it is no mount point) with one
 * statx() and one statmount() where the kernel has them (6.8/6.11), so its
 * cost does not grow with the number of mounts; on older kernels, where a
 * seccomp filter refuses statmount(), or with OVERLAY_HELPER_NO_STATMOUNT=1,
 * it reads /proc/self/mountinfo with libmount and picks the entry by the
 * mount id statx() gives for PATH. Whether statmount() and listmount() may
 * be used is probed once per run on our own root mount (see
 * mounttab_have_statmount), and every fallback is noted (fallback.h).
 * Options come back escaped as in mountinfo (\054 for ',', \040 for ' '). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct mount_entry {
        /* The id records and scan bounds compare: unique_id where
         * statmount() answered (mounttab_have_statmount), else mountinfo_id. */
        uint64_t mnt_id;
        uint32_t mountinfo_id; /* /proc/PID/mountinfo's first field (STATX_MNT_ID):
                                * reused once the mount is gone */
        uint64_t unique_id;    /* statmount()'s (STATX_MNT_ID_UNIQUE), never reused
                                * in a boot; 0 where the kernel has none (before 6.8) */
        dev_t devnum;     /* the superblock's device number */
        char *fstype;
        char *source;
        char *target;     /* the mount point, as this namespace sees it */
        char *fs_options; /* superblock options, escaped */
} mount_entry;

/* Returns: 0 and *ret for the topmost mount whose root is PATH itself,
 * -ENOENT when PATH does not exist or is not a mount point, other -errno. */
int mount_at(const char *path, mount_entry **ret);

/* The mount PATH lies on (following symlinks, as a lookup does), from
 * /proc/self/mountinfo by the mount id statx() gives: the way for callers
 * that took a path inside a mount where statmount() is not to be used.
 * Returns: 0 and *ret, -EOPNOTSUPP before Linux 5.8 (no STATX_MNT_ID), other
 * -errno. */
int mount_containing(const char *path, mount_entry **ret);

void mount_entry_free(mount_entry *m);
static inline void mount_entry_freep(mount_entry **m)
{
        if (*m)
                mount_entry_free(*m);
}
#define _cleanup_mount_entry_ __attribute__((cleanup(mount_entry_freep)))

/* True when the statmount() path is in use: not forced off, and statmount()
 * of the mount our own root is on works. Any caller may ask for that mount,
 * so its refusal (ENOSYS, or EPERM from a seccomp filter such as systemd
 * 252's SystemCallFilter=, which predates the call) says the kernel will not
 * give us statmount() at all, unlike an EPERM for a foreign namespace we
 * lack privilege over. Decided once, on first use, for the rest of the run. */
bool mounttab_have_statmount(void);

/* The same for listmount() of our own namespace; implies statmount(). */
bool mounttab_have_listmount(void);

/* Undoes mountinfo's octal escapes (\NNN) in place. */
void unescape_octal(char *s);

/* One line of a mountinfo file, split in place: "ID PARENT MAJ:MIN ROOT
 * MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS". The kernel
 * octal-escapes space, tab, newline and backslash; ROOT, MOUNTPOINT, FSTYPE
 * and SOURCE come back unescaped, the super options as the kernel wrote
 * them (a ',' in a layer path is \054 there, so options still split). */
typedef struct mountinfo_line {
        uint64_t mnt_id;
        uint64_t parent_id;
        dev_t devnum;
        char *root;
        char *mountpoint;
        char *fstype;
        char *source;
        char *fs_options;
        uint64_t peer_group;    /* "shared:N", 0 if none */
        uint64_t master;        /* "master:N", 0 if none */
} mountinfo_line;

/* Returns: false for a line that is not of that shape. */
bool mountinfo_parse_line(char *line, mountinfo_line *ret);

/* Finds KEY= in a comma-separated option string; a key may repeat
 * (lowerdir+=), so *ret_next returns the position to continue from.
 * Returns: malloc'd unescaped value, or NULL if absent. */
char *option_next_value(const char *options, const char *key, const char **ret_next);

/* Looks for any mount point at or beneath DIR in this namespace (one
 * listmount() walk, or one mountinfo read), so a caller can refuse before it
 * removes anything rather than discover the mount half-way.
 * Returns: 1 with *ret_mountpoint (malloc'd) when one exists, 0 when none
 * (or DIR does not exist), -errno. */
int mount_beneath(const char *dir, char **ret_mountpoint);
