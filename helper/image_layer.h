/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_layer.h: an overlay instance's image lowers (Lower= naming an image
 * file); the overlay kind's files and the image files (image_layer.c,
 * image_setup.c, image_teardown.c) only include it.
 *
 * Promises: one image, one loop device, whoever uses it: a run that needs
 * an image finds the read-only device already backed by the image's
 * (device, inode), offset 0, or attaches one (read-only, autoclear, no
 * partition scan), under RUNTIME_DIR/.image-KEY.lock, so concurrent runs
 * end with one device. The kernel is the registry: the image's mount lasts
 * only while the overlay is made (RUNTIME_DIR/images/KEY, which the
 * overlay's options then name), then the overlays' own clones hold the
 * device, and autoclear detaches it when the last goes; no state file.
 * Refused (busy, exit 3): an image someone has open for writing or attached
 * read-write, and a device whose image changed since it was attached (a
 * stale view). After an unmount, the devices of the images the overlay
 * named must be shared by another overlay or gone; what still claims one is
 * named; an image mount a killed run left is taken off by the next run. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

#include "image.h"
#include "image_users.h"
#include "inst.h"
#include "loopdev.h"

/* Waiting for another run's setup of the same image (the check lock and a
 * mount come in between): generous, bounded. */
#define IMAGE_LOCK_EXTRA_SEC 30.0

typedef struct img_layer {
        const char *image;      /* Lower= as configured (borrowed), or NULL when known by key */
        char label[IMAGE_KEY_MAX + 48]; /* the image's path, or "the image KEY" */
        int fd;                 /* the image, read-only (-EBADF when known by key) */
        struct stat st;         /* of the image (by key: st_dev and st_ino only) */
        char key[IMAGE_KEY_MAX]; /* image_key() */
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

/* Opens CFG's image lowers for a mount, checks each holds a layer
 * filesystem, and takes their locks (in key order). One image named twice
 * (a hard link) is a config error. Returns: 0 (RET empty when there are
 * none), or -errno with F filled. */
int img_open(const inst_run *run, img_layers *ret, inst_failure *f);

/* Under the locks: refuses writers, read-write attachments and stale
 * views, finds or attaches each image's device and mounts it on its
 * mount dir. Returns: 0, or -errno with F filled (undo with img_release). */
int img_prepare(const inst_run *run, img_layers *l, inst_failure *f);

/* After the overlay mount (made or not: MOUNTED): takes the image mounts
 * off their dirs, closes our device fds (a device we attached for a mount
 * that failed is detached), and releases the locks. */
void img_release(const inst_run *run, img_layers *l, bool mounted);

/* The keys of the images overlay M took (its lowers beneath
 * RUNTIME_DIR/images/): the kernel's record of what it uses, whatever
 * Lower= names now. Returns: 0 and *ret (strv_free; NULL when none), -ENOMEM. */
int img_keys_of_mount(const engine_env *env, const mount_entry *m, char ***ret);

/* What still claims an image's device after its overlay is gone. */
typedef struct img_hold {
        probe_result held;      /* its mounts, in every namespace, and its other users */
        char label[IMAGE_KEY_MAX + 48];
        char device[32];        /* "/dev/loopN" */
} img_hold;

/* After the instance's overlay is gone everywhere: the devices of the
 * images it used (MOUNTED_KEYS, the overlay's record, and those Lower=
 * names now) are each either still used by another overlay (shared: fine),
 * or gone, or only open (an fd, udev): autoclear detaches them at the last
 * close, said so. Image mounts killed runs left are taken off first.
 * UNMOUNTED: this run unmounted the overlay (a release is worth a line).
 * Returns: 0 when every device is settled; 1 with *HOLD filled (free its
 * held) while something else claims one (a mount of it in any namespace, a
 * stacked device): the caller waits and asks again; or -errno with F. */
int img_settle(const inst_run *run, char *const *mounted_keys, bool unmounted, img_hold *hold,
               inst_failure *f);

/* Takes off the image mounts killed runs left beneath RUNTIME_DIR/images
 * (those whose image no run has locked). Returns: 0, or -errno with F. */
int img_tidy(const inst_run *run, inst_failure *f);

/* The Lower= of CFG that is the image (DEV, INO) now, or NULL (renamed
 * over, removed, or no Lower= of this config). */
const char *img_lower_of(const overlay_config *cfg, dev_t dev, ino_t ino);

/* Of the devices backing an image, the one a mount shares: read-only, at
 * offset 0, the whole file. Returns: it, or NULL. */
const loopdev_info *img_device_to_share(const loopdev_info *devs, size_t n);

void img_layers_done(img_layers *l);

/* What image_setup.c and image_teardown.c share (image_layer.c). */
void img_layer_init(img_layer *l, const char *image);
int img_layer_from_key(const engine_env *env, const char *key, img_layer *ret);
void img_layer_done(img_layer *l);
/* Returns: 0 (WAIT_SEC < 0: the run's --wait and more), -EBUSY with F. */
int img_lock(const inst_run *run, img_layer *l, double wait_sec, inst_failure *f);
void img_unlock(const inst_run *run, img_layer *l);
/* Returns: 1 a leftover mount on L's dir was taken off, 0 none, -errno. */
int img_unmount_leftover(const img_layer *l);
/* The scan of L's users (a /proc walk and every namespace's table: only on
 * the paths that refuse or wait), under L's lock. */
int img_scan_users(const inst_run *run, const img_layer *l, dev_t devnum, image_users *ret);
/* The overlays among U's users, joined (free), *RET_N how many. */
char *img_overlay_users(const image_users *u, size_t *ret_n);
