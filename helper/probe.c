/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe.c: see probe.h; the scans are probe_many.c's.
 *
 * Also the sorted indexes they match mounts and references with (see
 * probe_internal.h): a status of 1,000 instances asks, of every mount in
 * every namespace, whether it is a copy of any instance or beneath one: by
 * device, by Upper or Work (the first upperdir= and workdir= values, as
 * probe_scan() always compared them) and by path prefix, each a binary
 * search, so a table costs what it has mounts, not mounts times targets. */
#include <fcntl.h>
#include <limits.h>
#include <linux/major.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "image.h"
#include "kapi.h"
#include "loopdev.h"
#include "mntns.h"
#include "mounttab.h"
#include "overlay.h"
#include "probe.h"
#include "probe_internal.h"
#include "text.h"
#include "util.h"

void probe_target_done(probe_target *t)
{
        free(t->input);
        free(t->instance);
        free(t->path);
        free(t->upper);
        free(t->work);
        free(t->image_path);
        *t = (probe_target){ 0 };
}

/* Of the devices backing one image, the one a probe scans: read-only at
 * offset 0 (what overlay-helper attaches and shares), else at offset 0,
 * else any; the lowest number among equals. */
static const loopdev_info *preferred_device(const loopdev_info *v, size_t n)
{
        const loopdev_info *best = NULL;
        int best_rank = -1;

        for (size_t i = 0; i < n; i++) {
                int rank = 2 * (v[i].offset == 0) + !!(v[i].flags & LO_FLAGS_READ_ONLY);
                if (rank > best_rank || (rank == best_rank && v[i].nr < best->nr)) {
                        best = &v[i];
                        best_rank = rank;
                }
        }
        return best;
}

/* A regular file is an image when a loop device backs it (the kernel's
 * record of its device and inode), or when it holds a layer filesystem
 * that none backs; any other file is a path like a dir.
 * Returns: 1 an image (T filled), 0 a path, -errno (the loop devices of an
 * image could not be looked at). */
static int target_image(const char *path, const struct statx *stx, probe_target *t)
{
        _cleanup_free_ loopdev_info *devs = NULL;
        _cleanup_free_ char *fstype = NULL;
        _cleanup_close_ int fd = -EBADF;
        dev_t dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
        size_t n = 0;
        struct stat st;
        int r = loopdev_find_backing(dev, (ino_t)stx->stx_ino, &devs, &n);

        if (r < 0 || n == 0) {
                fd = image_open(path, &st);
                if (fd < 0 || image_fstype(fd, &fstype) < 0)
                        return 0;
                if (r < 0)
                        return r;
        }
        t->image_path = strdup(path);
        if (!t->image_path)
                return -ENOMEM;
        t->devnum = n > 0 ? preferred_device(devs, n)->devnum : 0;
        t->image = t->have_image_id = true;
        t->image_dev = dev;
        t->image_ino = (ino_t)stx->stx_ino;
        return 1;
}

/* A loop device: the image bound to it, by the kernel's record. One that
 * is unbound, or that we may not open, has none: the kernel's claim check
 * (image_users) then answers for it. Returns: 0 or -ENOMEM. */
static int target_loop_device(const char *path, probe_target *t)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_fclose_ FILE *f = NULL;
        char sys[80], backing[PATH_MAX];
        loopdev_info info;

        if (major(t->devnum) != LOOP_MAJOR)
                return 0;
        t->image = t->by_device = true;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0 || loopdev_info_fd(fd, &info) < 0 || info.devnum != t->devnum)
                return 0;
        t->have_image_id = true;
        t->image_dev = info.backing_dev;
        t->image_ino = info.backing_ino;
        /* the path only names it in messages: the ids above are what counts */
        snprintf(sys, sizeof sys, "/sys/block/loop%d/loop/backing_file", info.nr);
        f = fopen(sys, "re");
        if (f && fgets(backing, sizeof backing, f)) {
                backing[strcspn(backing, "\n")] = '\0';
                t->image_path = strdup(backing);
                if (!t->image_path)
                        return -ENOMEM;
        }
        return 0;
}

