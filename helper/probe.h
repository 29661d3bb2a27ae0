/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe.h: who keeps a filesystem alive, in every mount namespace.
 *
 * Promises: probe_scan() reads each mount namespace's table once
 * (mntns_scan), keeps the copies of the target (same superblock, or an
 * overlay on the same Upper or Work dir) and the mounts beneath them, and for
 * every namespace holding a copy lists its processes with what each holds
 * inside the target (holder_inspect). In PID 1's namespace, and in a copy
 * that receives the unmount from it (probe_class.h), only processes with
 * references are listed: being in that namespace does not keep the mount
 * alive there; in a copy that survives the unmount it does, so every member
 * is listed. Active swap files on the target are named with its loop
 * devices. A loop device or image file is probed as the device's
 * superblock; what else keeps the device attached (image_users.h) the
 * caller adds with image_users_probe(). What could not be read is counted
 * in n_unreadable, never fatal.
 * probe_scan_many() answers for many targets at the cost of about one:
 * one pass over the namespaces and one over the processes, shared. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "holders.h"

typedef struct probe_target {
        char *input;    /* what the user typed */
        char *instance; /* instance name, or NULL */
        char *path;     /* mount point (Merged for an instance), or NULL */
        dev_t devnum;   /* superblock device; 0 when not mounted (ghost hunt by layers) */
        char *upper;    /* overlay Upper and Work, to recognise copies after an unmount */
        char *work;
        uint64_t min_mnt_id; /* copies of a mount have later unique ids: scan from here */
        /* Upper's and Work's (device, inode), when known: an overlay that
         * names them by another path is recognised too */
        bool have_layer_ids;
        dev_t upper_dev, work_dev;
        ino_t upper_ino, work_ino;
        /* A loop device, or an image file (then DEVNUM is the device that
         * backs it, preferring a read-only one at offset 0; 0 when none
         * does): image_users.h says what else holds it. */
        bool image;
        bool by_device;     /* TARGET named the loop device: answer for it alone */
        bool have_image_id; /* the image file's (device, inode) */
        dev_t image_dev;
        ino_t image_ino;
        char *image_path;   /* the image file, as given or as sysfs names it, or NULL */
} probe_target;

/* What an unmount of the target in PID 1's namespace does to a copy;
 * ordered so that a copy of several mounts takes the last of theirs. */
typedef enum probe_prop {
        PROBE_PROP_INIT,             /* the copy in PID 1's namespace: what is unmounted */
        PROBE_PROP_RECEIVES,         /* unmounted along with it (a slave or peer):
                                      * holds only what its processes hold in it */
        PROBE_PROP_GHOST_IN_WAITING, /* survives the unmount (private, a slave of
                                      * something else, mounts on it): every member holds */
        PROBE_PROP_GHOST,            /* not mounted in PID 1's namespace: a ghost now */
} probe_prop;

typedef struct probe_copy {
        uint64_t ns_id;
        ino_t ns_ino;
        bool init;          /* PID 1's namespace */
        probe_prop propagation;
        bool other_sb;      /* holds an overlay on the same layers with another superblock
                             * than the target's devnum: a second live overlay */
        char **mountpoints; /* NULL-terminated: where the copy is mounted in it */
        char **pinned_by;   /* NULL-terminated: "bind:PATH", "fd:PID:N" */
        char **submounts;   /* NULL-terminated */
        holder *processes;
        size_t n_processes;
} probe_copy;

