/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_pids.h: processes and their mount namespaces, read from /proc.
 *
 * Promises: every walk tolerates processes that vanish under it (lsns's
 * rule); a link that is not a mount namespace's is skipped, and one we may
 * not read is counted where the caller asks for it. Nothing here enters a
 * namespace or reads a mount table. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "mntns_table.h"

/* Returns: 0 and *ret for a link "mnt:[INO]" at PATH in DIR_FD, -EINVAL for
 * another, -errno. */
int mntns_read_ns_link(int dir_fd, const char *path, ino_t *ret);

/* Appends PID in namespace INO to S's pid map (see mntns_set).
 * Returns: 0, or -ENOMEM. */
int mntns_remember_pid(mntns_set *s, pid_t pid, ino_t ino);

/* Calls FN for every process with its mount namespace's inode, or with the
 * -errno of reading that link (the process may be gone, or not ours to see),
 * and with -TID for a thread listed on its own: one in another mount
 * namespace than its process (unshare(CLONE_NEWNS) by one thread), or the
 * first live thread of a process whose leader has exited, which stands for
 * it. /proc/TID, like /proc/PID, is that thread's view (its cwd, fds, maps,
 * namespace). PROC_FD is an fd of /proc.
 * Returns: 0, or the first negative FN returned. */
typedef int (*pid_ns_fn)(int proc_fd, pid_t pid, ino_t ino, int link_error, void *userdata);
int mntns_for_each_pid_ns(pid_ns_fn fn, void *userdata);

/* Calls FN for every open fd on a mount namespace file, in every process
 * but ourselves: our own are never what keeps a namespace alive after us.
 * A thread with an fd table of its own (CLONE_FILES unshared; kcmp() tells)
 * is read too, and given as -TID. *UNREADABLE (may be NULL) counts fd tables
 * we may not read.
 * Returns: 0, or the first negative FN returned, or -ENOMEM/-EMFILE. */
typedef int (*mnt_fd_fn)(pid_t pid, int fd, ino_t ino, void *userdata);
int mntns_walk_mnt_fds(mnt_fd_fn fn, void *userdata, unsigned *unreadable);

/* Both walks above in one pass over /proc: each process's namespace link,
 * thread count and fd table read once.
 * Returns: 0, or the first negative NS_FN or FD_FN returned, or -errno. */
int mntns_walk_procs(pid_ns_fn ns_fn, mnt_fd_fn fd_fn, void *userdata);

/* Open fds on mount namespace files (/proc/PID/fd/N -> "mnt:[INO]") that
 * pin namespace NS_INO. Scans every process's fd table, so callers use it
 * only for namespaces no process is in.
 * Returns: 0 with *ret_pins ("fd:PID:N" strings, NULL-terminated, may be
 * empty), or -errno. */
int mntns_fd_pins(ino_t ns_ino, char ***ret_pins);

/* Every process's mount namespace inode, from /proc (one readlink each),
 * threads listed on their own as -TID (see mntns_for_each_pid_ns).
 * Returns: 0, with *ret_pids and *ret_inos arrays of *ret_n entries (free()), or
 * -errno; *ret_unreadable counts processes we could not look at. */
int mntns_pid_map(pid_t **ret_pids, ino_t **ret_inos, size_t *ret_n, unsigned *ret_unreadable);
