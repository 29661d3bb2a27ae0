/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overlay.h: mounting and unmounting one instance's overlay.
 *
 * Promises: overlay_mount() passes every layer to the kernel as an fd
 * (FSCONFIG_SET_FD, 6.13+); failing that, as strings, lowers as "lowerdir+"
 * (taken as they are) and Upper and Work with each '\' escaped, since
 * overlayfs unescapes those (6.7+); on kernels with neither, in mount(2)'s one
 * option string with ',' ':' and '\' escaped as overlayfs's own parser
 * expects (6.1 to 6.6). Commas, colons, spaces and backslashes in paths are
 * thus never mis-split or mis-mounted. Where the kernel looked Upper and Work
 * up by path and the caller asks (spec.verify_layers), the kernel is asked
 * whether the dirs we hold (opened without following symlinks) are now
 * marked in use; one that is not proves it took another dir (a symlink
 * swapped in): the mount is undone (never attached on the new API) and
 * -ESTALE returned. Where it cannot be asked (no fsopen()), or does not
 * answer, the mount stands as made. The mount lands on the
 * Merged dir fd, so a symlink swapped in for Merged is never followed.
 * overlay_umount() is never lazy. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mounttab.h"

#define OVERLAY_SOURCE_PREFIX "overlay-helper:"

/* What to mount: the engine fills it from an instance's config. */
typedef struct overlay_spec {
        const char *name;        /* the mount source becomes "overlay-helper:NAME" */
        char *const *lowers;     /* NULL-terminated, top-most first */
        size_t n_lowers;
        const char *upper;
        const char *work;
        char *const *options;    /* NULL-terminated "key" or "key=value" */
        uint64_t mount_attr;     /* MOUNT_ATTR_* */
        /* After a mount from path strings (before 6.13), ask the kernel
         * whether it took the very Upper and Work dirs held (set where
         * someone but root may swap them: each ask makes 6.1-6.12 log
         * "upperdir is in-use as upperdir/workdir of another mount"). */
        bool verify_layers;
} overlay_spec;

typedef struct overlay_layers {
        char **lowers; /* NULL-terminated, top-most first */
        size_t n_lowers;
        char *upper;
        char *work;
} overlay_layers;

/* Reads the layers out of an overlay's (escaped) superblock options, in
 * either the lowerdir+= or the lowerdir=a:b form.
 * Returns: 0 or -ENOMEM. */
int overlay_layers_parse(const char *fs_options, overlay_layers *ret);

/* The first KEY=value of superblock options as overlayfs splits them (a ','
 * after a '\' is the value's), octal escapes undone; *ret_next (may be
 * NULL) where to look for the next. Returns: the value (free), or NULL. */
char *overlay_layer_value(const char *options, const char *key, const char **ret_next);

/* Undoes in place the '\' escapes overlayfs undoes in upperdir=, workdir=
 * and lowerdir= strings: how a path given as a string (before 6.13) shows
 * in the options, against one given by fd, shown as is. */
void overlay_unescape_path(char *s);
void overlay_layers_done(overlay_layers *l);

/* Returns: true if M is an overlay whose upper dir is SPEC's Upper. */
bool overlay_is_instance(const mount_entry *m, const overlay_spec *spec);

/* Returns: true if M is an overlay with exactly SPEC's lowers, upper and work. */
bool overlay_same_layers(const mount_entry *m, const overlay_spec *spec);

/* Mounts SPEC's overlay on MERGED_FD. On failure *ret_detail (malloc'd, may be
 * NULL) holds what the kernel said about it ("overlayfs: ...").
 * Returns: 0; -ESTALE when the kernel took other Upper or Work dirs than
 * those held (nothing stays mounted); -ENOTRECOVERABLE when it did after
 * mount(2) and unmounting that failed (it stays mounted); or -errno. */
int overlay_mount(const overlay_spec *spec, int upper_fd, int work_fd, int merged_fd,
                  char **ret_detail);

/* Returns: 0, -EBUSY while held, -EINVAL if nothing is mounted there. */
int overlay_umount(const char *merged);

/* Asks the kernel whether a live overlay superblock, anywhere, uses SPEC's
 * Upper (UPPER_FD) or Work (WORK_FD): overlayfs marks both in use while the
 * superblock that took the mark lives, and an index=on superblock tried on
 * them fails with EBUSY while they are marked. The kernel's "busy" is
 * authoritative; its "free" is not on its own: the mark is a flag, not a
 * count, so a second overlay mounted over the warning holds none, and
 * callers still scan. The check writes nothing to Upper and removes the
 * Work/work it made; concurrent checks and mounts must be serialised by the
 * caller (a check's superblock holds the mark while it lives). A busy check
 * makes the kernel log one line. Without layer fds (before 6.13) Upper and
 * Work go in as strings, '\' escaped; without lowerdir+ (6.1 to 6.6) Work
 * also goes in a "lowerdir=" string, ':' and '\' escaped; a ',' behind the
 * VFS's legacy adapter (before 6.5), which refuses it escaped or not, is not
 * asked about (-EOPNOTSUPP). The kernel resolves those paths itself: "not
 * marked" is given only if they still name UPPER_FD and WORK_FD afterwards
 * (-ESTALE if not).
 * Returns: 1 in use, 0 not marked, -EOPNOTSUPP when this kernel (or a
 * seccomp filter) does not let us ask, other -errno when it is unknown. */
int overlay_in_use(const overlay_spec *spec, int upper_fd, int work_fd);
