/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_users.h: why a loop device over an image file stays attached, and
 * who writes the image meanwhile.
 *
 * Promises: image_users_scan() finds the loop devices backing an image by
 * the kernel's record of the file's (device, inode) (loopdev.h), never by
 * a path string, and names what keeps them attached: the overlays, in
 * every mount namespace, that took the image's mount dir
 * (RUNTIME_DIR/images/KEY, image.h) as a lower and so hold the device
 * through private clones no mount table shows; mounts of the devices; the
 * processes with a device node open; the stacked devices (sysfs holders)
 * on them. Where nothing found claims a device (a mount, a stacked
 * device, an overlay on an image with no other device) it asks the kernel
 * (an O_EXCL open, which a mount of the device at that instant would find
 * busy), and names the claims nothing found explains. It names the
 * processes with the image open for writing (an fd, a shared writable
 * mapping), asking the kernel (a read lease) first whether there are any.
 * What could not be read is counted in n_unreadable, never fatal. Nothing
 * here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "probe.h"

typedef struct image_users_query {
        bool have_image;        /* IMAGE_DEV, IMAGE_INO are set */
        dev_t image_dev;
        ino_t image_ino;
        const char *image_path; /* to ask the kernel about writers (may be NULL) */
        dev_t devnum;           /* one loop device to answer for alone, or 0: all of the image's */
        dev_t shown_devnum;     /* its mounts are the caller's to show (a probe's copies), or 0 */
        const char *runtime_dir; /* where RUNTIME_DIR/images/KEY is looked for, or NULL */
        bool lock_held;         /* the caller holds the image's lock (image_layer.h): else
                                 * the kernel is asked about claims only while nobody does */
} image_users_query;

typedef struct image_users {
        /* NULL-terminated, NULL when none (strv_free) */
        char **loop_devices;    /* every device backing the image: "/dev/loop3 ro autoclear
                                 * offset=0 diskseq=9 tag='...'" */
        char **users;           /* what keeps the devices asked about attached:
                                 * "overlay SOURCE on MOUNTPOINT in mnt:[INO]",
                                 * "/dev/loopN mounted on MOUNTPOINT in mnt:[INO]",
                                 * "PID(COMM) fd N", "stacked device dm-0 on /dev/loopN" */
        char **writers;         /* "PID(COMM) fd N (write)", "PID(COMM) mmap (shared, writable)" */
        char **unnamed_claims;  /* "/dev/loopN": claimed, by nothing found above */
        char device[24];        /* "/dev/loopN" of the device asked about (else of
                                 * SHOWN_DEVNUM), or "" */
        bool claim_asked;       /* the kernel answered, or the scan found the claim, for
                                 * every device asked about */
        bool claimed;           /* one is claimed (mounted, or a stacked device) */
        int claim_error;        /* why it could not be asked (-errno), or 0 */
        bool writer_unnamed;    /* the kernel reports a writer, the scan found none, and
                                 * no device is attached read-write */
        unsigned n_unreadable;
        unsigned n_ns_unreadable; /* of them, namespaces (which a probe's own scan counts) */
} image_users;

/* Returns: 0 and *ret (free with image_users_done), or -errno (-ENOMEM). */
int image_users_scan(const image_users_query *q, image_users *ret);
void image_users_done(image_users *u);

/* For a probe of a loop device or an image file (T->image): scans its
 * users and moves them into R (loop_devices, dev_users, writers, the
 * kernel's claim, n_unreadable added); other targets are left alone.
 * Returns: 0, or -errno with R as it was. */
int image_users_probe(const probe_target *t, const char *runtime_dir, bool lock_held,
                      probe_result *r);
