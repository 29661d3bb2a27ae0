/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kind.h: what an instance kind provides to the engine; only engine.c and
 * the kinds' own files include it.
 *
 * Promises: a kind is one table of operations. Each runs inside the
 * engine's frame (PID 1's mount namespace, capabilities dropped, config
 * loaded, lock held), returns 0 or -errno, fills the failure on error, tells
 * what it did through inst_emit(), and leaves the system as it found it
 * when it fails half-way. A new kind (image lowers, [Snapshot]) adds a table
 * and its module; the verbs and the engine's frame do not change. */
#pragma once

#include "inst.h"

typedef struct inst_kind {
        const char *name;
        int (*mount)(inst_run *run, inst_failure *f);
        int (*umount)(inst_run *run, inst_failure *f);
        int (*purge)(inst_run *run, inst_failure *f);
        /* Fills S's mount facts and the probe target its copies are found
         * by (the engine scans for every instance at once). */
        int (*status_target)(const engine_env *env, inst_status *s, probe_target *ret);
        /* Appends to *NAMES every instance of this kind mounted in this
         * namespace (status lists them: template instances have no file). */
        int (*list_mounted)(char ***names);
        /* The kernel's own answer: is the instance's storage still used by
         * a live superblock anywhere? Returns: 1 yes, 0 no, -errno unknown. */
        int (*kernel_in_use)(const engine_env *env, const overlay_config *cfg);
} inst_kind;

extern const inst_kind overlay_kind;

/* Every kind, NULL-terminated. */
extern const inst_kind *const engine_kinds[];

/* Returns: the kind CFG's instance is of. */
const inst_kind *engine_kind_of(const overlay_config *cfg);
