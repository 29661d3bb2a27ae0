/* probe.c: see probe.h. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kapi.h"
#include "mntns.h"
#include "mounttab.h"
#include "probe.h"
#include "util.h"

static int strv_add(char ***v, const char *s)
{
        size_t n = 0;
        char **nv;

        while (*v && (*v)[n])
                n++;
        nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[n] = strdup(s);
        nv[n + 1] = NULL;
        return nv[n] ? 0 : -ENOMEM;
}

void probe_target_done(probe_target *t)
{
        free(t->input);
        free(t->instance);
        free(t->path);
        free(t->upper);
        free(t->work);
        *t = (probe_target){ 0 };
}

/* An image file is probed through the loop device that backs it. */
static int loop_devnum_for_file(const char *file, dev_t *ret)
{
        _cleanup_(closedirp) DIR *dir = opendir("/sys/block");
        char canon[PATH_MAX];
        struct dirent *de;

        if (!realpath(file, canon))
                return negative_errno();
        if (!dir)
                return negative_errno();
        while ((de = readdir(dir))) {
                char path[PATH_MAX], backing[PATH_MAX];
                unsigned maj, min;
                _cleanup_fclose_ FILE *f = NULL;

                if (strncmp(de->d_name, "loop", 4) != 0)
                        continue;
                snprintf(path, sizeof path, "/sys/block/%s/loop/backing_file", de->d_name);
                f = fopen(path, "re");
                if (!f || !fgets(backing, sizeof backing, f))
                        continue;
                backing[strcspn(backing, "\n")] = '\0';
                if (!streq(backing, canon))
                        continue;
                fclose(TAKE_PTR(f));
                snprintf(path, sizeof path, "/sys/block/%s/dev", de->d_name);
                f = fopen(path, "re");
                if (f && fscanf(f, "%u:%u", &maj, &min) == 2) {
                        *ret = makedev(maj, min);
                        return 0;
                }
        }
        return -ENODEV;
}

int probe_target_from_path(const char *path, probe_target *ret)
{
        _cleanup_free_ struct oh_statmount *sm = NULL;
        probe_target t = { 0 };
        struct statx stx;
        const size_t size = 64 * 1024;
        int r;

        if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_TYPE | STATX_MNT_ID_UNIQUE, &stx) < 0)
                return negative_errno();
        t.input = strdup(path);
        if (!t.input)
                return -ENOMEM;
        if (S_ISBLK(stx.stx_mode)) {
                t.devnum = makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
                *ret = t;
                return 0;
        }
        if (S_ISREG(stx.stx_mode) && loop_devnum_for_file(path, &t.devnum) == 0) {
                *ret = t;
                return 0;
        }
        t.devnum = makedev(stx.stx_dev_major, stx.stx_dev_minor);
        /* The mount point and, for an overlay, its layers: copies of it in
         * other namespaces are then recognisable even after it is gone here. */
        sm = malloc(size);
        if (sm && (stx.stx_mask & STATX_MNT_ID_UNIQUE) &&
            oh_statmount(stx.stx_mnt_id, 0,
                         OH_STATMOUNT_MNT_POINT | OH_STATMOUNT_FS_TYPE | OH_STATMOUNT_MNT_OPTS,
                         sm, size) == 0) {
                if (sm->mask & OH_STATMOUNT_MNT_POINT)
                        t.path = strdup(sm->str + sm->mnt_point);
                if ((sm->mask & OH_STATMOUNT_FS_TYPE) && streq(sm->str + sm->fs_type, "overlay") &&
                    (sm->mask & OH_STATMOUNT_MNT_OPTS)) {
                        t.upper = option_next_value(sm->str + sm->mnt_opts, "upperdir", NULL);
                        t.work = option_next_value(sm->str + sm->mnt_opts, "workdir", NULL);
                }
        } else {
                _cleanup_mount_entry_ mount_entry *m = NULL;
                /* no statmount: the path itself, if it is a mount point */
                r = mount_at(path, &m);
                if (r == 0) {
                        t.path = strdup(m->target);
                        if (streq(m->fstype, "overlay")) {
                                t.upper = option_next_value(m->fs_options, "upperdir", NULL);
                                t.work = option_next_value(m->fs_options, "workdir", NULL);
                        }
                } else
                        t.path = realpath(path, NULL);
        }
        *ret = t;
        return 0;
}

static bool option_is(const char *opts, const char *key, const char *want)
{
        _cleanup_free_ char *v = NULL;

        if (!want)
                return false;
        v = option_next_value(opts, key, NULL);
        return v && streq(v, want);
}

/* Same superblock, or another overlay writing to the same Upper or Work:
 * both keep the instance's dirs in use. */
