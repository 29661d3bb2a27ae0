/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* procfs.h: small facts about processes and threads, from /proc.
 *
 * Promises: nothing here logs; a process or thread that ends mid-call is
 * skipped, never an error. Directories are read with getdents64() into a
 * buffer of the caller's stack: no DIR, no fstat() or fcntl() per open. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "util.h"

/* The three below are inline: mntns_pids.c and holders.c both use them, and
 * neither's users (nor their test drivers) need link procfs.o for that. */

/* Calls FN for every entry of the directory DIR_FD not starting with '.'.
 * Returns: 0, the first negative value FN returned, or -errno of reading. */
static inline int procfs_each_entry(int dir_fd, int (*fn)(int dir_fd, const char *name, void *ud),
                                    void *ud)
{
        char buf[8192] __attribute__((aligned(8)));
        ssize_t n;
        int r;

        while ((n = getdents64(dir_fd, buf, sizeof(buf))) > 0) {
                for (ssize_t off = 0; off < n;) {
                        struct dirent64 *d = (struct dirent64 *)(buf + off);

                        off += d->d_reclen;
                        if (d->d_name[0] == '.')
                                continue;
                        r = fn(dir_fd, d->d_name, ud);
                        if (r < 0)
                                return r;
                }
                /* The kernel stops filling only when the next entry does not
                 * fit (at most 280 bytes) or the listing is done: with that
                 * much room left it was done, and the empty call is saved. */
                if ((size_t)n < sizeof(buf) - 512)
                        return 0;
        }
        return n < 0 ? negative_errno() : 0;
}

/* The number of threads of a process, from the link count of its task dir
 * (TASK_DIR in DIR_FD: "task" in /proc/PID, or "PID/task" in /proc), which
 * the kernel makes 2 + threads: one statx() instead of a listing.
 * Returns: the count (>= 1; INT_MAX when the count is not as expected), or
 * -errno. */
static inline int procfs_nr_threads(int dir_fd, const char *task_dir)
{
        struct statx sx;

        if (statx(dir_fd, task_dir, AT_STATX_DONT_SYNC, STATX_NLINK, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_mask & STATX_NLINK) || sx.stx_nlink < 3)
                return INT_MAX; /* not the count we know: look at every thread */
        return sx.stx_nlink - 2 > INT_MAX ? INT_MAX : (int)(sx.stx_nlink - 2);
}

/* Whether tasks A and B share the kernel object KCMP_TYPE (KCMP_FILES: the
 * fd table, KCMP_FS: cwd and root, hence the mount namespace too, which a
 * task may only leave with an fs of its own). Unknown (no kcmp(), a filter,
 * a task we may not look at, a task gone) counts as not shared, so callers
 * look rather than skip.
 * Returns: true if shared. */
bool procfs_shares(pid_t a, pid_t b, int kcmp_type);

/* Calls FN with an O_PATH fd of /proc/PID/task/TID for every thread of the
 * process at PROCFD (/proc/PID, or /proc/PID/task/BASE for a thread standing
 * for it) but BASE itself; a process with one thread costs one statx(). A
 * thread that unshared its fs (CLONE_FS) has a cwd and root of its own, and
 * one that unshared CLONE_FILES an fd table of its own: PROCFD shows only
 * BASE's.
 * Returns: 0, or the first negative value FN returned. */
int procfs_each_thread(int procfd, pid_t base, int (*fn)(int task_fd, pid_t tid, void *ud),
                       void *ud);

/* PID's state letter (R, S, D, Z, X...) and flags (PF_*) from
 * /proc/PID/stat; either pointer may be NULL.
 * Returns: 0, -ENOENT when PID is gone, -EINVAL for what cannot be parsed,
 * other -errno. */
int procfs_stat(pid_t pid, char *ret_state, unsigned long *ret_flags);

/* Returns: true if the process PID is a kernel thread (no mm, no exe). */
bool pid_is_kernel_thread(pid_t pid);

/* One line of /proc/PID/maps: "START-END PERMS OFFSET MAJ:MIN INODE PATH". */
typedef struct procfs_map {
        unsigned long start, end;
        dev_t devnum;
        unsigned long ino;
        const char *path; /* into the line, its newline cut; NULL if none */
} procfs_map;

/* Returns: 0 and *ret, or -EINVAL for a line that is not one of maps. */
int procfs_parse_map(char *line, procfs_map *ret);

/* Before Linux 6.8 maps shows a mapped overlay file by its layer's device
 * and inode (the file the overlay opened beneath), and only the link in
 * map_files leads to the overlay's own; since then maps shows the overlay's.
 * Nothing else tells the two apart without an overlay to try, so the
 * release decides; a kernel that took the change earlier shows the
 * overlay's device on the line, and the link is then never asked.
 * Returns: true where a line's device may be a layer's. */
bool procfs_maps_show_layer(void);

/* Returns: true if M is a file's mapping whose line may show the layer's
 * device (procfs_maps_show_layer()), so its link in map_files is the one
 * to ask. */
bool procfs_map_needs_link(const procfs_map *m);

/* A file's segments, mapped back to back, come in a row in maps: one ask
 * of its link answers for them all. */
typedef struct procfs_map_run {
        unsigned long end;
        dev_t devnum;
        unsigned long ino;
} procfs_map_run;

/* Extends RUN by M, or starts a new one with it.
 * Returns: true if M starts a new run. */
bool procfs_map_run_starts(procfs_map_run *run, const procfs_map *m);

/* The name, relative to /proc/PID, of the link in map_files to the file
 * mapped at [M->start, M->end) (reading it needs CAP_SYS_ADMIN): maps pads
 * its addresses with zeros, map_files does not. */
void procfs_map_file_name(const procfs_map *m, char *buf, size_t size);