void probe_target_layer_ids(probe_target *t)
{
        struct stat upper_st, work_st;

        if (!t->upper || !t->work || stat(t->upper, &upper_st) < 0 || stat(t->work, &work_st) < 0)
                return;
        t->have_layer_ids = true;
        t->upper_dev = upper_st.st_dev;
        t->upper_ino = upper_st.st_ino;
        t->work_dev = work_st.st_dev;
        t->work_ino = work_st.st_ino;
}

/* The dir an upperdir= or workdir= option KEY names: shown escaped when it
 * went in as a string (before 6.13), as is when by fd; which it was is not
 * shown, so a value with a '\' is taken as is only where that exists. */
static char *layer_path(const char *options, const char *key)
{
        char *shown = overlay_layer_value(options, key, NULL), *plain;
        struct stat st;

        if (!shown || !strchr(shown, '\\') || stat(shown, &st) == 0)
                return shown;
        plain = shown;
        overlay_unescape_path(plain);
        return plain;
}

int probe_target_from_path(const char *path, probe_target *ret)
{
        _cleanup_free_ struct oh_statmount *sm = NULL;
        probe_target t = { 0 };
        struct statx stx;
        const size_t size = 64 * 1024;
        int r = 0;

        if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_TYPE | STATX_INO | STATX_MNT_ID_UNIQUE,
                  &stx) < 0)
                return negative_errno();
        t.input = strdup(path);
        if (!t.input)
                return -ENOMEM;
        if (S_ISBLK(stx.stx_mode)) {
                t.devnum = makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
                r = target_loop_device(path, &t);
        } else if (S_ISREG(stx.stx_mode))
                r = target_image(path, &stx, &t);
        if (r < 0) {
                probe_target_done(&t);
                return r;
        }
        if (S_ISBLK(stx.stx_mode) || t.image) {
                *ret = t;
                return 0;
        }
        t.devnum = makedev(stx.stx_dev_major, stx.stx_dev_minor);
        /* The mount point and, for an overlay, its layers: copies of it in
         * other namespaces are then recognisable even after it is gone here. */
        sm = malloc(size);
        /* mounttab knows whether statmount() may be called at all: a
         * seccomp filter may kill rather than refuse it. */
        if (sm && (stx.stx_mask & STATX_MNT_ID_UNIQUE) && mounttab_have_statmount() &&
            oh_statmount(stx.stx_mnt_id, 0,
                         OH_STATMOUNT_MNT_POINT | OH_STATMOUNT_FS_TYPE | OH_STATMOUNT_MNT_OPTS,
                         sm, size) == 0) {
                if (sm->mask & OH_STATMOUNT_MNT_POINT)
                        t.path = strdup(sm->str + sm->mnt_point);
                if ((sm->mask & OH_STATMOUNT_FS_TYPE) && streq(sm->str + sm->fs_type, "overlay") &&
                    (sm->mask & OH_STATMOUNT_MNT_OPTS)) {
                        t.upper = layer_path(sm->str + sm->mnt_opts, "upperdir");
                        t.work = layer_path(sm->str + sm->mnt_opts, "workdir");
                }
        } else {
                _cleanup_mount_entry_ mount_entry *m = NULL;
                /* no statmount: the mount the path is on, by its id */
                r = mount_containing(path, &m);
                if (r == 0) {
                        t.path = strdup(m->target);
                        if (streq(m->fstype, "overlay")) {
                                t.upper = layer_path(m->fs_options, "upperdir");
                                t.work = layer_path(m->fs_options, "workdir");
                        }
                } else
                        t.path = realpath(path, NULL);
        }
        probe_target_layer_ids(&t);
        *ret = t;
        return 0;
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
        strv_free(r->loops);
        strv_free(r->swaps);
        strv_free(r->loop_devices);
        strv_free(r->dev_users);
        strv_free(r->writers);
        strv_free(r->unnamed_claims);
        *r = (probe_result){ 0 };
}