static bool is_copy(const ns_mount *m, const probe_target *t)
{
        if (t->devnum && m->devnum == t->devnum)
                return true;
        if (!streq(m->fstype, "overlay") || (!t->upper && !t->work))
                return false;
        return option_is(m->fs_options, "upperdir", t->upper) ||
               option_is(m->fs_options, "workdir", t->work);
}

static bool path_beneath(const char *path, const char *dir)
{
        size_t len = strlen(dir);

        if (streq(dir, "/"))
                return path[0] == '/' && path[1] != '\0';
        return strncmp(path, dir, len) == 0 && path[len] == '/';
}

static bool keep_mount(const ns_mount *m, void *userdata)
{
        const probe_target *t = userdata;

        return is_copy(m, t) || (t->path && path_beneath(m->mountpoint, t->path));
}

static void probe_copy_done(probe_copy *c)
{
        strv_free(c->mountpoints);
        strv_free(c->pinned_by);
        strv_free(c->submounts);
        for (size_t j = 0; j < c->n_processes; j++)
                holder_done(&c->processes[j]);
        free(c->processes);
        *c = (probe_copy){ 0 };
}

void probe_result_done(probe_result *r)
{
        for (size_t i = 0; i < r->n_copies; i++)
                probe_copy_done(&r->copies[i]);
        free(r->copies);
        *r = (probe_result){ 0 };
}

typedef struct pid_map {
        pid_t *pids;
        ino_t *inos;
        size_t n;
} pid_map;

/* What one scan knows: the copies' mount ids in every namespace tie an fd or
 * exe to the target even where st_dev does not (overlay layers on several
 * filesystems report per-layer devices for files). */
typedef struct scan_ctx {
        const probe_target *t;
        const mntns_set *set;
        pid_map pm;
        uint64_t *copy_ids;
        size_t n_copy_ids;
        uint64_t min_id;
        bool init_has_copy;
} scan_ctx;

static int add_processes(probe_copy *c, const scan_ctx *ctx, dev_t devnum, probe_result *r)
{
        const pid_map *pm = &ctx->pm;
        /* While the target is mounted in PID 1's namespace, being in some
         * namespace is not what blocks its unmount (a slave copy receives
         * it; a private one turns into a ghost, listed once it is one):
         * only references count. */
        bool refs_only = c->init || ctx->init_has_copy;
        const holder_target target = {
                .devnum = devnum,
                .mnt_ids = ctx->copy_ids,
                .n_mnt_ids = ctx->n_copy_ids,
                .unique_ids = ctx->set->used_statmount,
                .unit_if_held = refs_only,
        };

        for (size_t i = 0; i < pm->n; i++) {
                holder h;
                int k;

                if (pm->inos[i] != c->ns_ino || pm->pids[i] == getpid())
                        continue; /* the probe itself holds nothing */
                k = holder_inspect_target(pm->pids[i], &target, &h);
                if (k == -ESRCH)
                        continue;
                if (k == -EACCES) {
                        r->n_unreadable++;
                        if (refs_only)
                                continue;
                        h = (holder){ .pid = pm->pids[i] };
                } else if (k < 0)
                        return k;
                if (refs_only && h.n_refs == 0) {
                        holder_done(&h);
                        continue;
                }
                holder *np = realloc(c->processes, (c->n_processes + 1) * sizeof(holder));
                if (!np) {
                        holder_done(&h);
                        return -ENOMEM;
                }
                c->processes = np;
                c->processes[c->n_processes++] = h;
                r->n_holders++;
        }
        return 0;
}

static int add_pins(probe_copy *c, const mntns_set *set, const pid_map *pm)
{
        bool has_process = false;
        char buf[PATH_MAX + 64];
        int k = 0;

        for (size_t i = 0; k >= 0 && i < set->n_pins; i++) {
                if (set->pins[i].pinned_ino != c->ns_ino)
                        continue;
                snprintf(buf, sizeof buf, "bind:%s", set->pins[i].mountpoint);
                k = strv_add(&c->pinned_by, buf);
        }
        for (size_t i = 0; !has_process && i < pm->n; i++)
                has_process = pm->inos[i] == c->ns_ino;
        /* Scanning every fd table is costly: only for a namespace that no
         * process is in, where an fd may be all that keeps it alive. */
        if (k >= 0 && !has_process) {
                char **fds = NULL;
                k = mntns_fd_pins(c->ns_ino, &fds);
                for (char **p = fds; k >= 0 && p && *p; p++)
                        k = strv_add(&c->pinned_by, *p);
                strv_free(fds);
        }
        return k < 0 ? k : 0;
}

