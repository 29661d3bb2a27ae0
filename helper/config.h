/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.h: instance names and their [Overlay] config files.
 *
 * Promises: config_load() reads CONFIG_DIR/INSTANCE.conf, or for PREFIX@ARG
 * CONFIG_DIR/PREFIX@.conf with %i expanded to ARG, and returns a fully
 * validated overlay_config: absolute normalised paths, defaults filled in
 * from STATE_DIR, no overlapping dirs, Upper and Work on one filesystem,
 * options from the allow-list only. It never logs; every rejection comes back
 * as -EINVAL (bad name or content) or -ENOENT (no config file) with a
 * malloc'd message naming "FILE:LINE: what is wrong" in *ret_error. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define INSTANCE_NAME_MAX 128

typedef struct overlay_config {
        char *instance;
        char *path;          /* the config file it came from */
        char **lowers;       /* NULL-terminated, top-most first */
        size_t n_lowers;
        /* Lower= as the overlay takes them (an image by the dir its device
         * is mounted on while the overlay is made), set by the overlay
         * kind; NULL: lowers as they are */
        char **layer_lowers;
        char *upper;
        char *work;
        char *merged;
        char **options;      /* NULL-terminated "key" or "key=value", allow-listed */
        uint64_t mount_attr; /* MOUNT_ATTR_* bits from MountFlags= */
        uid_t uid;           /* owner of a newly made Upper root */
        gid_t gid;
        mode_t mode;
} overlay_config;

/* Returns: 0 if NAME is 1..128 of [A-Za-z0-9_.@-], not starting with '.' or
 * '-' and without "..", else -EINVAL. */
int instance_name_check(const char *name);

/* Returns: 0 and *ret (free with config_free), or -EINVAL/-ENOENT/-errno with
 * *ret_error set to a message naming the file (and line, when one is at
 * fault). Refuses a config file, or a config dir, writable by group or
 * others, or not owned by root when running as root; a file that is not a
 * regular one (a FIFO is never waited on) or is over 1 MiB; a symlink kept in
 * a dir others can write (docs/config.md). All of those are -EINVAL. */
int config_load(const char *config_dir, const char *state_dir, const char *instance,
                overlay_config **ret, char **ret_error);

void config_free(overlay_config *c);
static inline void config_freep(overlay_config **c)
{
        if (*c)
                config_free(*c);
}
#define _cleanup_config_ __attribute__((cleanup(config_freep)))
