/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_layer.c: see image_layer.h. What mount and unmount share: the
 * layers, their keys and locks, the leftover mounts, the users scan. */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "image_layer.h"
#include "lock.h"
#include "overlay.h"
#include "strv.h"
#include "util.h"

int img_resolve_lowers(const engine_env *env, overlay_config *cfg)
{
        char **lowers = NULL;
        bool any = false;

        for (size_t i = 0; i < cfg->n_lowers; i++) {
                struct stat st;
                _cleanup_free_ char *path = NULL;
                bool image = stat(cfg->lowers[i], &st) == 0 && S_ISREG(st.st_mode);

                if (image && !(path = image_mount_path(env->runtime_dir, &st))) {
                        strv_free(lowers);
                        return -ENOMEM;
                }
                any = any || image;
                if (strv_add(&lowers, image ? path : cfg->lowers[i]) < 0) {
                        strv_free(lowers);
                        return -ENOMEM;
                }
        }
        strv_free(cfg->layer_lowers);
        cfg->layer_lowers = any ? lowers : NULL;
        if (!any)
                strv_free(lowers);
        return 0;
}

void img_layer_init(img_layer *l, const char *image)
{
        *l = (img_layer){ .image = image, .fd = -EBADF, .lock_fd = -EBADF, .loop_fd = -EBADF,
                          .udev_lock_fd = -EBADF };
        if (image)
                snprintf(l->label, sizeof l->label, "%s", image);
}

void img_layer_done(img_layer *l)
{
        closep(&l->udev_lock_fd);
        closep(&l->loop_fd);
        closep(&l->fd);
        free(l->fstype);
        free(l->mount_path);
        l->fstype = l->mount_path = NULL;
}

void img_layers_done(img_layers *l)
{
        for (size_t i = 0; i < l->n; i++)
                img_layer_done(&l->v[i]);
        free(l->v);
        *l = (img_layers){ 0 };
}

int img_layer_from_key(const engine_env *env, const char *key, img_layer *ret)
{
        unsigned maj, min;
        unsigned long long ino;
        int end = 0;

        img_layer_init(ret, NULL);
        if (sscanf(key, "%u.%u-%llu%n", &maj, &min, &ino, &end) != 3 || key[end] != '\0')
                return -EINVAL;
        ret->st.st_dev = makedev(maj, min);
        ret->st.st_ino = (ino_t)ino;
        image_key(&ret->st, ret->key);
        snprintf(ret->label, sizeof ret->label, "the image %s (device %u:%u, inode %llu)", key,
                 maj, min, ino);
        ret->mount_path = image_mount_path(env->runtime_dir, &ret->st);
        return ret->mount_path ? 0 : -ENOMEM;
}

static int lock_name(const img_layer *l, char *buf, size_t size)
{
        return snprintf(buf, size, ".image-%s", l->key) < (int)size ? 0 : -ENAMETOOLONG;
}

int img_lock(const inst_run *run, img_layer *l, double wait_sec, inst_failure *f)
{
        char name[96];
        pid_t holder_pid = 0;
        int r = lock_name(l, name, sizeof name);

        if (wait_sec < 0)
                wait_sec = run->env->wait_sec + IMAGE_LOCK_EXTRA_SEC;
        if (r >= 0)
                r = lock_instance(run->env->runtime_dir, name, wait_sec, &holder_pid);
        if (r < 0) {
                if (f) {
                        inst_fail(f, STEP_IMAGE_LOCK, r, NULL, l->label, NULL);
                        f->pid = holder_pid;
                        f->waited = wait_sec;
                }
                return r;
        }
        l->lock_fd = r;
        return 0;
}

void img_unlock(const inst_run *run, img_layer *l)
{
        char name[96];

        if (l->lock_fd >= 0 && lock_name(l, name, sizeof name) >= 0)
                lock_release(TAKE_FD(l->lock_fd), run->env->runtime_dir, name, true);
        closep(&l->lock_fd);
}

static int cmp_key(const void *a, const void *b)
{
        return strcmp(((const img_layer *)a)->key, ((const img_layer *)b)->key);
}

/* Opens one lower. Returns: 1 an image, 0 a dir, -errno with F filled. */
static int open_one(const inst_run *run, const char *lower, img_layer *l, inst_failure *f)
{
        int fd, r;

        img_layer_init(l, lower);
        fd = image_open(lower, &l->st);
        if (fd == -EISDIR)
                return 0;
        if (fd < 0)
                return inst_fail(f, STEP_LOWER, fd, NULL, lower, NULL);
        l->fd = fd;
        image_key(&l->st, l->key);
        l->mount_path = image_mount_path(run->env->runtime_dir, &l->st);
        if (!l->mount_path)
                return inst_fail(f, STEP_IMAGE, -ENOMEM, NULL, lower, NULL);
        r = image_fstype(fd, &l->fstype);
        if (r == -EMEDIUMTYPE)
                return inst_fail(f, STEP_IMAGE, r, NULL, lower,
                                 l->fstype ? l->fstype : "no filesystem signature found");
        if (r < 0)
                return inst_fail(f, STEP_IMAGE, r, NULL, lower, NULL);
        return 1;
}

