/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_pids.h: processes and their mount namespaces, read from /proc.
 *
 * Promises: every walk tolerates processes that vanish under it (lsns's
 * rule); a link that is not a mount namespace's is skipped, and one we may
 * not read is counted where the caller asks for it. Nothing here enters a
 * namespace or reads a mount table. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mntns_table.h"

/* Returns: 0 and *ret for a link "mnt:[INO]" at PATH in DIR_FD, -EINVAL for
 * another, -errno. */
int mntns_read_ns_link(int dir_fd, const char *path, ino_t *ret);

/* Appends process PID (with TID, its thread listed on its own; else 0) in
 * namespace INO to S's pid map (see mntns_set).
 * Returns: 0, or -ENOMEM. */
int mntns_remember_pid(mntns_set *s, pid_t pid, pid_t tid, ino_t ino);

/* Calls FN for every process with its mount namespace's inode, or with the
 * -errno of reading that link (the process may be gone, or not ours to see),
 * and TID 0; and with TID for a thread of PID listed on its own: one in
 * another mount namespace than its process (unshare(CLONE_NEWNS) by one
 * thread), or the first live thread of a process whose leader has exited,
 * which stands for it. /proc/TID, like /proc/PID, is that thread's view (its
 * cwd, fds, maps, namespace). PROC_FD is an fd of /proc.
 * Returns: 0, or the first negative FN returned. */
typedef int (*pid_ns_fn)(int proc_fd, pid_t pid, pid_t tid, ino_t ino, int link_error,
                         void *userdata);
int mntns_for_each_pid_ns(pid_ns_fn fn, void *userdata);

/* Calls FN for every open fd on a mount namespace file, in every process
 * but ourselves: our own are never what keeps a namespace alive after us.
 * A thread with an fd table of its own (CLONE_FILES unshared; kcmp() tells)
 * is read too, and given as TID (0 for the process's table). *UNREADABLE
 * (may be NULL) counts fd tables we may not read.
 * Returns: 0, or the first negative FN returned, or -ENOMEM/-EMFILE. */
typedef int (*mnt_fd_fn)(pid_t pid, pid_t tid, int fd, ino_t ino, void *userdata);
int mntns_walk_mnt_fds(mnt_fd_fn fn, void *userdata, unsigned *unreadable);

/* Both walks above in one pass over /proc: each process's namespace link,
 * thread count and fd table read once. With RECORD, each fd is statx()ed
 * once (its mount id unique with UNIQUE_IDS) and only those on nsfs are read
 * as links; every process's (device, mount) pairs, and its thread count,
 * go to RECORD's fd_records and fd_refs, for holder_inspect_any().
 * Returns: 0, or the first negative NS_FN or FD_FN returned, or -errno. */
int mntns_walk_procs(pid_ns_fn ns_fn, mnt_fd_fn fd_fn, void *userdata, mntns_set *record,
                     bool unique_ids);

/* Open fds on mount namespace files (/proc/PID/fd/N -> "mnt:[INO]") that
 * pin namespace NS_INO. Scans every process's fd table, so callers use it
 * only for namespaces no process is in.
 * Returns: 0 with *ret_pins ("fd:PID:N" strings, "fd:PID:N (thread TID)" for
 * a thread's own table; NULL-terminated, may be empty), or -errno. */
int mntns_fd_pins(ino_t ns_ino, char ***ret_pins);

/* What the /proc walk kept of process PID's fd tables in S (see
 * mntns_walk_procs): *ret_refs, *ret_n of them, and its thread count.
 * Returns: true if there is a record. */
bool mntns_fd_record_find(const mntns_set *s, pid_t pid, const mntns_fd_ref **ret_refs, size_t *ret_n,
                     unsigned *ret_threads);

/* Every process's mount namespace inode, from /proc (one readlink each),
 * threads listed on their own with their TID in *ret_tids (see
 * mntns_for_each_pid_ns; 0 for the process itself).
 * Returns: 0, with *ret_pids, *ret_tids and *ret_inos arrays of *ret_n
 * entries (free()), or -errno; *ret_unreadable counts processes we could not
 * look at. */
int mntns_pid_map(pid_t **ret_pids, pid_t **ret_tids, ino_t **ret_inos, size_t *ret_n,
                  unsigned *ret_unreadable);
