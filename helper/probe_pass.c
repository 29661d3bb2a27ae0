/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_pass.c: pm_process_pass(), see probe_pass.h.
 *
 * One look (holder_inspect_any) at each process in a namespace holding a
 * copy of anything, matched against every target at once: in PID 1's
 * namespace, where nearly every process holds nothing, that is all it
 * costs. Only targets a process holds get a second look
 * (holder_inspect_target) for strings and unit; a ghost's namespace lists
 * every member, target by target. */
#include "holders.h"
#include "mntns.h"
#include "probe_pass.h"
#include "util.h"

static size_t copy_of(const pm_ns_state *x, size_t target)
{
        size_t a = 0, b = x->n_copies;

        while (a < b) {
                size_t mid = a + (b - a) / 2;
                if (x->copies[mid].target < target)
                        a = mid + 1;
                else
                        b = mid;
        }
        return a < x->n_copies && x->copies[a].target == target ? a : SIZE_MAX;
}

static int mark(pm_many *m, size_t copy)
{
        if (pm_grow((void **)&m->marks, &m->cap_marks, m->n_marks, sizeof(size_t)) < 0)
                return -ENOMEM;
        m->marks[m->n_marks++] = copy;
        return 0;
}

typedef struct ref_ctx {
        pm_many *m;
        const pm_ns_state *x;
} ref_ctx;

/* One of a process's references, on DEV through mount ID: which of the
 * namespace's copies it may be on. holder_inspect_target() then says for
 * sure, and gives the strings. */
static int on_ref(dev_t dev, uint64_t id, void *userdata)
{
        const ref_ctx *h = userdata;
        const pm_ns_state *x = h->x;
        size_t lo, hi;
        int k = 0;

        hi = pm_index_range(&x->by_dev, pm_cmp_num, &(pm_key){ .num = dev }, &lo);
        for (size_t e = lo; k >= 0 && e < hi; e++)
                k = mark(h->m, x->by_dev.v[e].val);
        if (!id)
                return k;
        hi = pm_index_range(&h->m->target_ids, pm_cmp_num, &(pm_key){ .num = id }, &lo);
        for (size_t e = lo; k >= 0 && e < hi; e++) {
                size_t c = copy_of(x, h->m->target_ids.v[e].val);
                if (c != SIZE_MAX && x->copies[c].refs_only)
                        k = mark(h->m, c);
        }
        return k;
}

/* One process against one copy: listed if it holds something there, or
 * whatever it holds in a ghost's namespace (NC not refs_only).
 * Returns: 0, or -errno that is not the process's own (gone, not ours). */
static int inspect_for_copy(pm_many *m, const pm_ns_copy *nc, pid_t pid, pid_t tid)
{
        const pm_tstate *ts = &m->ts[nc->target];
        probe_result *r = &m->res[nc->target];
        probe_copy *c = &r->copies[nc->copy];
        const holder_target target = {
                .devnum = nc->devnum,
                .mnt_ids = ts->copy_ids,
                .n_mnt_ids = ts->n_copy_ids,
                .unique_ids = m->set.used_statmount,
                .unit_if_held = nc->refs_only,
        };
        holder h, *np;
        int k = holder_inspect_target(tid ? -tid : pid, &target, &h);

        if (k == -ESRCH)
                return 0;
        if (k == -EACCES) {
                r->n_unreadable++;
                if (nc->refs_only)
                        return 0;
                h = (holder){ .pid = pid, .tid = tid };
        } else if (k < 0)
                return k;
        if (nc->refs_only && h.n_refs == 0) {
                holder_done(&h);
                return 0;
        }
        np = realloc(c->processes, (c->n_processes + 1) * sizeof(holder));
        if (!np) {
                holder_done(&h);
                return -ENOMEM;
        }
        c->processes = np;
        c->processes[c->n_processes++] = h;
        r->n_holders++;
        return 0;
}

/* PID (TID: its thread on its own) in namespace X, which holds copies: all of a ghost's
 * namespace is listed; for other copies one look (fds as the walk kept them) tells. */
static int inspect_process(pm_many *m, const pm_ns_state *x, pid_t pid, pid_t tid)
{
        ref_ctx h = { .m = m, .x = x };
        holder_any any = {
                .want_mnt_ids = m->target_ids.n > 0,
                .unique_ids = m->set.used_statmount,
                .ref = on_ref,
                .userdata = &h,
        };
        bool refs_only = false;
        int k = 0;

        any.fds_known = mntns_fd_record_find(&m->set, pid, &any.fd_refs, &any.n_fd_refs,
                                             &any.n_threads);
        for (size_t i = 0; k >= 0 && i < x->n_copies; i++) {
                if (x->copies[i].refs_only)
                        refs_only = true;
                else
                        k = inspect_for_copy(m, &x->copies[i], pid, tid);
        }
        if (k < 0 || !refs_only)
                return k;
        m->n_marks = 0;
        k = holder_inspect_any(tid ? -tid : pid, &any);
        if (k == -ESRCH)
                return 0;
        if (k == -EACCES) {
                for (size_t i = 0; i < x->n_copies; i++)
                        if (x->copies[i].refs_only)
                                m->res[x->copies[i].target].n_unreadable++;
                return 0;
        }
        if (k < 0)
                return k;
        pm_sort_unique(m->marks, &m->n_marks, sizeof(size_t), pm_sort_size);
        for (size_t i = 0; k >= 0 && i < m->n_marks; i++)
                k = inspect_for_copy(m, &x->copies[m->marks[i]], pid, tid);
        return k;
}

int pm_process_pass(pm_many *m)
{
        pid_t self = getpid();
        int k = 0;

        for (size_t i = 0; k >= 0 && i < m->n_pids; i++) {
                const pm_ns_state *x = pm_ns_of(m, m->inos[i]);
                /* the probe itself holds nothing */
                if (x && x->n_copies > 0 && m->pids[i] != self)
                        k = inspect_process(m, x, m->pids[i], m->set.tids ? m->set.tids[i] : 0);
        }
        return k;
}
