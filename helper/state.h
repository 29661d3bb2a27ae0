/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state.h: what the helper remembers of what it created, between runs.
 *
 * Promises: one small record per instance in RUNTIME_DIR (tmpfs: gone at
 * boot, like every mount it describes): today the unique mount id of the
 * overlay the helper last mounted, RUNTIME_DIR/INSTANCE.mounted, kept until
 * an unmount has confirmed that no copy is left anywhere (later also a loop
 * device with its disk sequence number, a dm uuid). A record is a hint that
 * bounds scans, never the truth: the kernel is, and every reader checks the
 * record against it. Written atomically (rename); nothing here logs. */
#pragma once

#include <stdint.h>

/* Returns: 0 and *ret_mnt_id, or -ENOENT (no record, or an unreadable one). */
int state_mount_read(const char *runtime_dir, const char *instance, uint64_t *ret_mnt_id);

/* Returns: 0 or -errno. */
int state_mount_write(const char *runtime_dir, const char *instance, uint64_t mnt_id);

void state_mount_remove(const char *runtime_dir, const char *instance);

/* Every instance with a record.
 * Returns: 0 and a NULL-terminated *ret (strv_free; may be empty), or -errno. */
int state_list(const char *runtime_dir, char ***ret);