/* No copy, no device, no user of the device, and the kernel, where asked,
 * says not in use and not claimed. Writers are warned about, not holders. */
static bool nothing_found(const probe_result *r)
{
        return r->n_copies == 0 && !r->kernel_in_use && !r->loops && !r->swaps &&
               !(r->dev_users && r->dev_users[0]) && !r->dev_claimed;
}

bool probe_undecided(const probe_result *r)
{
        return nothing_found(r) && (r->kernel_error || r->n_unreadable || r->dev_claim_error);
}

bool probe_free(const probe_result *r)
{
        return nothing_found(r) && !r->kernel_error && !r->n_unreadable && !r->dev_claim_error;
}

char *probe_holders_line(const probe_result *r)
{
        char *buf = NULL, num[TEXT_GROUPED_MAX];
        size_t len = 0, shown = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < r->n_copies; i++)
                for (size_t j = 0; j < r->copies[i].n_processes; j++) {
                        const holder *h = &r->copies[i].processes[j];
                        if (shown++ >= PROBE_LINE_HOLDERS_MAX)
                                continue;
                        fprintf(f, "%s%d(%s)", shown > 1 ? " " : "", (int)h->pid,
                                h->unit ? h->unit : h->comm ? h->comm : "?");
                }
        /* The total stays exact, so a change among the ones left out still
         * changes the line (--watch prints on change). */
        if (shown > PROBE_LINE_HOLDERS_MAX)
                fprintf(f, " and %s more (%zu in all)",
                        text_grouped(shown - PROBE_LINE_HOLDERS_MAX, num), shown);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

int pm_grow(void **p, size_t *cap, size_t n, size_t size)
{
        size_t c;
        void *np;

        if (n < *cap)
                return 0;
        c = *cap ? *cap * 2 : 16;
        np = reallocarray(*p, c, size);
        if (!np)
                return -ENOMEM;
        *p = np;
        *cap = c;
        return 0;
}

int pm_index_add(pm_index *ix, uint64_t num, const char *str, size_t val)
{
        if (pm_grow((void **)&ix->v, &ix->cap, ix->n, sizeof(pm_ent)) < 0)
                return -ENOMEM;
        ix->v[ix->n++] = (pm_ent){ .num = num, .str = str, .val = val };
        return 0;
}

int pm_cmp_num(const pm_ent *e, const pm_key *k)
{
        return e->num < k->num ? -1 : e->num > k->num;
}

int pm_cmp_str(const pm_ent *e, const pm_key *k)
{
        int r = strncmp(e->str, k->s, k->len);

        return r ? r : e->str[k->len] != '\0';
}

int pm_sort_num(const void *a, const void *b)
{
        const pm_ent *x = a, *y = b;

        if (x->num != y->num)
                return x->num < y->num ? -1 : 1;
        return x->val < y->val ? -1 : x->val > y->val;
}

int pm_sort_str(const void *a, const void *b)
{
        const pm_ent *x = a, *y = b;
        int r = strcmp(x->str, y->str);

        return r ? r : (x->val < y->val ? -1 : x->val > y->val);
}

int pm_sort_size(const void *a, const void *b)
{
        size_t x = *(const size_t *)a, y = *(const size_t *)b;

        return x < y ? -1 : x > y;
}

void pm_sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
        if (n > 0) /* V may be NULL then, which qsort() must not be given */
                qsort(v, n, size, cmp);
}

void pm_sort_unique(void *v, size_t *n, size_t size, int (*cmp)(const void *, const void *))
{
        char *p = v;
        size_t u = 0;

        pm_sort(v, *n, size, cmp);
        for (size_t i = 0; i < *n; i++)
                if (u == 0 || cmp(p + i * size, p + (u - 1) * size) != 0)
                        memmove(p + u++ * size, p + i * size, size);
        *n = u;
}

