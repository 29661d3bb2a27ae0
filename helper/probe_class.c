/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_class.c: see probe_class.h. */
#include <stdlib.h>

#include "probe_class.h"
#include "util.h"

/* One entry of a probe_class_index list, sorted by KEY, then ORDER (the
 * place in the set's own order, which decides among equal keys). */
struct probe_class_ent {
        uint64_t key;
        size_t order;
        uint64_t master;
        const ns_mount *m;
};

/* Master chains are short (a service's namespace, a container in it); a
 * longer one, or a loop, is left unproven. */
#define CHAIN_MAX 16

static int cmp_ent(const void *a, const void *b)
{
        const struct probe_class_ent *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* The first entry of V (N, sorted) with KEY, or NULL. */
static const struct probe_class_ent *first_of(const struct probe_class_ent *v, size_t n, uint64_t key)
{
        size_t a = 0, b = n;

        while (a < b) {
                size_t mid = a + (b - a) / 2;
                if (v[mid].key < key)
                        a = mid + 1;
                else
                        b = mid;
        }
        return a < n && v[a].key == key ? &v[a] : NULL;
}

static int add_ent(probe_class_index *ix, bool groups, uint64_t key, uint64_t master,
                   const ns_mount *m)
{
        struct probe_class_ent **v = groups ? &ix->groups : &ix->init_by_dev;
        size_t *n = groups ? &ix->n_groups : &ix->n_init, *cap = groups ? &ix->cap_groups : &ix->cap_init;

        if (*n == *cap) {
                size_t c = *cap ? 2 * *cap : 64;
                void *p = reallocarray(*v, c, sizeof(**v));
                if (!p)
                        return -ENOMEM;
                *v = p;
                *cap = c;
        }
        (*v)[*n] = (struct probe_class_ent){ .key = key, .order = *n, .master = master, .m = m };
        (*n)++;
        return 0;
}

void probe_class_index_done(probe_class_index *ix)
{
        free(ix->init_by_dev);
        free(ix->groups);
        *ix = (probe_class_index){ 0 };
}

int probe_class_index_build(const mntns_set *set, probe_class_index *ret)
{
        probe_class_index ix = { 0 };
        int k = 0;

        for (size_t i = 0; k >= 0 && i < set->n_ns; i++)
                for (size_t j = 0; k >= 0 && j < set->ns[i].n_mounts; j++) {
                        const ns_mount *m = &set->ns[i].mounts[j];
                        /* in master_of()'s order: a mount's parent, then itself */
                        if (m->parent_known && m->parent_prop.peer_group)
                                k = add_ent(&ix, true, m->parent_prop.peer_group,
                                            m->parent_prop.master, m);
                        if (k >= 0 && m->prop.peer_group)
                                k = add_ent(&ix, true, m->prop.peer_group, m->prop.master, m);
                        if (k >= 0 && set->ns[i].init)
                                k = add_ent(&ix, false, m->devnum, 0, m);
                }
        if (k < 0) {
                probe_class_index_done(&ix);
                return k;
        }
        if (ix.n_groups)
                qsort(ix.groups, ix.n_groups, sizeof(*ix.groups), cmp_ent);
        if (ix.n_init)
                qsort(ix.init_by_dev, ix.n_init, sizeof(*ix.init_by_dev), cmp_ent);
        *ret = ix;
        return 0;
}

/* The master of peer group G (never 0) as the first mount of the set
 * showing G shows it, or 0. */
static uint64_t master_of(const probe_class_index *ix, uint64_t g, bool *found)
{
        const struct probe_class_ent *e = first_of(ix->groups, ix->n_groups, g);

        *found = e != NULL;
        return e ? e->master : 0;
}

/* Whether a mount whose parent is P receives what peer group G0 propagates. */
static bool receives_from(const probe_class_index *ix, const ns_prop *p, uint64_t g0)
{
        uint64_t g = p->master;

        if (p->peer_group == g0 || p->propagate_from == g0)
                return true;
        for (unsigned depth = 0; g && depth < CHAIN_MAX; depth++) {
                bool found;
                if (g == g0)
                        return true;
                g = master_of(ix, g, &found);
                if (!found)
                        return false;
        }
        return false;
}

/* Whether unmounting IM (in PID 1's namespace) unmounts CM too: CM sits
 * at the same place on a mount that receives from IM's parent, and has
 * nothing mounted on it. The same mount point and root stand in for "the
 * same place": a copy elsewhere (a bind of it, another root) stays. */
static bool unmounted_with(const probe_class_index *ix, const ns_mount *cm, const ns_mount *im)
{
        if (cm->n_children > 0 || !cm->parent_known || !im->parent_known ||
            im->parent_prop.peer_group == 0)
                return false;
        if (!streq(cm->mountpoint, im->mountpoint) || !streq(cm->root, im->root))
                return false;
        return receives_from(ix, &cm->parent_prop, im->parent_prop.peer_group);
}

static probe_prop classify(const mntns_set *set, const probe_class_index *ix, size_t ns,
                           const ns_mount *cm, const char *path)
{
        const struct probe_class_ent *e = first_of(ix->init_by_dev, ix->n_init, cm->devnum);
        const struct probe_class_ent *end = ix->init_by_dev + ix->n_init;

        if (set->ns[ns].init)
                return PROBE_PROP_INIT;
        if (!e)
                return PROBE_PROP_GHOST;
        /* PID 1's mounts of that superblock: mounted there, and maybe one
         * whose unmount takes CM along */
        for (; e < end && e->key == cm->devnum; e++)
                if (path && streq(e->m->mountpoint, path) && unmounted_with(ix, cm, e->m))
                        return PROBE_PROP_RECEIVES;
        return PROBE_PROP_GHOST_IN_WAITING;
}

probe_prop probe_classify(const mntns_set *set, const probe_class_index *ix, size_t ns,
                          const ns_mount *cm, const char *path, probe_prop so_far)
{
        probe_prop p = classify(set, ix, ns, cm, path);

        return p > so_far ? p : so_far;
}

const char *probe_prop_name(probe_prop p)
{
        switch (p) {
        case PROBE_PROP_INIT:
                return "init";
        case PROBE_PROP_RECEIVES:
                return "receives-unmount";
        case PROBE_PROP_GHOST_IN_WAITING:
                return "ghost-in-waiting";
        default:
                return "ghost";
        }
}