/* Returns: 1 if NS holds a copy (added to R), 0 if not, -errno. */
static int add_copy(const mnt_namespace *ns, const scan_ctx *ctx, probe_result *r)
{
        probe_copy c = { .ns_id = ns->ns_id, .ns_ino = ns->ns_ino, .init = ns->init };
        const probe_target *t = ctx->t;
        uint64_t min_id = ctx->min_id;
        dev_t devnum = t->devnum;
        int k = 0;

        for (size_t i = 0; k >= 0 && i < ns->n_mounts; i++)
                if (ns->mounts[i].mnt_id >= min_id && is_copy(&ns->mounts[i], t)) {
                        if (t->devnum && ns->mounts[i].devnum != t->devnum)
                                c.other_sb = true;
                        if (!devnum)
                                devnum = ns->mounts[i].devnum;
                        k = strv_add(&c.mountpoints, ns->mounts[i].mountpoint);
                }
        if (!c.mountpoints)
                return k;
        for (size_t i = 0; k >= 0 && i < ns->n_mounts; i++) {
                if (is_copy(&ns->mounts[i], t))
                        continue;
                for (char **mp = c.mountpoints; *mp; mp++)
                        if (path_beneath(ns->mounts[i].mountpoint, *mp)) {
                                k = strv_add(&c.submounts, ns->mounts[i].mountpoint);
                                break;
                        }
        }
        if (k >= 0)
                k = add_processes(&c, ctx, devnum, r);
        if (k >= 0)
                k = add_pins(&c, ctx->set, &ctx->pm);
        probe_copy *nc = k >= 0 ? realloc(r->copies, (r->n_copies + 1) * sizeof(c)) : NULL;
        if (!nc) {
                probe_copy_done(&c);
                return k < 0 ? k : -ENOMEM;
        }
        r->copies = nc;
        r->copies[r->n_copies++] = c;
        if (c.init)
                r->mounted = true;
        return 1;
}

static int collect_copy_ids(scan_ctx *ctx)
{
        for (size_t i = 0; i < ctx->set->n_ns; i++) {
                const mnt_namespace *ns = &ctx->set->ns[i];
                for (size_t j = 0; j < ns->n_mounts; j++) {
                        if (ns->mounts[j].mnt_id < ctx->min_id || !is_copy(&ns->mounts[j], ctx->t))
                                continue;
                        if (ns->init)
                                ctx->init_has_copy = true;
                        uint64_t *ids = realloc(ctx->copy_ids, (ctx->n_copy_ids + 1) * sizeof(uint64_t));
                        if (!ids)
                                return -ENOMEM;
                        ctx->copy_ids = ids;
                        ids[ctx->n_copy_ids++] = ns->mounts[j].mnt_id;
                }
        }
        return 0;
}

int probe_scan(const probe_target *t, probe_result *ret)
{
        mntns_set set = { 0 };
        scan_ctx ctx = { .t = t, .set = &set };
        probe_result r = { 0 };
        unsigned unreadable = 0;
        int k;

        k = mntns_scan_from(keep_mount, (void *)t, t->min_mnt_id, &set);
        if (k < 0)
                return k;
        /* Only statmount() ids are unique and ordered; mountinfo's are reused. */
        ctx.min_id = set.used_statmount ? t->min_mnt_id : 0;
        k = collect_copy_ids(&ctx);
        /* The common answer on the mount/umount path is "no copy anywhere":
         * then no process needs to be looked at. */
        if (k >= 0 && ctx.n_copy_ids > 0 && set.n_pids > 0) {
                ctx.pm = (pid_map){ TAKE_PTR(set.pids), TAKE_PTR(set.pid_ns), set.n_pids };
                set.n_pids = 0;
        } else if (k >= 0 && ctx.n_copy_ids > 0)
                k = mntns_pid_map(&ctx.pm.pids, &ctx.pm.inos, &ctx.pm.n, &unreadable);
        r.n_unreadable = set.n_unreadable + unreadable;
        for (size_t i = 0; k >= 0 && i < set.n_ns; i++)
                k = add_copy(&set.ns[i], &ctx, &r);
        free(ctx.pm.pids);
        free(ctx.pm.inos);
        free(ctx.copy_ids);
        mntns_set_done(&set);
        if (k < 0) {
                probe_result_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}

bool probe_free(const probe_result *r)
{
        return r->n_copies == 0;
}

char *probe_holders_line(const probe_result *r)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        bool first = true;

        if (!f)
                return NULL;
        for (size_t i = 0; i < r->n_copies; i++)
                for (size_t j = 0; j < r->copies[i].n_processes; j++) {
                        const holder *h = &r->copies[i].processes[j];
                        fprintf(f, "%s%d(%s)", first ? "" : " ", (int)h->pid,
                                h->unit ? h->unit : h->comm ? h->comm : "?");
                        first = false;
                }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
