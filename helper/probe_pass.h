/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_pass.h: the state of one probe_scan_many() (probe_many.c builds it)
 * and the process pass over it (probe_pass.c). No other module includes this.
 *
 * Promises: pm_process_pass() lists, copy by copy, the processes that hold
 * a copy (every process of a ghost's namespace), in the order of the pid
 * map: one look at each process whatever the number of targets, a second
 * (holder_inspect_target) only for the copies it was found to hold. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mntns.h"
#include "probe.h"
#include "probe_internal.h"

/* Per target: what a scan of it alone knows once the tables are read. */
typedef struct pm_tstate {
        uint64_t min_id;    /* copies older than this are not its own */
        uint64_t *copy_ids; /* every copy's mount id, in any namespace */
        size_t n_copy_ids, cap_ids;
} pm_tstate;

/* A copy of target TARGET in a namespace: res[TARGET].copies[COPY]. */
typedef struct pm_ns_copy {
        size_t target, copy;
        dev_t devnum;   /* what its processes are inspected for */
        bool refs_only; /* only processes with references are listed */
} pm_ns_copy;

typedef struct pm_ns_state {
        pm_index pairs;       /* num: target, val: mount; every (target, copy of it) */
        pm_ns_copy *copies;   /* sorted by target */
        size_t n_copies, cap_copies;
        size_t *by_point;     /* mount indices, sorted by mount point */
        pm_index by_dev;      /* devnum -> copy, for the refs_only copies */
        bool has_process;
        bool fd_pins_read;
        char **fd_pins;
} pm_ns_state;

typedef struct pm_many {
        const probe_target *t;
        size_t n;
        probe_result *res;
        pm_tstate *ts;
        mntns_set set;
        pm_ns_state *ns;      /* one per set.ns */
        pm_index ns_by_ino;   /* ns_ino -> namespace */
        pm_index target_ids;  /* copy mount id -> target */
        pid_t *pids;
        ino_t *inos;
        size_t n_pids;
        size_t *marks;        /* the copies one process was found to hold */
        size_t n_marks, cap_marks;
} pm_many;

/* Returns: the state of namespace INO, or NULL if no scan found it. */
static inline pm_ns_state *pm_ns_of(const pm_many *m, ino_t ino)
{
        size_t lo, hi = pm_index_range(&m->ns_by_ino, pm_cmp_num, &(pm_key){ .num = ino }, &lo);

        return hi > lo ? &m->ns[m->ns_by_ino.v[lo].val] : NULL;
}

/* Every process of the pid map in a namespace holding copies, against
 * each of them, into M's results.
 * Returns: 0, or -errno that is not a process's own (gone, not ours). */
int pm_process_pass(pm_many *m);
