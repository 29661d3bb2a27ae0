/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.h: one run at a time per instance.
 *
 * Promises: lock_instance() holds an OFD write lock on RUNTIME_DIR/INSTANCE.lock
 * for as long as the returned fd stays open (the kernel drops it when the
 * process dies, so kill -9 never leaves a stale lock), and writes our PID into
 * the file so a waiter can name the holder. A lock file that is unlinked while
 * we wait is detected and retried, so lock_release(..., unlink=true) is safe. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* Waits up to WAIT_SEC (0: not at all) for the lock.
 * Returns: lock fd >= 0; -EBUSY with *ret_holder set (0 if unknown) when
 * another run still holds it; other -errno on failure. */
int lock_instance(const char *runtime_dir, const char *instance, double wait_sec,
                  pid_t *ret_holder);

/* Drops the lock; with UNLINK, removes the lock file first (only while it
 * still is ours). */
void lock_release(int fd, const char *runtime_dir, const char *instance, bool unlink_file);
