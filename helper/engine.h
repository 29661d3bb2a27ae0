/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* engine.h: the instance engine: one instance's lifecycle, whatever its kind.
 *
 * Promises: engine_run() checks the name, drops capabilities, moves into
 * PID 1's mount namespace, loads the config there, takes the instance lock
 * and hands the run to the instance kind's operation (mount, umount, purge),
 * which undoes its own half-done work when it fails. The engine never logs,
 * reads no globals and knows no exit codes: it returns 0 or a negative
 * errno, tells what it did through ENV->on_event, and on failure describes
 * it in an inst_failure (which step, which path, the kernel's words, the
 * holders) for the commands layer to report once. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "inst.h"

typedef enum inst_action {
        INST_MOUNT,
        INST_UMOUNT,
        INST_PURGE,
} inst_action;

/* Runs ACTION on instance NAME.
 * Returns: 0 (done, or nothing to do), or -errno with *F filled (free with
 * inst_failure_done either way). */
int engine_run(const engine_env *env, inst_action action, const char *name, inst_failure *f);

/* Every instance status lists with no names: each CONFIG_DIR/NAME.conf, and
 * every instance the helper has mounted (the "overlay-helper:NAME" mount
 * source; template instances like game@3 have no file of their own).
 * Returns: 0 and a sorted NULL-terminated *ret (strv_free), or -errno. */
int engine_list_instances(const engine_env *env, char ***ret);

/* Fills RET[i] for NAMES[i], all from one scan of every mount namespace
 * and one pass over the processes.
 * Returns: 0 (per-instance problems are in each entry's failure), or -errno
 * for a scan that failed as a whole. */
int engine_status(const engine_env *env, char *const *names, size_t n, inst_status *ret);

/* Asks the kernel whether instance NAME's storage is still used by a live
 * superblock anywhere (for an overlay: an index=on check of Upper and Work,
 * which writes nothing that stays). Call it on events, not in a loop.
 * Returns: 1 in use, 0 not, -errno when the answer is unknown. */
int engine_kernel_in_use(const engine_env *env, const char *name);

/* The same for an instance whose config is loaded. The capabilities the
 * check needs (caps_raise_check()) are effective for the check alone. */
int engine_kernel_in_use_cfg(const engine_env *env, const overlay_config *cfg);

/* The same for an overlay known only by its mount (probe of a path): its
 * UPPER and WORK as the mount's options name them. */
int engine_kernel_in_use_dirs(const engine_env *env, const char *upper, const char *work);

/* Probe's TARGET when it names an instance: its Merged, its layers and the
 * superblock mounted there, bounded by the mount the helper recorded.
 * Returns: 0 and *ret, -ENOENT when NAME has no config, -EINVAL with *f
 * filled for a bad config, other -errno. */
int engine_probe_target(const engine_env *env, const char *name, probe_target *ret,
                        inst_failure *f);