size_t pm_index_range(const pm_index *ix, int (*cmp)(const pm_ent *, const pm_key *),
                      const pm_key *k, size_t *lo)
{
        size_t a = 0, b = ix->n, hi;

        while (a < b) {
                size_t mid = a + (b - a) / 2;
                if (cmp(&ix->v[mid], k) < 0)
                        a = mid + 1;
                else
                        b = mid;
        }
        for (hi = a; hi < ix->n && cmp(&ix->v[hi], k) == 0; hi++)
                ;
        *lo = a;
        return hi;
}

static bool index_has(const pm_index *ix, int (*cmp)(const pm_ent *, const pm_key *),
                      const pm_key *k)
{
        size_t lo;

        return pm_index_range(ix, cmp, k, &lo) > lo;
}

void pm_tindex_done(pm_tindex *ti)
{
        free(ti->dev.v);
        free(ti->upper.v);
        free(ti->work.v);
        free(ti->path.v);
        free(ti->layer.v);
}

int pm_tindex_build(const probe_target *t, size_t n, pm_tindex *ti)
{
        int k = 0;

        for (size_t i = 0; k >= 0 && i < n; i++) {
                if (t[i].devnum)
                        k = pm_index_add(&ti->dev, t[i].devnum, NULL, i);
                if (k >= 0 && t[i].upper)
                        k = pm_index_add(&ti->upper, 0, t[i].upper, i);
                if (k >= 0 && t[i].work)
                        k = pm_index_add(&ti->work, 0, t[i].work, i);
                if (k >= 0 && t[i].have_layer_ids)
                        k = pm_index_add(&ti->layer, pm_layer_key(t[i].upper_dev, t[i].upper_ino),
                                         NULL, i);
                if (k >= 0 && t[i].have_layer_ids)
                        k = pm_index_add(&ti->layer, pm_layer_key(t[i].work_dev, t[i].work_ino),
                                         NULL, i);
                if (k >= 0 && t[i].path && streq(t[i].path, "/"))
                        ti->root_path = true;
                else if (k >= 0 && t[i].path)
                        k = pm_index_add(&ti->path, 0, t[i].path, i);
        }
        pm_sort(ti->dev.v, ti->dev.n, sizeof(pm_ent), pm_sort_num);
        pm_sort(ti->upper.v, ti->upper.n, sizeof(pm_ent), pm_sort_str);
        pm_sort(ti->work.v, ti->work.n, sizeof(pm_ent), pm_sort_str);
        pm_sort(ti->path.v, ti->path.n, sizeof(pm_ent), pm_sort_str);
        pm_sort(ti->layer.v, ti->layer.n, sizeof(pm_ent), pm_sort_num);
        return k;
}

size_t pm_copy_ranges(const pm_tindex *ti, const ns_mount *m, const pm_index *ret_ix[3],
                      size_t ret_lo[3], size_t ret_hi[3])
{
        const pm_index *by[2] = { &ti->upper, &ti->work };
        const char *opt[2] = { "upperdir", "workdir" };
        pm_key k = { .num = m->devnum };
        size_t n = 0;

        if (m->devnum) {
                ret_ix[n] = &ti->dev;
                ret_hi[n] = pm_index_range(&ti->dev, pm_cmp_num, &k, &ret_lo[n]);
                n += ret_hi[n] > ret_lo[n];
        }
        if (!streq(m->fstype, "overlay"))
                return n;
        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *v = NULL;

                if (by[i]->n == 0)
                        continue;
                /* the first value, as probe_scan() compared it */
                v = layer_path(m->fs_options, opt[i]);
                if (!v)
                        continue;
                k = (pm_key){ .s = v, .len = strlen(v) };
                ret_ix[n] = by[i];
                ret_hi[n] = pm_index_range(by[i], pm_cmp_str, &k, &ret_lo[n]);
                if (ret_hi[n] > ret_lo[n]) {
                        n++;
                        continue;
                }
                /* not by name: maybe the same dir by another path (as this
                 * namespace resolves it) */
                struct stat st;
                if (ti->layer.n == 0 || stat(v, &st) < 0)
                        continue;
                k = (pm_key){ .num = pm_layer_key(st.st_dev, st.st_ino) };
                ret_ix[n] = &ti->layer;
                ret_hi[n] = pm_index_range(&ti->layer, pm_cmp_num, &k, &ret_lo[n]);
                n += ret_hi[n] > ret_lo[n];
        }
        return n;
}

