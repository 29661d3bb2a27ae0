/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loopdev.h: read-only loop devices over image files, shared through the
 * kernel's own record of them.
 *
 * Promises: loopdev_attach() binds an image read-only with autoclear (the
 * kernel detaches it at the last close, so a crash never leaks a device) and
 * checks what the kernel really did before trusting it. A device is named by
 * its number and identified by its diskseq (where the kernel has one, else by
 * the backing file's device and inode), never by a path string, so a number
 * recycled for another image is told apart (-ESTALE). Scans open devices
 * read-only (no udev change event) and skip those that vanish mid-scan.
 * Nothing here logs or keeps state: 0 or -errno everywhere. */
#pragma once

#include <linux/loop.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct loopdev_info {
        int nr;                 /* N of /dev/loopN */
        dev_t devnum;           /* the block device */
        dev_t backing_dev;      /* the backing file's st_dev (LOOP_GET_STATUS64 lo_device) */
        ino_t backing_ino;      /* lo_inode */
        uint64_t offset, sizelimit;
        uint32_t flags;         /* LO_FLAGS_* */
        uint64_t diskseq;       /* BLKGETDISKSEQ; 0 where the kernel has none (before 5.15) */
        uint64_t size;          /* BLKGETSIZE64, bytes */
        char tag[LO_NAME_SIZE]; /* lo_file_name as set at attach, NUL-terminated */
} loopdev_info;

/* "/dev/loopN" into BUF. Returns: 0, -ENAMETOOLONG. */
int loopdev_path(int nr, char *buf, size_t size);

/* Reads INFO of the loop device open at FD.
 * Returns: 0, -ENXIO when it is not bound to a file, -ENOTBLK, -errno. */
int loopdev_info_fd(int fd, loopdev_info *ret);

/* Every bound loop device whose backing file is (DEV, INO), whatever its
 * offset and flags, checked on an fd of each (opened read-only).
 * Returns: 0 and *ret (malloc'd, free(); NULL when *n is 0) and *n, or -errno. */
int loopdev_find_backing(dev_t dev, ino_t ino, loopdev_info **ret, size_t *n);

/* Opens /dev/loopN of INFO (O_RDONLY|O_CLOEXEC plus EXTRA_FLAGS, e.g. O_EXCL;
 * no access mode bits) and checks it is still that device: the same diskseq
 * where INFO has one, else the same backing dev/ino, offset and sizelimit.
 * Returns: the fd, -ESTALE when it is another attachment now (recycled),
 * -ENXIO when unbound or gone, -EBUSY (O_EXCL: INFO's device, claimed by a
 * mount or a holder), -EINVAL, -errno. */
int loopdev_open(const loopdev_info *info, int extra_flags);

/* Whether a filesystem or a stacked device (dm) still claims INFO's device:
 * the kernel's answer to an O_EXCL open, which our test open then closes at
 * once. With LO_FLAGS_AUTOCLEAR that close may be the device's last one and
 * detach it: nobody used it, so that is as it should be.
 * Returns: 1 claimed, 0 not claimed, -ESTALE or -ENXIO when it is no longer
 * INFO's device (gone: claimed by nobody on INFO's behalf), -errno. */
int loopdev_claimed(const loopdev_info *info);

/* Attaches IMAGE_FD (a regular file, open O_RDONLY) read-only and autoclear,
 * without partition scan, at offset 0, with lo_file_name TAG (truncated to
 * LO_NAME_SIZE-1 bytes). Takes a free device, locks it against udev on a
 * second fd, configures it (LOOP_CONFIGURE, else LOOP_SET_FD and
 * LOOP_SET_STATUS64) and checks the size (the image's, rounded down to 512
 * bytes as the kernel does) and flags; a device another process took first is
 * given up for a new one after a short random backoff, up to 64 times. A
 * device we bound is detached again on any later failure.
 * Returns: the loop fd (O_RDONLY) with *ret filled and *ret_lock_fd the locked
 * second fd (close it once the setup is done: after mounting the device), or
 * -EBUSY (no device could be had), -EINVAL (not a regular file open
 * O_RDONLY), -errno. */
int loopdev_attach(int image_fd, const char *tag, loopdev_info *ret, int *ret_lock_fd);

/* Detaches the device open at FD, for a setup that failed: syncs, deletes any
 * partitions, then LOOP_CLR_FD. The kernel clears the device at its last
 * close, so while FD (or anyone else) still has it open it is only marked
 * autoclear; close FD afterwards.
 * Returns: 0, -ENXIO when it is not bound (any more), -errno. */
int loopdev_detach(int fd);

/* The names in /sys/block/loopN/holders/ (dm and other stacked devices).
 * Returns: 0 and *ret (NULL-terminated, NULL when none: strv_free), -ENOENT
 * when there is no loopN, -errno. */
int loopdev_sysfs_holders(int nr, char ***ret);