/* One image named by two Lower= (a hard link, a bind mount) would be one
 * layer twice, which overlayfs refuses: a config error. Sorted L. */
static int refuse_twice(const inst_run *run, const img_layers *l, inst_failure *f)
{
        _cleanup_free_ char *detail = NULL;

        for (size_t i = 1; i < l->n; i++) {
                if (!streq(l->v[i - 1].key, l->v[i].key))
                        continue;
                if (asprintf(&detail, "%s: Lower=%s and Lower=%s are the same image file (one "
                             "device and inode): name it once", run->cfg->path,
                             l->v[i - 1].image, l->v[i].image) < 0)
                        detail = NULL;
                return inst_fail(f, STEP_CONFIG, -EINVAL, NULL, run->cfg->path,
                                 detail ? detail : "the same image is named twice in Lower=");
        }
        return 0;
}

int img_open(const inst_run *run, img_layers *ret, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        img_layers l = { .v = calloc(cfg->n_lowers ? cfg->n_lowers : 1, sizeof(img_layer)) };
        int r = l.v ? 0 : inst_fail(f, STEP_IMAGE, -ENOMEM, NULL, cfg->lowers[0], NULL);

        for (size_t i = 0; r >= 0 && i < cfg->n_lowers; i++) {
                r = open_one(run, cfg->lowers[i], &l.v[l.n], f);
                if (r != 0)
                        l.n++; /* a failed one is cleaned up with the rest */
                else
                        img_layer_done(&l.v[l.n]);
        }
        if (r >= 0) {
                /* one order for every run: no two wait on each other */
                qsort(l.v, l.n, sizeof(img_layer), cmp_key);
                r = refuse_twice(run, &l, f);
                for (size_t i = 0; r >= 0 && i < l.n; i++)
                        r = img_lock(run, &l.v[i], -1, f);
        }
        if (r < 0) {
                for (size_t i = 0; i < l.n; i++)
                        img_unlock(run, &l.v[i]);
                img_layers_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}

int img_keys_of_mount(const engine_env *env, const mount_entry *m, char ***ret)
{
        _cleanup_free_ char *dir = NULL;
        overlay_layers layers;
        char **keys = NULL;
        size_t len;
        int r = 0;

        *ret = NULL;
        if (!m || !streq(m->fstype, "overlay"))
                return 0;
        if (asprintf(&dir, "%s/" IMAGE_DIR "/", env->runtime_dir) < 0)
                return -ENOMEM;
        len = strlen(dir);
        if (overlay_layers_parse(m->fs_options, &layers) < 0)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < layers.n_lowers; i++) {
                const char *lower = layers.lowers[i];
                if (strncmp(lower, dir, len) == 0 && !strchr(lower + len, '/'))
                        r = strv_add(&keys, lower + len);
        }
        overlay_layers_done(&layers);
        if (r < 0) {
                strv_free(keys);
                return r;
        }
        *ret = keys;
        return 0;
}

/* A leftover image mount (a run killed between its mount and umount): ours
 * by its place; taken off, whatever it shows. */
int img_unmount_leftover(const img_layer *l)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;
        int r = mount_at(l->mount_path, &m);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (umount2(l->mount_path, UMOUNT_NOFOLLOW) < 0)
                return negative_errno();
        (void)rmdir(l->mount_path);
        return 1;
}

int img_scan_users(const inst_run *run, const img_layer *l, dev_t devnum, image_users *ret)
{
        const image_users_query q = {
                .have_image = true,
                .image_dev = l->st.st_dev,
                .image_ino = l->st.st_ino,
                .image_path = l->image,
                .devnum = devnum,
                .runtime_dir = run->env->runtime_dir,
                .lock_held = true,
        };

        return image_users_scan(&q, ret);
}

char *img_overlay_users(const image_users *u, size_t *ret_n)
{
        char **overlays = NULL, *s;

        *ret_n = 0;
        for (char **p = u->users; p && *p; p++)
                if (strncmp(*p, "overlay ", 8) == 0 && strv_add(&overlays, *p) >= 0)
                        (*ret_n)++;
        s = strv_join(overlays, ", ");
        strv_free(overlays);
        return s;
}

const char *img_lower_of(const overlay_config *cfg, dev_t dev, ino_t ino)
{
        for (size_t i = 0; i < cfg->n_lowers; i++) {
                struct stat st;
                if (stat(cfg->lowers[i], &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == dev &&
                    st.st_ino == ino)
                        return cfg->lowers[i];
        }
        return NULL;
}

const loopdev_info *img_device_to_share(const loopdev_info *devs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((devs[i].flags & LO_FLAGS_READ_ONLY) && devs[i].offset == 0 &&
                    devs[i].sizelimit == 0)
                        return &devs[i];
        return NULL;
}