typedef struct probe_result {
        probe_copy *copies;
        size_t n_copies;
        size_t n_holders;   /* processes with references, or in a copy that
                             * survives an unmount (ghost or ghost in waiting) */
        unsigned n_unreadable;
        char **loops;       /* NULL-terminated or NULL: loop devices backed on the
                             * target, "/dev/loopN (backing FILE)" (loops.h) */
        char **swaps;       /* NULL-terminated or NULL: active swap files on the
                             * target, as /proc/swaps names them (swaps.h) */
        /* Set by a caller that asked the kernel (overlay_in_use): whether a
         * live overlay superblock uses the target's Upper or Work, which
         * the kernel knows even where no scan can see. */
        bool kernel_asked;
        bool kernel_in_use;
        int kernel_error;   /* why it could not be asked (-errno), or 0 */
        bool mounted;       /* a copy sits in PID 1's namespace */
        /* A loop device or image target (image_users_probe()), each
         * NULL-terminated or NULL: */
        char **loop_devices; /* the devices backing the image, with their flags */
        char **dev_users;    /* what keeps the device attached that no copy shows:
                              * overlays on the image's mount dir, mounts of the
                              * image's other devices, fds on it, stacked devices */
        char **writers;      /* processes with the image open for writing: a
                              * warning, not a holder */
        char **unnamed_claims; /* "/dev/loopN": the kernel reports it claimed,
                                * and nothing found explains it */
        bool dev_claim_asked; /* the kernel answered whether the device is claimed */
        bool dev_claimed;    /* ...and says it is (a mount or a stacked device) */
        int dev_claim_error; /* why it could not be asked (-errno), or 0 */
        bool writer_unnamed; /* the kernel reports a writer the scan cannot name */
        char device[24];     /* "/dev/loopN" of the target's device, or "" */
} probe_result;

/* Fills T for a path (a mount point or any path inside a mount), a block
 * device, or an image file: a regular file a loop device backs (by its
 * device and inode), or one holding a layer filesystem (image.h) that none
 * backs (T->image with devnum 0). Any other regular file is a path.
 * Returns: 0, -ENOENT (no such path), other -errno (an image whose loop
 * devices could not be looked at, say). */
int probe_target_from_path(const char *path, probe_target *ret);
void probe_target_done(probe_target *t);

/* Sets T's layer ids from a stat() of its Upper and Work, when both are set
 * and exist (else leaves have_layer_ids false). */
void probe_target_layer_ids(probe_target *t);

/* Returns: 0 and *ret (free with probe_result_done), or -errno. */
int probe_scan(const probe_target *t, probe_result *ret);

/* RET[i] for each of the N TARGETS, each as probe_scan(&TARGETS[i]) gives
 * it (copies, holders, min_mnt_id and n_unreadable alike), from one read
 * of every namespace's table (from the smallest min_mnt_id of all) and
 * one look at each process in a namespace holding a copy of any of them.
 * One difference: a target whose min_mnt_id is later than another's may
 * be shown nsfs pins its own scan would not have listed (pins made before
 * its mount), never fewer. probe_scan() is probe_scan_many(T, 1, RET).
 * Returns: 0 and RET[0..N) (free each with probe_result_done), or -errno
 * with RET untouched; N = 0 does nothing and returns 0. */
int probe_scan_many(const probe_target *targets, size_t n, probe_result *ret);
void probe_result_done(probe_result *r);

/* True when no copy of the target is mounted in any namespace, nothing
 * else found holds it, and nothing says otherwise: the kernel, where it was
 * asked, reports Upper and Work not in use (an instance) or the device not
 * claimed (a loop device), and every process and namespace could be read. What `probe --watch` waits for after an unmount. */
bool probe_free(const probe_result *r);

/* True when the scan found nothing, but cannot vouch for it: the kernel
 * could not be asked (an instance: unprivileged, the check lock busy, a
 * path this kernel's check cannot carry; a loop device: unprivileged), or
 * some process or namespace could not be read. Neither free nor busy: "free" needs the kernel's word
 * where it has one, never the scan's alone. */
bool probe_undecided(const probe_result *r);

/* One line naming the holders: "35259(left4me-overlay) 1200(sleep)"; past
 * PROBE_LINE_HOLDERS_MAX of them, "and 4,968 more (5,000 in all)". */
#define PROBE_LINE_HOLDERS_MAX 32
char *probe_holders_line(const probe_result *r);
