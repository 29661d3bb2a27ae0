/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dlib.h: libmount, libsystemd and libblkid, loaded on first use.
 *
 * Why: linking them costs ~1 ms of loader time on every start (measured:
 * a no-op binary 0.8 ms, with libmount+libsystemd 1.9 ms), more than the
 * whole mount+umount work, and the hot path needs neither. Promises: each
 * loader dlopen()s its library once and resolves every symbol it lists, or
 * returns -EOPNOTSUPP and leaves nothing half-loaded; callers then fall back
 * (stderr instead of the journal, no unit names, no libmount table read). */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct libmnt_table;
struct libmnt_iter;
struct libmnt_fs;

typedef struct sd_syms {
        int (*journal_sendv)(const struct iovec *iov, int n);
        int (*pid_get_unit)(pid_t pid, char **unit);
        int (*pid_get_user_unit)(pid_t pid, char **unit);
} sd_syms;

typedef struct mnt_syms {
        struct libmnt_table *(*new_table_from_file)(const char *filename);
        void (*unref_table)(struct libmnt_table *tb);
        struct libmnt_iter *(*new_iter)(int direction);
        void (*free_iter)(struct libmnt_iter *itr);
        int (*table_next_fs)(struct libmnt_table *tb, struct libmnt_iter *itr,
                             struct libmnt_fs **fs);
        const char *(*fs_get_target)(struct libmnt_fs *fs);
        const char *(*fs_get_fstype)(struct libmnt_fs *fs);
        const char *(*fs_get_source)(struct libmnt_fs *fs);
        const char *(*fs_get_root)(struct libmnt_fs *fs);
        const char *(*fs_get_vfs_options)(struct libmnt_fs *fs);
        int (*fs_get_id)(struct libmnt_fs *fs);
        dev_t (*fs_get_devno)(struct libmnt_fs *fs);
} mnt_syms;

typedef struct blkid_struct_probe *blkid_probe;

typedef struct blkid_syms {
        blkid_probe (*new_probe)(void);
        void (*free_probe)(blkid_probe pr);
        int (*probe_set_device)(blkid_probe pr, int fd, int64_t off, int64_t size);
        int (*probe_enable_superblocks)(blkid_probe pr, int enable);
        int (*probe_set_superblocks_flags)(blkid_probe pr, int flags);
        int (*do_safeprobe)(blkid_probe pr);
        int (*probe_lookup_value)(blkid_probe pr, const char *name, const char **data,
                                  size_t *len);
} blkid_syms;

/* Returns: 0 and *ret, or -EOPNOTSUPP when libsystemd.so.0 is not loadable. */
int dlib_systemd(const sd_syms **ret);

/* Returns: 0 and *ret, or -EOPNOTSUPP when libmount.so.1 is not loadable. */
int dlib_mount(const mnt_syms **ret);

/* Returns: 0 and *ret, or -EOPNOTSUPP when libblkid.so.1 is not loadable. */
int dlib_blkid(const blkid_syms **ret);
