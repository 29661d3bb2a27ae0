/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_many.c: probe_scan_many() and probe_scan(), see probe.h.
 *
 * One scan reads every table once, keeping what matters to any target
 * (probe.c's sorted indexes), and the pid -> namespace map once. Each
 * target's copies are built as its own scan would, but from the smallest
 * min_mnt_id of all: a target with a later one may be shown nsfs pins (or
 * /proc-path namespaces) older than its mount. Then the process pass
 * (probe_pass.c) looks at each process in a namespace holding a copy of
 * anything, against every target at once. */
#include <limits.h>
#include <sys/stat.h>

#include "loops.h"
#include "mntns.h"
#include "probe.h"
#include "probe_class.h"
#include "probe_internal.h"
#include "probe_pass.h"
#include "strv.h"
#include "swaps.h"
#include "util.h"

static void ns_state_done(pm_ns_state *x)
{
        free(x->pairs.v);
        free(x->copies);
        free(x->by_point);
        free(x->by_dev.v);
        strv_free(x->fd_pins);
}

static void many_done(pm_many *m)
{
        for (size_t i = 0; m->ts && i < m->n; i++)
                free(m->ts[i].copy_ids);
        free(m->ts);
        for (size_t i = 0; m->ns && i < m->set.n_ns; i++)
                ns_state_done(&m->ns[i]);
        free(m->ns);
        free(m->ns_by_ino.v);
        free(m->target_ids.v);
        free(m->pids);
        free(m->inos);
        free(m->marks);
        mntns_set_done(&m->set);
}

static bool is_pair(const pm_ns_state *x, size_t target, size_t mount)
{
        size_t lo, hi = pm_index_range(&x->pairs, pm_cmp_num, &(pm_key){ .num = target }, &lo);

        for (size_t i = lo; i < hi; i++)
                if (x->pairs.v[i].val == mount)
                        return true;
        return false;
}

/* Which mounts of namespace NS are copies of which targets (pairs), and
 * each target's copy ids: those not older than its min_mnt_id. */
static int find_copies(pm_many *m, const pm_tindex *ti, size_t ns)
{
        const mnt_namespace *mn = &m->set.ns[ns];
        pm_ns_state *x = &m->ns[ns];
        int k = 0;

        for (size_t j = 0; k >= 0 && j < mn->n_mounts; j++) {
                const pm_index *ix[3];
                size_t lo[3], hi[3], nr = pm_copy_ranges(ti, &mn->mounts[j], ix, lo, hi);

                for (size_t r = 0; k >= 0 && r < nr; r++)
                        for (size_t e = lo[r]; k >= 0 && e < hi[r]; e++) {
                                size_t target = ix[r]->v[e].val;
                                if (ix[r] == &ti->dev &&
                                    pm_other_upper(&mn->mounts[j], &m->t[target]))
                                        continue;
                                k = pm_index_add(&x->pairs, target, NULL, j);
                        }
        }
        /* By target, then mount (table order); a target matched by device
         * and by a layer was named twice. */
        pm_sort_unique(x->pairs.v, &x->pairs.n, sizeof(pm_ent), pm_sort_num);
        for (size_t p = 0; k >= 0 && p < x->pairs.n; p++) {
                pm_tstate *ts = &m->ts[x->pairs.v[p].num];
                uint64_t id = mn->mounts[x->pairs.v[p].val].mnt_id;

                if (id < ts->min_id)
                        continue;
                k = pm_grow((void **)&ts->copy_ids, &ts->cap_ids, ts->n_copy_ids, sizeof(uint64_t));
                if (k >= 0)
                        ts->copy_ids[ts->n_copy_ids++] = id;
        }
        return k;
}

static int cmp_point(const void *a, const void *b, void *userdata)
{
        const mnt_namespace *mn = userdata;

        return strcmp(mn->mounts[*(const size_t *)a].mountpoint,
                      mn->mounts[*(const size_t *)b].mountpoint);
}

/* The mounts of namespace NS beneath MP, by index, into FOUND: only those
 * TARGET's own scan would have kept (beneath its path) and listed (not
 * older than its min_mnt_id), and none of its copies. */
static int submounts_beneath(pm_many *m, size_t ns, size_t target, const char *mp,
                             size_t **found, size_t *n, size_t *cap)
{
        const mnt_namespace *mn = &m->set.ns[ns];
        const probe_target *t = &m->t[target];
        const pm_ns_state *x = &m->ns[ns];
        _cleanup_free_ char *prefix = NULL;
        size_t a = 0, b = mn->n_mounts, len;

        /* Sorted by mount point, everything beneath MP starts at the first
         * entry not below "MP/" and runs as long as they share that. */
        if (asprintf(&prefix, "%s%s", mp, streq(mp, "/") ? "" : "/") < 0)
                return -ENOMEM;
        len = strlen(prefix);
        while (a < b) {
                size_t mid = a + (b - a) / 2;
                if (strcmp(mn->mounts[x->by_point[mid]].mountpoint, prefix) < 0)
                        a = mid + 1;
                else
                        b = mid;
        }
        for (; a < mn->n_mounts; a++) {
                size_t j = x->by_point[a];
                const ns_mount *sm = &mn->mounts[j];

                if (strncmp(sm->mountpoint, prefix, len) != 0)
                        break;
                if (!pm_path_beneath(sm->mountpoint, mp) ||
                    !pm_path_beneath(sm->mountpoint, t->path) ||
                    (m->set.used_statmount && sm->mnt_id < t->min_mnt_id) || is_pair(x, target, j))
                        continue;
                if (pm_grow((void **)found, cap, *n, sizeof(size_t)) < 0)
                        return -ENOMEM;
                (*found)[(*n)++] = j;
        }
        return 0;
}

/* C's submounts, in table order. */
static int add_submounts(pm_many *m, size_t ns, size_t target, probe_copy *c)
{
        const mnt_namespace *mn = &m->set.ns[ns];
        pm_ns_state *x = &m->ns[ns];
        _cleanup_free_ size_t *found = NULL;
        size_t n = 0, cap = 0;
        int k = 0;

        if (!m->t[target].path)
                return 0; /* its scan kept nothing but its copies */
        if (!x->by_point) {
                x->by_point = calloc(mn->n_mounts ? mn->n_mounts : 1, sizeof(size_t));
                if (!x->by_point)
                        return -ENOMEM;
                for (size_t j = 0; j < mn->n_mounts; j++)
                        x->by_point[j] = j;
                qsort_r(x->by_point, mn->n_mounts, sizeof(size_t), cmp_point, (void *)mn);
        }
        for (char **mp = c->mountpoints; k >= 0 && *mp; mp++)
                k = submounts_beneath(m, ns, target, *mp, &found, &n, &cap);
        if (k >= 0)
                pm_sort_unique(found, &n, sizeof(size_t), pm_sort_size);
        for (size_t i = 0; k >= 0 && i < n; i++)
                k = strv_add(&c->submounts, mn->mounts[found[i]].mountpoint);
        return k;
}

static int add_pins(pm_many *m, size_t ns, probe_copy *c)
{
        pm_ns_state *x = &m->ns[ns];
        char buf[PATH_MAX + 64];
        int k = 0;

        for (size_t i = 0; k >= 0 && i < m->set.n_pins; i++) {
                if (m->set.pins[i].pinned_ino != c->ns_ino)
                        continue;
                snprintf(buf, sizeof buf, "bind:%s", m->set.pins[i].mountpoint);
                k = strv_add(&c->pinned_by, buf);
        }
        if (x->has_process)
                return k;
        /* Scanning every fd table is costly: only for a namespace that no
         * process is in, where an fd may be all that keeps it alive, and
         * once for all the targets it holds copies of. */
        if (k >= 0 && !x->fd_pins_read) {
                k = mntns_fd_pins(c->ns_ino, &x->fd_pins);
                x->fd_pins_read = k >= 0;
        }
        for (char **p = x->fd_pins; k >= 0 && p && *p; p++)
                k = strv_add(&c->pinned_by, *p);
        return k < 0 ? k : 0;
}

/* The copy of one target in namespace NS, from its pairs [LO, HI), if it
 * has one there; appended to the target's result at once, so that
 * probe_result_done() frees whatever a failure leaves. */
static int add_copy(pm_many *m, const probe_class_index *ci, size_t ns, size_t lo, size_t hi)
{
        const mnt_namespace *mn = &m->set.ns[ns];
        pm_ns_state *x = &m->ns[ns];
        size_t target = x->pairs.v[lo].num;
        const probe_target *t = &m->t[target];
        const pm_tstate *ts = &m->ts[target];
        probe_result *r = &m->res[target];
        probe_copy c = { .ns_id = mn->ns_id, .ns_ino = mn->ns_ino, .init = mn->init }, *nc;
        dev_t devnum = t->devnum;
        int k = 0;

        for (size_t p = lo; k >= 0 && p < hi; p++) {
                const ns_mount *cm = &mn->mounts[x->pairs.v[p].val];
                if (cm->mnt_id < ts->min_id)
                        continue;
                if (t->devnum && cm->devnum != t->devnum)
                        c.other_sb = true;
                if (!devnum)
                        devnum = cm->devnum;
                k = strv_add(&c.mountpoints, cm->mountpoint);
                c.propagation = probe_classify(&m->set, ci, ns, cm, t->path, c.propagation);
        }
        nc = k >= 0 && c.mountpoints ? realloc(r->copies, (r->n_copies + 1) * sizeof(c)) : NULL;
        if (!nc) {
                /* no copy here, or out of memory */
                k = k < 0 || c.mountpoints ? -ENOMEM : 0;
                strv_free(c.mountpoints);
                return k;
        }
        r->copies = nc;
        nc = &r->copies[r->n_copies++];
        *nc = c;
        r->mounted |= c.init;
        k = add_submounts(m, ns, target, nc);
        if (k >= 0)
                k = add_pins(m, ns, nc);
        if (k >= 0)
                k = pm_grow((void **)&x->copies, &x->cap_copies, x->n_copies, sizeof(pm_ns_copy));
        if (k >= 0)
                x->copies[x->n_copies++] = (pm_ns_copy){
                        .target = target,
                        .copy = r->n_copies - 1,
                        .devnum = devnum,
                        /* where the unmount takes the copy, only references hold */
                        .refs_only = c.propagation <= PROBE_PROP_RECEIVES,
                };
        return k;
}

/* The pid -> namespace map, once: from the scan when it went through /proc
 * anyway, else read now. Its tids stay in m->set, with the fd record. */
static int take_pid_map(pm_many *m, unsigned *unreadable)
{
        int k = 0;

        if (m->set.n_pids > 0) {
                m->pids = TAKE_PTR(m->set.pids);
                m->inos = TAKE_PTR(m->set.pid_ns);
                m->n_pids = m->set.n_pids;
                m->set.n_pids = 0;
        } else
                k = mntns_pid_map(&m->pids, &m->set.tids, &m->inos, &m->n_pids, unreadable);
        for (size_t i = 0; k >= 0 && i < m->set.n_ns; i++)
                k = pm_index_add(&m->ns_by_ino, m->set.ns[i].ns_ino, NULL, i);
        if (k < 0)
                return k;
        pm_sort(m->ns_by_ino.v, m->ns_by_ino.n, sizeof(pm_ent), pm_sort_num);
        for (size_t i = 0; i < m->n_pids; i++) {
                pm_ns_state *x = pm_ns_of(m, m->inos[i]);
                if (x)
                        x->has_process = true;
        }
        return 0;
}

/* The refs_only copies of namespace NS by device: what a reference's
 * device may be a copy of. Returns: 0 or -ENOMEM. */
static int build_by_dev(pm_many *m, size_t ns)
{
        pm_ns_state *x = &m->ns[ns];
        int k = 0;

        for (size_t i = 0; k >= 0 && i < x->n_copies; i++)
                if (x->copies[i].refs_only)
                        k = pm_index_add(&x->by_dev, x->copies[i].devnum, NULL, i);
        if (k >= 0)
                pm_sort(x->by_dev.v, x->by_dev.n, sizeof(pm_ent), pm_sort_num);
        return k;
}

/* Every target's copies, namespace by namespace, then the lookups the
 * process pass needs. */
static int build_copies(pm_many *m)
{
        _cleanup_(probe_class_index_done) probe_class_index ci = { 0 };
        int k = probe_class_index_build(&m->set, &ci);

        for (size_t ns = 0; k >= 0 && ns < m->set.n_ns; ns++) {
                const pm_index *pairs = &m->ns[ns].pairs;
                for (size_t lo = 0, hi; k >= 0 && lo < pairs->n; lo = hi) {
                        for (hi = lo + 1; hi < pairs->n && pairs->v[hi].num == pairs->v[lo].num; hi++)
                                ;
                        k = add_copy(m, &ci, ns, lo, hi);
                }
                if (k >= 0)
                        k = build_by_dev(m, ns);
        }
        for (size_t i = 0; k >= 0 && i < m->n; i++)
                for (size_t j = 0; k >= 0 && j < m->ts[i].n_copy_ids; j++)
                        k = pm_index_add(&m->target_ids, m->ts[i].copy_ids[j], NULL, i);
        pm_sort(m->target_ids.v, m->target_ids.n, sizeof(pm_ent), pm_sort_num);
        return k;
}

/* The namespace pass: one scan keeping what matters to any target (from
 * the smallest min_mnt_id), and each target's copies in it. */
static int scan_namespaces(pm_many *m)
{
        _cleanup_(pm_tindex_done) pm_tindex ti = { 0 };
        uint64_t min = UINT64_MAX;
        int k = pm_tindex_build(m->t, m->n, &ti);

        for (size_t i = 0; i < m->n; i++)
                if (m->t[i].min_mnt_id < min)
                        min = m->t[i].min_mnt_id;
        if (k >= 0)
                k = mntns_scan_prefiltered(pm_keep_any, &pm_prefilter, &ti, min, &m->set);
        if (k >= 0 && !(m->ns = calloc(m->set.n_ns ? m->set.n_ns : 1, sizeof(pm_ns_state))))
                k = -ENOMEM;
        /* Only statmount() ids are unique and ordered; mountinfo's are reused. */
        for (size_t i = 0; k >= 0 && i < m->n; i++)
                m->ts[i].min_id = m->set.used_statmount ? m->t[i].min_mnt_id : 0;
        for (size_t ns = 0; k >= 0 && ns < m->set.n_ns; ns++)
                k = find_copies(m, &ti, ns);
        return k;
}

/* Loop devices and swap files on a target: each read once, matched per target. */
static int add_loops(pm_many *m)
{
        _cleanup_(swaps_done) swap_set swaps = { 0 };
        _cleanup_(loops_done) loop_set loops = { 0 };
        bool any = false;
        int k;

        for (size_t i = 0; i < m->n && !any; i++)
                any = m->t[i].devnum || m->ts[i].n_copy_ids > 0;
        if (!any)
                return 0;
        k = loops_read(m->set.used_statmount, &loops);
        for (size_t i = 0; k >= 0 && i < m->n; i++)
                k = loops_holding(&loops, m->t[i].devnum, m->ts[i].copy_ids, m->ts[i].n_copy_ids,
                                  &m->res[i].loops);
        k = k < 0 ? k : swaps_read(&swaps);
        for (size_t i = 0; k >= 0 && i < m->n; i++)
                k = swaps_holding(&swaps, m->t[i].devnum, &m->res[i].swaps);
        return k;
}

int probe_scan_many(const probe_target *targets, size_t n, probe_result *ret)
{
        pm_many m = { .t = targets, .n = n };
        unsigned unreadable = 0;
        bool any_copy = false;
        int k;

        if (n == 0)
                return 0;
        m.res = calloc(n, sizeof(probe_result));
        m.ts = calloc(n, sizeof(pm_tstate));
        k = m.res && m.ts ? scan_namespaces(&m) : -ENOMEM;
        for (size_t i = 0; k >= 0 && i < n; i++)
                any_copy = any_copy || m.ts[i].n_copy_ids > 0;
        /* The common answer on the mount/umount path is "no copy anywhere":
         * then no process needs to be looked at. */
        if (k >= 0 && any_copy)
                k = take_pid_map(&m, &unreadable);
        for (size_t i = 0; k >= 0 && i < n; i++)
                m.res[i].n_unreadable = m.set.n_unreadable + (m.ts[i].n_copy_ids > 0 ? unreadable : 0);
        if (k >= 0 && any_copy)
                k = build_copies(&m);
        if (k >= 0 && any_copy)
                k = pm_process_pass(&m);
        if (k >= 0)
                k = add_loops(&m);
        for (size_t i = 0; m.res && i < n; i++) {
                if (k >= 0)
                        ret[i] = m.res[i];
                else
                        probe_result_done(&m.res[i]);
        }
        free(m.res);
        many_done(&m);
        return k < 0 ? k : 0;
}

int probe_scan(const probe_target *t, probe_result *ret)
{
        return probe_scan_many(t, 1, ret);
}
