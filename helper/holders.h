/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holders.h: what a process holds inside a filesystem.
 *
 * Promises: holder_inspect() tells which of a process's cwd, root, exe, open fds
 * and memory maps are on the superblock DEVNUM (the stat() of each magic
 * link, so it answers the same from any namespace), as strings "cwd", "root",
 * "exe", "fd:N:PATH", "mmap:PATH"; another thread's cwd, root and fds where
 * they are its own (kcmp() tells), as "thread:TID:cwd", "thread:TID:fd:N:PATH".
 * A thread listed on its own (in a mount namespace of its own, or standing
 * for a process whose leader exited: see mntns_for_each_pid_ns) is passed as
 * -TID and inspected through /proc/TID. A process that exits mid-scan, or
 * one we may not inspect, is reported as -ESRCH/-EACCES, never as an error
 * to log. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct holder {
        pid_t pid;      /* the thread group's (the process's) */
        pid_t tid;      /* 0, or the thread that holds on its own: "thread TID of PID" */
        char *comm;     /* the process's, or thread TID's own */
        char *unit;     /* systemd unit (sd_pid_get_unit), or NULL */
        char **refs;    /* NULL-terminated */
        size_t n_refs;
} holder;

/* PID is a process, or -TID a thread on its own (then *ret's pid is its
 * process's and tid TID).
 * Returns: 0 and *ret filled (refs may be empty), -ESRCH if PID is gone,
 * -EACCES if we may not look, other -errno. */
int holder_inspect(pid_t pid, dev_t devnum, holder *ret);
void holder_done(holder *h);

/* DEVNUM alone misses files on an overlay whose layers sit on different
 * filesystems (without xino): the kernel stats its non-directories with a
 * per-layer pseudo device, not the overlay's (verified on 6.18: overlay 0:45,
 * a lower file 0:47, an upper file 0:46). Directories, and the device in
 * /proc/PID/maps, stay the overlay's. The mount an fd or exe was opened
 * through still ties it to the overlay, so a caller that knows every mount
 * of the filesystem (in any namespace) passes their ids as well. */
typedef struct holder_target {
        dev_t devnum;
        const uint64_t *mnt_ids;  /* may be NULL */
        size_t n_mnt_ids;
        bool unique_ids;          /* statmount()'s 64-bit ids, else mountinfo's */
        /* Leave unit NULL unless refs are found: libsystemd's lookup costs a
         * quarter of an inspection (25 of 100 us), wasted on the processes
         * of PID 1's namespace that hold nothing and are dropped. */
        bool unit_if_held;
} holder_target;

/* Returns: as holder_inspect(); a ref is on the target if its device is
 * DEVNUM or its mount is one of MNT_IDS. */
int holder_inspect_target(pid_t pid, const holder_target *target, holder *ret);

#include "procfs.h" /* pid_is_kernel_thread(), used by the tests */

struct mntns_fd_ref;

/* Many targets at once (probe_scan_many): REF is called with the device and
 * mount id (0 where unknown, and always for a memory map) of each of a
 * process's cwd, root, exe, open fds and file-backed maps, each looked at
 * once whatever the number of targets; it returns 0, or -errno to stop. No
 * strings are made: a caller that needs them calls holder_inspect_target()
 * for the targets REF found held. */
typedef struct holder_any {
        bool want_mnt_ids;        /* statx() the mount ids too */
        bool unique_ids;          /* as in holder_target */
        int (*ref)(dev_t devnum, uint64_t mnt_id, void *userdata);
        void *userdata;
        /* With FDS_KNOWN, the fd tables (the process's and its threads'
         * own) as the /proc walk found them (mntns_set's fd record, ids of
         * the same kind as UNIQUE_IDS): REF gets FD_REFS instead of a second
         * read, and a process the walk saw with one thread (N_THREADS) is
         * not looked at for others. */
        bool fds_known;
        const struct mntns_fd_ref *fd_refs;
        size_t n_fd_refs;
        unsigned n_threads;
} holder_any;

/* Returns: 0, -ESRCH if PID is gone, -EACCES if we may not look, REF's
 * -errno, other -errno. */
int holder_inspect_any(pid_t pid, const holder_any *any);
