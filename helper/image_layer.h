/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_layer.h: an overlay instance's image lowers (Lower= naming an image
 * file); the overlay kind's files only include it.
 *
 * Promises: one image, one loop device, whoever uses it: a run that needs
 * an image finds the read-only device already backed by the image's
 * (device, inode), offset 0, or attaches one (read-only, autoclear, no
 * partition scan), under RUNTIME_DIR/.image-KEY.lock, so concurrent runs
 * end with one device. The kernel is the registry: the image's mount lasts
 * only while the overlay is made (RUNTIME_DIR/images/KEY), then the
 * overlays' own clones hold the device, and autoclear detaches it when the
 * last goes; no state file. Refused (busy, exit 3): an image someone has
 * open for writing or attached read-write, and a device whose image
 * changed since it was attached (a stale view). After an unmount, a device
 * no other overlay uses must be gone; what still holds it is named. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include "inst.h"
#include "loopdev.h"

typedef struct img_layer {
        const char *image;      /* Lower= as configured (borrowed) */
        int fd;                 /* the image, read-only */
        struct stat st;
        char key[64];           /* image_key() */
        char *fstype;
        char *mount_path;       /* RUNTIME_DIR/images/KEY */
        int lock_fd;            /* RUNTIME_DIR/.image-KEY.lock */
        int loop_fd;            /* our fd on its loop device */
        int udev_lock_fd;       /* BSD lock held while a device we attached is set up */
        loopdev_info loop;
        bool attached;          /* attached by this run */
        bool mounted;           /* mount_path is mounted (by this run or a killed one) */
} img_layer;

typedef struct img_layers {
        img_layer *v;
        size_t n;
} img_layers;

/* Sets CFG->layer_lowers: Lower= as the overlay takes it, an image by its
 * mount dir (RUNTIME_DIR/images/KEY), so an instance's mount is recognised
 * by its layers. Lowers that cannot be looked at stay as they are. Does
 * nothing when no Lower= is a regular file. Returns: 0 or -ENOMEM. */
int img_resolve_lowers(const engine_env *env, overlay_config *cfg);

/* Opens CFG's image lowers, checks (FOR_MOUNT) each holds a layer
 * filesystem, and takes their locks (in key order). Returns: 0 (RET empty
 * when there are none), or -errno with F filled. */
int img_open(const inst_run *run, bool for_mount, img_layers *ret, inst_failure *f);

/* Under the locks: refuses writers, read-write attachments and stale
 * views, finds or attaches each image's device and mounts it on its
 * mount dir. Returns: 0, or -errno with F filled (undo with img_release). */
int img_prepare(const inst_run *run, img_layers *l, inst_failure *f);

/* After the overlay mount (made or not: MOUNTED): takes the image mounts
 * off their dirs, closes our device fds (a device we attached for a mount
 * that failed is detached), and releases the locks. */
void img_release(const inst_run *run, img_layers *l, bool mounted);

/* What still holds an image's device after its overlay is gone. */
typedef struct img_hold {
        probe_result held;      /* its mounts, in every namespace, and its other users */
        const char *image;      /* the config's Lower= */
        char device[32];        /* "/dev/loopN" */
} img_hold;

/* After the instance's overlay is gone everywhere: each of its images'
 * devices is either still used by another overlay (shared: fine), or must
 * be gone; a leftover image mount of a killed run is taken off first.
 * Returns: 0 when every device is settled; 1 with *HOLD filled (free its
 * held) when something else holds one (a mount of it in any namespace, an
 * open fd on it, a stacked device): the caller waits and asks again; or
 * -errno with F filled. */
int img_settle(const inst_run *run, img_hold *hold, inst_failure *f);

/* Takes off the image mounts a killed run left (the instance is mounted
 * already). Returns: 0, or -errno with F filled. */
int img_tidy(const inst_run *run, inst_failure *f);

/* Of the devices backing an image, the one a mount shares: read-only, at
 * offset 0, the whole file. Returns: it, or NULL. */
const loopdev_info *img_device_to_share(const loopdev_info *devs, size_t n);

void img_layers_done(img_layers *l);
