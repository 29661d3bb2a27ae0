/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_table.c: the builder primitives both ways of mntns_scan() share:
 * the set's bookkeeping, mountinfo parsing, and reading one namespace's
 * table with listmount()/statmount(). See mntns_table.h.
 *
 * It sits below both mntns.c (the kernel's namespace walk) and
 * mntns_proc.c (the /proc ways), so the links point one way:
 * mntns.c -> mntns_proc.c -> mntns_pids.c -> mntns_table.c. */
#include <stdlib.h>
#include <sys/sysmacros.h>

#include "fallback.h"
#include "kapi.h"
#include "mntns_table.h"
#include "mounttab.h"
#include "util.h"

#define STATMOUNT_NUMBERS (OH_STATMOUNT_SB_BASIC | OH_STATMOUNT_MNT_BASIC)
#define STATMOUNT_MASK                                                                    \
        (STATMOUNT_NUMBERS | OH_STATMOUNT_FS_TYPE | OH_STATMOUNT_MNT_POINT |              \
         OH_STATMOUNT_MNT_ROOT | OH_STATMOUNT_MNT_OPTS | OH_STATMOUNT_SB_SOURCE)

/* The capacity of an array of N entries is the next power of two (at least
 * 8), so it needs no field of its own. Returns: 0, or -ENOMEM. */
int mntns_grow(void **array, size_t n, size_t size)
{
        size_t cap;
        void *p;

        if (n == 0)
                cap = 8;
        else if (n >= 8 && (n & (n - 1)) == 0)
                cap = 2 * n;
        else
                return 0;
        p = reallocarray(*array, cap, size);
        if (!p)
                return -ENOMEM;
        *array = p;
        return 0;
}

static void ns_mount_done(ns_mount *m)
{
        free(m->fstype);
        free(m->source);
        free(m->mountpoint);
        free(m->root);
        free(m->fs_options);
}

void mntns_set_done(mntns_set *s)
{
        for (size_t i = 0; i < s->n_ns; i++) {
                for (size_t j = 0; j < s->ns[i].n_mounts; j++)
                        ns_mount_done(&s->ns[i].mounts[j]);
                free(s->ns[i].mounts);
        }
        free(s->ns);
        for (size_t i = 0; i < s->n_pins; i++)
                free(s->pins[i].mountpoint);
        free(s->pins);
        free(s->pids);
        free(s->tids);
        free(s->pid_ns);
        free(s->fd_records);
        free(s->fd_refs);
        *s = (mntns_set){};
}

bool mntns_parse_link(const char *s, ino_t *ret)
{
        unsigned long long ino;
        char *end;

        if (strncmp(s, "mnt:[", 5) != 0 || s[5] < '0' || s[5] > '9')
                return false;
        errno = 0;
        ino = strtoull(s + 5, &end, 10);
        if (errno != 0 || ino == 0 || !streq(end, "]"))
                return false;
        *ret = (ino_t)ino;
        return true;
}

int mntns_add_ns(mntns_builder *b, ino_t ns_ino, uint64_t ns_id, pid_t some_pid)
{
        mntns_set *s = &b->set;

        if (mntns_grow((void **)&s->ns, s->n_ns, sizeof(*s->ns)) < 0)
                return -ENOMEM;
        s->ns[s->n_ns] = (mnt_namespace){
                .ns_id = ns_id,
                .ns_ino = ns_ino,
                .init = b->init_ino != 0 && ns_ino == b->init_ino,
                .some_pid = some_pid,
        };
        return (int)s->n_ns++;
}

static int add_pin(mntns_set *s, ino_t pinned, ino_t where, const char *mountpoint)
{
        char *copy = strdup(mountpoint);

        if (!copy || mntns_grow((void **)&s->pins, s->n_pins, sizeof(*s->pins)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        s->pins[s->n_pins++] = (ns_pin){ .pinned_ino = pinned, .where_ns_ino = where,
                                         .mountpoint = copy };
        return 0;
}

/* One mount of the table being read, kept or not. */
struct mntns_link {
        uint64_t id, parent;
        ns_prop prop;
        mount_place place; /* ABOVE also where not known (mountinfo) */
};

void mntns_builder_done(mntns_builder *b)
{
        free(b->sm);
        free(b->links);
        b->sm = NULL;
        b->links = NULL;
        b->n_links = b->cap_links = 0;
}

static int add_link(mntns_builder *b, const ns_mount *m, mount_place place)
{
        if (b->n_links == b->cap_links) {
                size_t cap = b->cap_links ? 2 * b->cap_links : 256;
                void *p = reallocarray(b->links, cap, sizeof(*b->links));
                if (!p)
                        return -ENOMEM;
                b->links = p;
                b->cap_links = cap;
        }
        b->links[b->n_links++] = (struct mntns_link){ .id = m->mnt_id, .parent = m->parent_id,
                                                      .prop = m->prop, .place = place };
        return 0;
}

/* A mount whose strings were not read: counted, never kept (the
 * prefilter said the filter would not keep it, and it is no nsfs pin). */
static int count_mount(mntns_builder *b, size_t ns_index, const ns_mount *m, mount_place place)
{
        b->set.ns[ns_index].n_all_mounts++;
        return add_link(b, m, place);
}

static int add_mount(mntns_builder *b, size_t ns_index, const ns_mount *m, mount_place place)
{
        mnt_namespace *ns = &b->set.ns[ns_index];
        ino_t pinned;
        ns_mount *c;

        ns->n_all_mounts++;
        if (add_link(b, m, place) < 0)
                return -ENOMEM;
        /* A bind mount of /proc/PID/ns/mnt shows as nsfs with root "mnt:[INO]"
         * in both mountinfo and statmount's MNT_ROOT. */
        if (streq(m->fstype, "nsfs") && mntns_parse_link(m->root, &pinned) &&
            add_pin(&b->set, pinned, ns->ns_ino, m->mountpoint) < 0)
                return -ENOMEM;
        if (b->filter && !b->filter(m, b->userdata))
                return 0;
        if (mntns_grow((void **)&ns->mounts, ns->n_mounts, sizeof(*ns->mounts)) < 0)
                return -ENOMEM;
        c = &ns->mounts[ns->n_mounts];
        *c = (ns_mount){
                .mnt_id = m->mnt_id,
                .parent_id = m->parent_id,
                .devnum = m->devnum,
                .fstype = strdup(m->fstype),
                .source = strdup(m->source),
                .mountpoint = strdup(m->mountpoint),
                .root = strdup(m->root),
                .fs_options = strdup(m->fs_options),
                .prop = m->prop,
        };
        if (!c->fstype || !c->source || !c->mountpoint || !c->root || !c->fs_options) {
                ns_mount_done(c);
                return -ENOMEM;
        }
        ns->n_mounts++;
        return 0;
}

int mntns_add_mount(mntns_builder *b, size_t ns_index, const ns_mount *m)
{
        return add_mount(b, ns_index, m, MOUNT_PLACE_ABOVE);
}

/* mountinfo is parsed by mounttab's line parser rather than with libmount:
 * it reads /proc/PID/mountinfo and the copy a child sends through a pipe
 * alike (dlib has no stream parser), and it spares the ~1 ms dlopen(). */
static bool parse_mountinfo_line(char *line, ns_mount *ret)
{
        mountinfo_line l;

        if (!mountinfo_parse_line(line, &l))
                return false;
        ret->mnt_id = l.mnt_id;
        ret->parent_id = l.parent_id;
        ret->devnum = l.devnum;
        ret->root = l.root;
        ret->mountpoint = l.mountpoint;
        ret->fstype = l.fstype;
        ret->source = l.source;
        ret->fs_options = l.fs_options;
        ret->prop = (ns_prop){ .peer_group = l.peer_group, .master = l.master };
        return true;
}

static int cmp_link(const void *a, const void *b)
{
        const struct mntns_link *x = a, *y = b;

        return x->id < y->id ? -1 : x->id > y->id;
}

static const struct mntns_link *find_link(const mntns_builder *b, uint64_t id)
{
        const struct mntns_link key = { .id = id };

        if (b->n_links == 0) /* bsearch() must not get NULL */
                return NULL;
        return bsearch(&key, b->links, b->n_links, sizeof(*b->links), cmp_link);
}

static int cmp_kept(const void *a, const void *b, void *userdata)
{
        const ns_mount *m = userdata;
        uint64_t x = m[*(const size_t *)a].mnt_id, y = m[*(const size_t *)b].mnt_id;

        return x < y ? -1 : x > y;
}

/* Once a table is read: each kept mount's parent's propagation, where the
 * table shows the parent, and how many mounts sit on it. */
static int finish_table(mntns_builder *b, size_t ns_index)
{
        mnt_namespace *ns = &b->set.ns[ns_index];
        _cleanup_free_ size_t *by_id = NULL;
        size_t n = ns->n_mounts;

        if (n == 0 || b->n_links == 0)
                goto done;
        by_id = calloc(n, sizeof(size_t));
        if (!by_id)
                return -ENOMEM;
        qsort(b->links, b->n_links, sizeof(*b->links), cmp_link);
        for (size_t j = 0; j < n; j++) {
                const struct mntns_link *l = find_link(b, ns->mounts[j].parent_id);
                if (l && l->id != ns->mounts[j].mnt_id) {
                        ns->mounts[j].parent_prop = l->prop;
                        ns->mounts[j].parent_known = true;
                }
                by_id[j] = j;
        }
        qsort_r(by_id, n, sizeof(size_t), cmp_kept, ns->mounts);
        for (size_t i = 0; i < b->n_links; i++) {
                size_t a = 0, z = n;
                while (a < z) {
                        size_t mid = a + (z - a) / 2;
                        if (ns->mounts[by_id[mid]].mnt_id < b->links[i].parent)
                                a = mid + 1;
                        else
                                z = mid;
                }
                if (a < n && ns->mounts[by_id[a]].mnt_id == b->links[i].parent &&
                    b->links[i].id != b->links[i].parent)
                        ns->mounts[by_id[a]].n_children++;
        }
done:
        b->n_links = 0;
        return 0;
}

int mntns_parse_mountinfo(FILE *f, mntns_builder *b, int ns)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        b->n_links = 0;
        while (getline(&line, &size, f) > 0) {
                ns_mount m;
                if (parse_mountinfo_line(line, &m) && mntns_add_mount(b, (size_t)ns, &m) < 0)
                        return -ENOMEM;
        }
        return finish_table(b, (size_t)ns);
}

/* Errors that mean the kernel lacks what we asked for, so the next way in
 * mntns_scan() must answer: no such call or ioctl (ENOSYS, ENOTTY), or a
 * request field or struct size it does not know (EINVAL, E2BIG, EOPNOTSUPP;
 * listmount() of 6.8-6.10 has no mnt_ns_id). EPERM is a namespace's own
 * refusal: mntns_scan() took this way only after statmount() and
 * listmount() of our own namespace worked (mounttab_have_listmount), so it
 * is no seccomp filter's. */
static int fast_path_errno(const char *feature)
{
        int e = errno;

        if (e == ENOSYS || e == ENOTTY || e == EINVAL || e == E2BIG || e == EOPNOTSUPP) {
                fallback_note(feature, e);
                return -ENOSYS;
        }
        if (e == EPERM)
                return -EACCES;
        return e > 0 ? -e : -EIO;
}

static char *sm_str(const struct oh_statmount *sm, uint64_t bit, __u32 off)
{
        /* The kernel leaves a string's bit out of the reply mask when the
         * string is empty (mnt_opts of a mount without options), not only
         * when it does not know the field. */
        return (sm->mask & bit) ? (char *)sm->str + off : (char *)"";
}

/* One statmount() into the shared buffer, grown on EOVERFLOW.
 * Returns: 1 filled, 0 unmounted meanwhile, -ENOSYS to fall back, -errno. */
static int statmount_one(uint64_t mnt_id, uint64_t ns_id, uint64_t mask, struct oh_statmount **sm,
                         size_t *size)
{
        for (;;) {
                void *p;

                if (oh_statmount(mnt_id, ns_id, mask, *sm, *size) == 0)
                        return 1;
                if (errno == ENOENT)
                        return 0;
                if (errno != EOVERFLOW)
                        return fast_path_errno("statmount");
                if (*size >= (1U << 24))
                        return -EOVERFLOW;
                p = realloc(*sm, *size * 4);
                if (!p)
                        return -ENOMEM;
                *sm = p;
                *size *= 4;
        }
}

static ns_prop sm_prop(const struct oh_statmount *sm)
{
        if (!(sm->mask & OH_STATMOUNT_MNT_BASIC))
                return (ns_prop){ 0 };
        return (ns_prop){
                .peer_group = sm->mnt_peer_group,
                .master = sm->mnt_master,
                .propagate_from = (sm->mask & OH_STATMOUNT_PROPAGATE_FROM) ? sm->propagate_from : 0,
        };
}

static int add_statmount(mntns_builder *b, size_t ns, const struct oh_statmount *sm)
{
        ns_mount m = {
                .prop = sm_prop(sm),
                .mnt_id = sm->mnt_id,
                .parent_id = sm->mnt_parent_id,
                .devnum = (sm->mask & OH_STATMOUNT_SB_BASIC)
                                  ? makedev(sm->sb_dev_major, sm->sb_dev_minor)
                                  : 0,
                .fstype = sm_str(sm, OH_STATMOUNT_FS_TYPE, sm->fs_type),
                /* 6.12 has no SB_SOURCE: the source is then "" here. */
                .source = sm_str(sm, OH_STATMOUNT_SB_SOURCE, sm->sb_source),
                .mountpoint = sm_str(sm, OH_STATMOUNT_MNT_POINT, sm->mnt_point),
                .root = sm_str(sm, OH_STATMOUNT_MNT_ROOT, sm->mnt_root),
                .fs_options = sm_str(sm, OH_STATMOUNT_MNT_OPTS, sm->mnt_opts),
        };

        return add_mount(b, ns, &m, b->pre ? b->pre->place(m.mountpoint, b->userdata)
                                           : MOUNT_PLACE_ABOVE);
}

/* Every string of mount ID, as the filter needs them.
 * Returns: 0 (also when it is gone meanwhile), -ENOSYS to fall back, -errno. */
static int read_strings(mntns_builder *b, size_t ns, uint64_t id, uint64_t ns_id)
{
        int r = statmount_one(id, ns_id, STATMOUNT_MASK, &b->sm, &b->sm_size);

        return r > 0 ? add_statmount(b, ns, b->sm) : r;
}

/* The place of a mount on PARENT, from PARENT's, where that tells it:
 * listmount() gives ids in rising order, so the parent is usually read
 * already; else (an older or later parent, the root on itself) ABOVE. */
static mount_place place_on(const mntns_builder *b, uint64_t id, uint64_t parent)
{
        const struct mntns_link *l = parent == id ? NULL : find_link(b, parent);

        return l ? l->place : MOUNT_PLACE_ABOVE;
}

/* What mount SM needs read beyond its numbers for the filter to decide:
 * nothing, its mount point (to learn its place, *PLACE) or every string. */
static uint64_t needs(const mntns_builder *b, const struct oh_statmount *sm, mount_place *place)
{
        if ((sm->mask & STATMOUNT_NUMBERS) != STATMOUNT_NUMBERS || sm->sb_magic == OH_NSFS_MAGIC ||
            b->pre->wants_sb(makedev(sm->sb_dev_major, sm->sb_dev_minor), sm->sb_magic, b->userdata))
                return STATMOUNT_MASK;
        *place = place_on(b, sm->mnt_id, sm->mnt_parent_id);
        if (*place == MOUNT_PLACE_BENEATH)
                return STATMOUNT_MASK;
        return *place == MOUNT_PLACE_ABOVE ? STATMOUNT_NUMBERS | OH_STATMOUNT_MNT_POINT
                                           : STATMOUNT_NUMBERS;
}

/* Mount ID: its numbers, and only what the prefilter needs to decide (its
 * mount point), and its strings only where the filter may keep it or it
 * may be an nsfs pin. A second call costs more than asking at once (a
 * string costs a call's setup, then its own share) and mounts come in runs
 * (on one parent, of one kind), so the first call asks for what the last
 * mount needed. A mount changed between two calls is as racy as a table
 * is anyway; its id is never reused.
 * Returns: 0 (also when it is gone meanwhile), -ENOSYS to fall back, -errno. */
static int read_mount(mntns_builder *b, size_t ns, uint64_t id, uint64_t ns_id)
{
        uint64_t asked = b->pre ? b->last_need : STATMOUNT_MASK, need;
        mount_place place = MOUNT_PLACE_ABOVE;
        ns_mount m;
        int r;

        r = statmount_one(id, ns_id, asked, &b->sm, &b->sm_size);
        if (r <= 0)
                return r;
        need = b->pre ? needs(b, b->sm, &place) : STATMOUNT_MASK;
        b->last_need = need;
        if (need == STATMOUNT_MASK)
                return asked == STATMOUNT_MASK ? add_statmount(b, ns, b->sm)
                                               : read_strings(b, ns, id, ns_id);
        m = (ns_mount){
                .mnt_id = b->sm->mnt_id,
                .parent_id = b->sm->mnt_parent_id,
                .devnum = makedev(b->sm->sb_dev_major, b->sm->sb_dev_minor),
                .prop = sm_prop(b->sm),
        };
        if (place == MOUNT_PLACE_ABOVE) {
                if (!(asked & OH_STATMOUNT_MNT_POINT)) {
                        r = statmount_one(id, ns_id, OH_STATMOUNT_MNT_POINT, &b->sm, &b->sm_size);
                        if (r <= 0)
                                return r;
                }
                place = b->pre->place(sm_str(b->sm, OH_STATMOUNT_MNT_POINT, b->sm->mnt_point),
                                      b->userdata);
                if (place == MOUNT_PLACE_BENEATH) {
                        b->last_need = STATMOUNT_MASK;
                        return asked == STATMOUNT_MASK ? add_statmount(b, ns, b->sm)
                                                       : read_strings(b, ns, id, ns_id);
                }
        }
        return count_mount(b, ns, &m, place);
}

/* The parents the table did not show (older than min_mnt_id), and those
 * that are slaves: for these statmount() also says which group in our own
 * namespace they receive from. One call per distinct parent in a row.
 * Returns: 0, or -errno of the buffer. */
static int read_parents(mntns_builder *b, size_t ns_index, uint64_t ns_id)
{
        mnt_namespace *ns = &b->set.ns[ns_index];
        uint64_t last = 0;
        ns_prop prop = { 0 };
        bool ok = false;

        for (size_t j = 0; j < ns->n_mounts; j++) {
                ns_mount *m = &ns->mounts[j];
                if ((m->parent_known && !m->parent_prop.master) || !m->parent_id ||
                    m->parent_id == m->mnt_id)
                        continue;
                if (m->parent_id != last) {
                        last = m->parent_id;
                        ok = oh_statmount(last, ns_id, OH_STATMOUNT_MNT_BASIC | OH_STATMOUNT_PROPAGATE_FROM,
                                          b->sm, b->sm_size) == 0 && (b->sm->mask & OH_STATMOUNT_MNT_BASIC);
                        if (ok)
                                prop = sm_prop(b->sm);
                }
                /* one we could not read stays unknown: a ghost in waiting */
                if (ok) {
                        m->parent_prop = prop;
                        m->parent_known = true;
                }
        }
        return 0;
}

static int finish_statmount_table(mntns_builder *b, int ns, uint64_t ns_id)
{
        int r = finish_table(b, (size_t)ns);

        if (r >= 0)
                r = read_parents(b, (size_t)ns, ns_id);
        return r < 0 ? r : ns;
}

int mntns_read_table(mntns_builder *b, ino_t ino, uint64_t ns_id, pid_t some_pid)
{
        __u64 ids[512], last = b->min_mnt_id ? b->min_mnt_id - 1 : 0;
        long n;
        int ns, r;

        /* Id 0 would make listmount() read our own table as NS_ID's: the
         * namespace's id is unknown (NS_GET_MNTNS_ID refused, or before
         * 6.8; ns_fd_id() noted why), so only its mountinfo can tell. */
        if (ns_id == 0)
                return -ENOSYS;
        if (!b->sm) {
                b->sm_size = 16384;
                b->sm = malloc(b->sm_size);
                if (!b->sm)
                        return -ENOMEM;
        }
        ns = mntns_add_ns(b, ino, ns_id, some_pid);
        if (ns < 0)
                return ns;
        b->n_links = 0;
        b->last_need = STATMOUNT_MASK; /* the root's, on no parent read */
        do {
                n = oh_listmount(OH_LSMT_ROOT, ns_id, last, ids, ELEMENTSOF(ids));
                if (n < 0 && errno == ENOENT)
                        return finish_statmount_table(b, ns, ns_id); /* gone meanwhile */
                r = n < 0 ? fast_path_errno("listmount") : 0;
                for (long i = 0; r >= 0 && i < n; i++) {
                        last = ids[i];
                        r = read_mount(b, (size_t)ns, ids[i], ns_id);
                }
                if (r == -EACCES) {
                        /* The entry stays, its table partial or empty. */
                        b->set.n_unreadable++;
                        return finish_statmount_table(b, ns, ns_id);
                }
                if (r < 0)
                        return r;
        } while (n == (long)ELEMENTSOF(ids));
        return finish_statmount_table(b, ns, ns_id);
}
