/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_class.c: see probe_class.h. */
#include "probe_class.h"
#include "util.h"

/* Master chains are short (a service's namespace, a container in it); a
 * longer one, or a loop, is left unproven. */
#define CHAIN_MAX 16

/* The master of peer group G as some mount of SET shows it, or 0. */
static uint64_t master_of(const mntns_set *set, uint64_t g, bool *found)
{
        for (size_t i = 0; i < set->n_ns; i++)
                for (size_t j = 0; j < set->ns[i].n_mounts; j++) {
                        const ns_mount *m = &set->ns[i].mounts[j];
                        if (m->parent_known && m->parent_prop.peer_group == g) {
                                *found = true;
                                return m->parent_prop.master;
                        }
                        if (m->prop.peer_group == g) {
                                *found = true;
                                return m->prop.master;
                        }
                }
        *found = false;
        return 0;
}

/* Whether a mount whose parent is P receives what peer group G0 propagates. */
static bool receives_from(const mntns_set *set, const ns_prop *p, uint64_t g0)
{
        uint64_t g = p->master;

        if (p->peer_group == g0 || p->propagate_from == g0)
                return true;
        for (unsigned depth = 0; g && depth < CHAIN_MAX; depth++) {
                bool found;
                if (g == g0)
                        return true;
                g = master_of(set, g, &found);
                if (!found)
                        return false;
        }
        return false;
}

/* Whether unmounting IM (in PID 1's namespace) unmounts CM too: CM sits
 * at the same place on a mount that receives from IM's parent, and has
 * nothing mounted on it. The same mount point and root stand in for "the
 * same place": a copy elsewhere (a bind of it, another root) stays. */
static bool unmounted_with(const mntns_set *set, const ns_mount *cm, const ns_mount *im)
{
        if (cm->n_children > 0 || !cm->parent_known || !im->parent_known ||
            im->parent_prop.peer_group == 0)
                return false;
        if (!streq(cm->mountpoint, im->mountpoint) || !streq(cm->root, im->root))
                return false;
        return receives_from(set, &cm->parent_prop, im->parent_prop.peer_group);
}

static probe_prop classify(const mntns_set *set, size_t ns, const ns_mount *cm, const char *path)
{
        bool mounted = false;

        if (set->ns[ns].init)
                return PROBE_PROP_INIT;
        for (size_t i = 0; i < set->n_ns; i++) {
                if (!set->ns[i].init)
                        continue;
                for (size_t j = 0; j < set->ns[i].n_mounts; j++) {
                        const ns_mount *im = &set->ns[i].mounts[j];
                        if (im->devnum != cm->devnum)
                                continue;
                        mounted = true;
                        if (path && streq(im->mountpoint, path) && unmounted_with(set, cm, im))
                                return PROBE_PROP_RECEIVES;
                }
        }
        return mounted ? PROBE_PROP_GHOST_IN_WAITING : PROBE_PROP_GHOST;
}

probe_prop probe_classify(const mntns_set *set, size_t ns, const ns_mount *cm, const char *path,
                          probe_prop so_far)
{
        probe_prop p = classify(set, ns, cm, path);

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
