/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_table.c: the builder primitives both ways of mntns_scan() share:
 * the set's bookkeeping, mountinfo parsing, and reading one namespace's
 * table with listmount()/statmount(). See mntns_table.h.
 *
 * It sits below both mntns.c (the kernel's namespace walk) and
 * mntns_proc.c (the /proc ways), so the links point one way:
 * mntns.c -> mntns_proc.c -> mntns_pids.c -> mntns_table.c. */
#include <sys/sysmacros.h>

#include "fallback.h"
#include "kapi.h"
#include "mntns_table.h"
#include "mounttab.h"
#include "util.h"

#define STATMOUNT_MASK                                                                    \
        (OH_STATMOUNT_SB_BASIC | OH_STATMOUNT_MNT_BASIC | OH_STATMOUNT_FS_TYPE |          \
         OH_STATMOUNT_MNT_POINT | OH_STATMOUNT_MNT_ROOT | OH_STATMOUNT_MNT_OPTS |         \
         OH_STATMOUNT_SB_SOURCE)

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
        free(s->pid_ns);
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

int mntns_add_mount(mntns_builder *b, size_t ns_index, const ns_mount *m)
{
        mnt_namespace *ns = &b->set.ns[ns_index];
        ino_t pinned;
        ns_mount *c;

        ns->n_all_mounts++;
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
        };
        if (!c->fstype || !c->source || !c->mountpoint || !c->root || !c->fs_options) {
                ns_mount_done(c);
                return -ENOMEM;
        }
        ns->n_mounts++;
        return 0;
}

/* mountinfo is parsed here rather than with libmount: the same parser reads
 * /proc/PID/mountinfo and the copy a child sends through a pipe (dlib has
 * no stream parser), and it spares the ~1 ms dlopen().
 *
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE
 * SUPEROPTS", split in place; the kernel octal-escapes space, tab, newline
 * and backslash in the paths, the type and the source. */
static bool parse_mountinfo_line(char *line, ns_mount *ret)
{
        char *f[6], *p = line, *t;
        unsigned maj, min;

        line[strcspn(line, "\n")] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (!(f[i] = strsep(&p, " ")) || !p)
                        return false;
        do
                if (!(t = strsep(&p, " ")))
                        return false;
        while (!streq(t, "-"));
        ret->fstype = strsep(&p, " ");
        ret->source = strsep(&p, " ");
        ret->fs_options = p;
        if (!ret->fstype || !ret->source || !p || sscanf(f[2], "%u:%u", &maj, &min) != 2)
                return false;
        ret->mnt_id = strtoull(f[0], NULL, 10);
        ret->parent_id = strtoull(f[1], NULL, 10);
        ret->devnum = makedev(maj, min);
        ret->root = f[3];
        ret->mountpoint = f[4];
        unescape_octal(ret->root);
        unescape_octal(ret->mountpoint);
        unescape_octal(ret->fstype);
        unescape_octal(ret->source);
        return true;
}

int mntns_parse_mountinfo(FILE *f, mntns_builder *b, int ns)
{
        _cleanup_free_ char *line = NULL;
        size_t size = 0;

        while (getline(&line, &size, f) > 0) {
                ns_mount m;
                if (parse_mountinfo_line(line, &m) && mntns_add_mount(b, (size_t)ns, &m) < 0)
                        return -ENOMEM;
        }
        return 0;
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
static int statmount_one(uint64_t mnt_id, uint64_t ns_id, struct oh_statmount **sm, size_t *size)
{
        for (;;) {
                void *p;

                if (oh_statmount(mnt_id, ns_id, STATMOUNT_MASK, *sm, *size) == 0)
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

static int add_statmount(mntns_builder *b, size_t ns, const struct oh_statmount *sm)
{
        ns_mount m = {
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

        return mntns_add_mount(b, ns, &m);
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
        do {
                n = oh_listmount(OH_LSMT_ROOT, ns_id, last, ids, ELEMENTSOF(ids));
                if (n < 0 && errno == ENOENT)
                        return ns; /* gone meanwhile: no process or pin left */
                r = n < 0 ? fast_path_errno("listmount") : 0;
                for (long i = 0; r >= 0 && i < n; i++) {
                        last = ids[i];
                        r = statmount_one(ids[i], ns_id, &b->sm, &b->sm_size);
                        if (r > 0)
                                r = add_statmount(b, (size_t)ns, b->sm);
                }
                if (r == -EACCES) {
                        /* The entry stays, its table partial or empty. */
                        b->set.n_unreadable++;
                        return ns;
                }
                if (r < 0)
                        return r;
        } while (n == (long)ELEMENTSOF(ids));
        return ns;
}
