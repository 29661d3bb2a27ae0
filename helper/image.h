/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image.h: an image file (erofs, squashfs, ext4) as a read-only layer.
 *
 * Promises: an image is known by the (device, inode) of its file, never by
 * a path string: image_key() names it so, and the dir it is mounted on for
 * an overlay to take is RUNTIME_DIR/images/KEY (image_mount_path()). The
 * stamp a loop device carries of it (lo_file_name: its mtime and ctime
 * when attached, with the device's size) tells a stale view from a fresh
 * one. image_open_for_write() asks the kernel (a read lease is refused
 * while anyone has the file open for writing, a shared writable mapping
 * included); image_fstype() asks libblkid. image_mount() mounts a loop
 * device read-only, nodev, nosuid. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define IMAGE_DIR "images"          /* beneath the runtime dir */
#define IMAGE_KEY_MAX 64
#define IMAGE_TAG_PREFIX "overlay-helper:"

/* KEY: "MAJOR.MINOR-INODE" of the image file ST is of. */
void image_key(const struct stat *st, char key[IMAGE_KEY_MAX]);

/* Returns: "RUNTIME_DIR/images/KEY" (free), or NULL. */
char *image_mount_path(const char *runtime_dir, const struct stat *st);

/* Opens PATH read-only (following symlinks: the config is root's) and
 * checks it is a regular file. Returns: fd and *ret_st, -EISDIR for a dir,
 * -EINVAL for anything else that is not a regular file, -errno. */
int image_open(const char *path, struct stat *ret_st);

/* The filesystem in the image at FD, as libblkid names it, if it is one a
 * layer may be: erofs, squashfs, ext4, ext3, ext2.
 * Returns: 0 and *ret (free); -EMEDIUMTYPE with *ret the type found (or
 * NULL when none was) for anything else; -EOPNOTSUPP when libblkid cannot
 * be loaded; -errno. */
int image_fstype(int fd, char **ret);

/* The kernel's answer: does anyone have the image at FD (ours, opened
 * read-only) open for writing? A read lease is refused (EAGAIN) while the
 * inode has a writer, a loop device attached read-write and a shared
 * writable mapping included.
 * Returns: 1 yes, 0 no, -EOPNOTSUPP when the kernel cannot be asked here
 * (leases disabled, a filesystem without them), -errno. */
int image_open_for_write(int fd);

/* The stamp of ST for lo_file_name: "overlay-helper:MTIME:CTIME", each
 * "SEC.NSEC"; fits LO_NAME_SIZE. */
void image_tag(const struct stat *st, char tag[64]);

/* Is a device with TAG and SIZE bytes a fresh view of the image ST
 * describes? The size is the file's, rounded down to 512-byte sectors as
 * the loop driver rounds it. Returns: 1 fresh, 0 stale (*ret_why says
 * what changed: static), 2 when only the ctime moved (a link, chmod,
 * chown changes it too: image_same_blocks() tells), -ENODATA when TAG is
 * not one of ours (a device someone else attached: only the size could be
 * compared, and was not the same when *ret_why is set). */
int image_tag_fresh(const char *tag, uint64_t size, const struct stat *st, const char **ret_why);

/* Whether the first and last MiB of the image at IMAGE_FD are what the
 * device at DEV_FD (its loop device, SIZE bytes) shows: what an overlay on
 * the device reads, against what the file holds now.
 * Returns: 1 the same, 0 not, -errno. */
int image_same_blocks(int image_fd, int dev_fd, uint64_t size);

/* Mounts the loop device open at LOOP_FD (FSTYPE) read-only, nodev, nosuid
 * on the dir DIR_FD. *ret_detail (malloc'd, may be NULL): the kernel's words.
 * Returns: 0 or -errno. */
int image_mount(int loop_fd, const char *fstype, int dir_fd, char **ret_detail);