bool pm_other_upper(const ns_mount *m, const probe_target *t)
{
        _cleanup_free_ char *upper = NULL;
        struct stat st;

        if (!t->have_layer_ids || !streq(m->fstype, "overlay"))
                return false;
        upper = layer_path(m->fs_options, "upperdir");
        if (!upper || (t->upper && streq(upper, t->upper)) || stat(upper, &st) < 0)
                return false;
        return st.st_dev != t->upper_dev || st.st_ino != t->upper_ino;
}

static bool beneath_any(const pm_tindex *ti, const char *mountpoint)
{
        if (mountpoint[0] != '/')
                return false; /* statmount()'s "" for a point out of reach */
        if (ti->root_path && mountpoint[1] != '\0')
                return true;
        for (const char *p = mountpoint + 1; ti->path.n && (p = strchr(p, '/')); p++) {
                pm_key k = { .s = mountpoint, .len = (size_t)(p - mountpoint) };
                if (index_has(&ti->path, pm_cmp_str, &k))
                        return true;
        }
        return false;
}

bool pm_keep_any(const ns_mount *m, void *userdata)
{
        const pm_index *ix[3];
        size_t lo[3], hi[3];

        return pm_copy_ranges(userdata, m, ix, lo, hi) > 0 || beneath_any(userdata, m->mountpoint);
}

/* Entry against "K/" as a prefix: 0 for every path beneath K. */
static int cmp_under(const pm_ent *e, const pm_key *k)
{
        int r = strncmp(e->str, k->s, k->len);

        return r ? r : (int)(unsigned char)e->str[k->len] - '/';
}

static bool pm_wants_sb(dev_t devnum, uint64_t magic, void *userdata)
{
        const pm_tindex *ti = userdata;

        /* an overlay may be a copy by its Upper or Work (pm_copy_ranges) */
        return magic == OH_OVERLAYFS_SUPER_MAGIC ||
               (devnum && index_has(&ti->dev, pm_cmp_num, &(pm_key){ .num = devnum }));
}

static mount_place pm_place(const char *mountpoint, void *userdata)
{
        const pm_tindex *ti = userdata;
        pm_key k = { .s = mountpoint, .len = strlen(mountpoint) };

        if (mountpoint[0] != '/')
                return MOUNT_PLACE_APART;
        if (beneath_any(ti, mountpoint))
                return MOUNT_PLACE_BENEATH;
        if (ti->root_path)
                return MOUNT_PLACE_ABOVE; /* "/" itself */
        if (streq(mountpoint, "/"))
                return ti->path.n ? MOUNT_PLACE_ABOVE : MOUNT_PLACE_APART;
        return index_has(&ti->path, pm_cmp_str, &k) || index_has(&ti->path, cmp_under, &k)
                       ? MOUNT_PLACE_ABOVE
                       : MOUNT_PLACE_APART;
}

const mount_prefilter pm_prefilter = { .wants_sb = pm_wants_sb, .place = pm_place };

bool pm_path_beneath(const char *path, const char *dir)
{
        size_t len = strlen(dir);

        if (streq(dir, "/"))
                return path[0] == '/' && path[1] != '\0';
        return strncmp(path, dir, len) == 0 && path[len] == '/';
}
