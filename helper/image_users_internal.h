/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_users_internal.h: what image_users.c and image_users_procs.c (its
 * walk over /proc) share; nothing else includes it. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "image.h"
#include "image_users.h"
#include "loopdev.h"
#include "util.h"

typedef struct iu_dev {
        loopdev_info info;
        bool bound;     /* INFO was read: a file is attached */
        bool asked;     /* one the query answers for */
        bool explained; /* a mount of it or a stacked device was found */
} iu_dev;

typedef struct iu_scan {
        const image_users_query *q;
        image_users *u;
        iu_dev *devs;
        size_t n_devs, n_asked;
        char *image_dir;        /* RUNTIME_DIR/images/KEY, or NULL */
        char tail[IMAGE_KEY_MAX + 16]; /* "/images/KEY" */
        bool overlay_found;     /* explains a claim of any of the image's devices */
        bool want_writers;      /* the kernel did not rule writers out */
        pid_t self;
} iu_scan;

/* Appends a formatted string to *V. Returns: 0 or -ENOMEM. */
int iu_add_fmt(char ***v, const char *fmt, ...) _printf_(2, 3);

/* The scan's device DEVNUM, or NULL. */
iu_dev *iu_find_dev(const iu_scan *s, dev_t devnum);

/* Counts what could not be read of a process (one gone does not count).
 * Returns: 0, or -ENOMEM to stop. */
int iu_unreadable(iu_scan *s, int r);

/* One walk over /proc: processes with an asked device's node open, and
 * (S->want_writers) those writing the image. Returns: 0 or -errno. */
int iu_scan_processes(iu_scan *s);
