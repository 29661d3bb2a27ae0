/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holders_internal.h: what holders.c (holder_inspect_target) and
 * holders_any.c (holder_inspect_any) share. No other module includes this. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "holders.h"

typedef struct scan {
        const holder_target *target;
        holder *h;
        pid_t base;             /* the task whose /proc dir is read: PID, or TID */
        int base_fd;            /* /proc/BASE */
        ino_t base_ns;          /* its mount namespace, 0 until read (or unreadable) */
        bool base_ns_read;
        size_t cap;             /* allocated slots in h->refs */
        unsigned n_read;        /* parts read */
        unsigned n_denied;      /* parts refused: EACCES, EPERM */
        bool maybe_gone;        /* something failed with ENOENT/ESRCH */
        char path[PATH_MAX + 1];
} scan;

/* Folds one part's result into the scan; only real failures (ENOMEM, EIO)
 * remain. Returns: 0, or that -errno. */
int holders_part_done(scan *s, int r);

/* Returns: true if PROCMAP_QUERY is refused on a maps file of our own. */
bool holders_procmap_refused(void);

/* Returns: true while the process at PROCFD is not reaped (a zombie is). */
bool holders_proc_alive(int procfd);

/* Returns: an O_PATH fd of /proc/PID (PID, or -TID: /proc/TID is that
 * thread's view), -ESRCH if it is gone, other -errno. */
int holders_open_proc(pid_t pid);
