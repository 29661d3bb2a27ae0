/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* procfs.h: small facts about processes, from /proc.
 *
 * Promises: nothing here logs; a process or thread that ends mid-call is
 * skipped, never an error. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Calls FN with an O_PATH fd of /proc/PID/task/TID for every thread of the
 * process at PROCFD (/proc/PID) but the leader PID itself: a thread that
 * unshared its fs (CLONE_FS) has a cwd and root of its own, and
 * /proc/PID/cwd shows only the leader's.
 * Returns: 0, or the first negative value FN returned. */
int procfs_each_thread(int procfd, pid_t pid, int (*fn)(int task_fd, pid_t tid, void *ud),
                       void *ud);

/* Returns: true if the process PID is a kernel thread (no mm, no exe). */
bool pid_is_kernel_thread(pid_t pid);
