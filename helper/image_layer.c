/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_layer.c: see image_layer.h. */
#include <fcntl.h>
#include <time.h>
#include <sys/mount.h>

#include "image.h"
#include "image_layer.h"
#include "image_users.h"
#include "lock.h"
#include "safedir.h"
#include "strv.h"
#include "util.h"

/* Waiting for another run's setup of the same image: a few loop setups. */
#define IMAGE_LOCK_EXTRA_SEC 5.0

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

static void layer_done(img_layer *l)
{
        closep(&l->udev_lock_fd);
        closep(&l->loop_fd);
        closep(&l->fd);
        free(l->fstype);
        free(l->mount_path);
}

void img_layers_done(img_layers *l)
{
        for (size_t i = 0; i < l->n; i++)
                layer_done(&l->v[i]);
        free(l->v);
        *l = (img_layers){ 0 };
}

static int cmp_key(const void *a, const void *b)
{
        return strcmp(((const img_layer *)a)->key, ((const img_layer *)b)->key);
}

static int lock_name(const img_layer *l, char *buf, size_t size)
{
        return snprintf(buf, size, ".image-%s", l->key) < (int)size ? 0 : -ENAMETOOLONG;
}

static int lock_image(const inst_run *run, img_layer *l, inst_failure *f)
{
        char name[96];
        pid_t holder_pid = 0;
        int r = lock_name(l, name, sizeof name);

        if (r >= 0)
                r = lock_instance(run->env->runtime_dir, name,
                                  run->env->wait_sec + IMAGE_LOCK_EXTRA_SEC, &holder_pid);
        if (r < 0) {
                inst_fail(f, STEP_LOCK, r, NULL, l->image, NULL);
                f->pid = holder_pid;
                return r;
        }
        l->lock_fd = r;
        return 0;
}

static void unlock_image(const inst_run *run, img_layer *l)
{
        char name[96];

        if (l->lock_fd >= 0 && lock_name(l, name, sizeof name) >= 0)
                lock_release(TAKE_FD(l->lock_fd), run->env->runtime_dir, name, true);
        closep(&l->lock_fd);
}

/* Opens one image lower. Returns: 1 an image, 0 a dir, -errno with F filled. */
static int open_one(const inst_run *run, const char *lower, bool for_mount, img_layer *l,
                    inst_failure *f)
{
        int fd, r;

        *l = (img_layer){ .image = lower, .fd = -EBADF, .lock_fd = -EBADF, .loop_fd = -EBADF,
                          .udev_lock_fd = -EBADF };
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
        if (!for_mount)
                return 1;
        r = image_fstype(fd, &l->fstype);
        if (r == -EMEDIUMTYPE)
                return inst_fail(f, STEP_IMAGE, r, NULL, lower,
                                 l->fstype ? l->fstype : "no filesystem signature found");
        if (r < 0)
                return inst_fail(f, STEP_IMAGE, r, NULL, lower, NULL);
        return 1;
}

/* One image reached by two Lower= paths (a hard link) is one device, one
 * lock: a second lock of our own would wait on the first. Sorted L. */
static void dedupe(img_layers *l)
{
        size_t w = 0;

        for (size_t i = 0; i < l->n; i++) {
                if (w > 0 && streq(l->v[w - 1].key, l->v[i].key)) {
                        layer_done(&l->v[i]);
                        continue;
                }
                l->v[w++] = l->v[i];
        }
        l->n = w;
}

int img_open(const inst_run *run, bool for_mount, img_layers *ret, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        img_layers l = { .v = calloc(cfg->n_lowers ? cfg->n_lowers : 1, sizeof(img_layer)) };
        int r = l.v ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < cfg->n_lowers; i++) {
                r = open_one(run, cfg->lowers[i], for_mount, &l.v[l.n], f);
                if (r > 0 || r < 0)
                        l.n++; /* a failed one is cleaned up with the rest */
        }
        if (r >= 0) {
                /* one order for every run: no two wait on each other */
                qsort(l.v, l.n, sizeof(img_layer), cmp_key);
                dedupe(&l);
                for (size_t i = 0; r >= 0 && i < l.n; i++)
                        r = lock_image(run, &l.v[i], f);
        }
        if (r < 0) {
                for (size_t i = 0; i < l.n; i++)
                        unlock_image(run, &l.v[i]);
                img_layers_done(&l);
                if (r == -ENOMEM && f->step == STEP_NONE)
                        return inst_fail(f, STEP_IMAGE, r, NULL, NULL, NULL);
                return r;
        }
        *ret = l;
        return 0;
}

/* What the scan finds using image L (users need RUNTIME_DIR: overlays on
 * its mount dir). Only on the paths that refuse or wait: it walks /proc. */
static int scan_users(const inst_run *run, const img_layer *l, dev_t devnum, image_users *ret)
{
        const image_users_query q = {
                .have_image = true,
                .image_dev = l->st.st_dev,
                .image_ino = l->st.st_ino,
                .image_path = l->image,
                .devnum = devnum,
                .runtime_dir = run->env->runtime_dir,
        };

        return image_users_scan(&q, ret);
}

/* The overlays among U's users: they share the device, and hold it. */
static char *overlay_users(const image_users *u, size_t *ret_n)
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

/* Writers of the image, as the scan names them, with read-write devices. */
static char *writers_text(const inst_run *run, const img_layer *l, const loopdev_info *devs,
                          size_t n)
{
        image_users u = { 0 };
        char **who = NULL, *s;

        for (size_t i = 0; i < n; i++) {
                char line[64];
                if (devs[i].flags & LO_FLAGS_READ_ONLY)
                        continue;
                snprintf(line, sizeof line, "/dev/loop%d (attached read-write)", devs[i].nr);
                (void)strv_add(&who, line);
        }
        if (scan_users(run, l, 0, &u) >= 0)
                for (char **w = u.writers; w && *w; w++)
                        (void)strv_add(&who, *w);
        image_users_done(&u);
        s = who ? strv_join(who, ", ") : NULL;
        strv_free(who);
        return s;
}

/* Someone writing the image while a loop device caches its blocks corrupts
 * what every overlay on it sees: refuse, naming who. The kernel's lease
 * answer decides; the scan names. */
static int refuse_writers(const inst_run *run, img_layer *l, const loopdev_info *devs, size_t n,
                          inst_failure *f)
{
        _cleanup_free_ char *who = NULL;
        bool rw_dev = false;
        int w = image_open_for_write(l->fd);

        for (size_t i = 0; i < n; i++)
                rw_dev = rw_dev || !(devs[i].flags & LO_FLAGS_READ_ONLY);
        if (w == 0 && !rw_dev)
                return 0;
        who = writers_text(run, l, devs, n);
        /* without the kernel's word (leases off), the scan decides alone */
        if (w < 0 && !rw_dev && strempty(who))
                return 0;
        return inst_fail(f, STEP_IMAGE_WRITER, -EBUSY, NULL, l->image,
                         !strempty(who) ? who
                                        : "a writer the scan cannot name (the kernel refuses a "
                                          "read lease: a process in a namespace out of reach, "
                                          "an fd in flight)");
}

const loopdev_info *img_device_to_share(const loopdev_info *devs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if ((devs[i].flags & LO_FLAGS_READ_ONLY) && devs[i].offset == 0 &&
                    devs[i].sizelimit == 0)
                        return &devs[i];
        return NULL;
}

static int fail_stale(const inst_run *run, img_layer *l, const loopdev_info *dev,
                      const char *why, inst_failure *f)
{
        _cleanup_free_ char *detail = NULL, *users_text = NULL;
        image_users u = { 0 };
        size_t n = 0;

        if (scan_users(run, l, dev->devnum, &u) >= 0)
                users_text = overlay_users(&u, &n);
        image_users_done(&u);
        if (asprintf(&detail, "/dev/loop%d was attached before %s changed; the overlays on it "
                     "(%s) still read the old blocks", dev->nr, why,
                     !strempty(users_text) ? users_text : "none found") < 0)
                detail = NULL;
        return inst_fail(f, STEP_IMAGE_STALE, -EBUSY, NULL, l->image, detail);
}

static int attach(const inst_run *run, img_layer *l, inst_failure *f)
{
        char tag[64];
        int fd;

        image_tag(&l->st, tag);
        fd = loopdev_attach(l->fd, tag, &l->loop, &l->udev_lock_fd);
        if (fd < 0)
                return inst_fail(f, STEP_LOOP, fd, NULL, l->image, NULL);
        l->loop_fd = fd;
        l->attached = true;
        {
                char dev[32];
                snprintf(dev, sizeof dev, "/dev/loop%d", l->loop.nr);
                inst_emit(run, IEV_IMAGE_ATTACHED, dev, l->image);
        }
        return 0;
}

/* Finds the image's shared device, or attaches one. */
static int find_or_attach(const inst_run *run, img_layer *l, inst_failure *f)
{
        _cleanup_free_ loopdev_info *devs = NULL;
        const loopdev_info *dev;
        const char *why;
        size_t n = 0;
        int r = loopdev_find_backing(l->st.st_dev, l->st.st_ino, &devs, &n);

        if (r < 0)
                return inst_fail(f, STEP_LOOP, r, "looking for loop devices of", l->image, NULL);
        r = refuse_writers(run, l, devs, n, f);
        if (r < 0)
                return r;
        dev = img_device_to_share(devs, n);
        if (!dev)
                return attach(run, l, f);
        if (image_tag_fresh(dev->tag, dev->size, &l->st, &why) == 0)
                return fail_stale(run, l, dev, why, f);
        r = loopdev_open(dev, 0);
        /* gone meanwhile (its last user left): a new one, then */
        if (r == -ENXIO || r == -ESTALE || r == -ENOENT)
                return attach(run, l, f);
        if (r < 0)
                return inst_fail(f, STEP_LOOP, r, "opening", l->image, NULL);
        l->loop_fd = r;
        l->loop = *dev;
        return 0;
}

/* A leftover image mount (a run killed between its mount and umount): ours
 * by its place; taken off, whatever it shows. */
static int unmount_leftover(const img_layer *l)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;
        int r = mount_at(l->mount_path, &m);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return umount2(l->mount_path, UMOUNT_NOFOLLOW) < 0 ? negative_errno() : 1;
}

static int mount_image(img_layer *l, inst_failure *f)
{
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *detail = NULL;
        int created, r;

        r = unmount_leftover(l);
        if (r < 0)
                return inst_fail(f, STEP_IMAGE_MOUNT, r, NULL, l->mount_path, "a leftover mount");
        dir_fd = safe_mkdir_path(l->mount_path, 0, 0, 0700, &created);
        if (dir_fd < 0)
                return inst_fail(f, STEP_MKDIR, dir_fd, "image", l->mount_path, NULL);
        r = image_mount(l->loop_fd, l->fstype, dir_fd, &detail);
        if (r < 0)
                return inst_fail(f, STEP_IMAGE_MOUNT, r, NULL, l->image, detail);
        l->mounted = true;
        return 0;
}

int img_prepare(const inst_run *run, img_layers *l, inst_failure *f)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < l->n; i++) {
                r = find_or_attach(run, &l->v[i], f);
                if (r >= 0)
                        r = mount_image(&l->v[i], f);
        }
        return r;
}

void img_release(const inst_run *run, img_layers *l, bool mounted)
{
        for (size_t i = 0; i < l->n; i++) {
                img_layer *layer = &l->v[i];
                /* nothing but us uses this mount: the overlay took a clone */
                if (layer->mounted && umount2(layer->mount_path, UMOUNT_NOFOLLOW) == 0)
                        layer->mounted = false;
                if (!layer->mounted)
                        (void)rmdir(layer->mount_path);
                if (layer->attached && !mounted && layer->loop_fd >= 0)
                        (void)loopdev_detach(layer->loop_fd);
                closep(&layer->udev_lock_fd);
                closep(&layer->loop_fd);
                unlock_image(run, layer);
        }
}

/* Our own device of the image (our tag): others' are theirs to detach.
 * Returns: 1 and *ret, 0 none (*ret_others: devices not ours), -errno. */
static int our_device(const img_layer *l, loopdev_info *ret, size_t *ret_others)
{
        _cleanup_free_ loopdev_info *devs = NULL;
        size_t n = 0;
        int r = loopdev_find_backing(l->st.st_dev, l->st.st_ino, &devs, &n);

        if (ret_others)
                *ret_others = n;
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (strncmp(devs[i].tag, IMAGE_TAG_PREFIX, strlen(IMAGE_TAG_PREFIX)) == 0) {
                        *ret = devs[i];
                        return 1;
                }
        return 0;
}

/* Autoclear runs as the last opener lets go, a moment after the last
 * mount went: look a few times before calling it held. */
#define GONE_TRIES 10
#define GONE_PAUSE_NSEC (20 * 1000 * 1000)

static int still_bound(const img_layer *l, const loopdev_info *dev)
{
        for (int i = 0; i < GONE_TRIES; i++) {
                loopdev_info now;
                int r = our_device(l, &now, NULL);
                if (r <= 0 || now.nr != dev->nr || now.diskseq != dev->diskseq)
                        return r < 0 ? r : 0;
                (void)nanosleep(&(struct timespec){ .tv_nsec = GONE_PAUSE_NSEC }, NULL);
        }
        return 1;
}

static int device_holders(const inst_run *run, const img_layer *l, const loopdev_info *dev,
                          probe_result *ret)
{
        probe_target t = { .devnum = dev->devnum, .image = true, .by_device = true,
                           .have_image_id = true, .image_dev = l->st.st_dev,
                           .image_ino = l->st.st_ino };
        int r;

        t.input = strdup(l->image);
        t.image_path = strdup(l->image);
        if (!t.input || !t.image_path) {
                probe_target_done(&t);
                return -ENOMEM;
        }
        r = probe_scan(&t, ret);
        if (r >= 0)
                r = image_users_probe(&t, run->env->runtime_dir, ret);
        probe_target_done(&t);
        return r;
}

/* Returns: 0 settled (released or shared), 1 held (*HOLD filled), -errno (F). */
static int settle_one(const inst_run *run, const img_layer *l, img_hold *hold, inst_failure *f)
{
        char devname[32];
        loopdev_info dev;
        size_t others = 0;
        int r = our_device(l, &dev, &others);

        if (r < 0)
                return inst_fail(f, STEP_LOOP, r, "looking for loop devices of", l->image, NULL);
        if (r == 0) {
                /* autoclear detached it as the last overlay went; a device
                 * someone else attached (and we shared) is theirs */
                if (others == 0)
                        inst_emit(run, IEV_IMAGE_RELEASED, NULL, l->image);
                return 0;
        }
        snprintf(devname, sizeof devname, "/dev/loop%d", dev.nr);
        r = unmount_leftover(l);
        if (r < 0)
                return inst_fail(f, STEP_UMOUNT, r, NULL, l->mount_path, NULL);
        if (r > 0)
                (void)rmdir(l->mount_path);
        /* The kernel's answer first: unclaimed (and our test open perhaps
         * its last opener, which autoclear then detaches), then gone, is
         * released, and no scan is needed. */
        r = loopdev_claimed(&dev);
        if (r < 0 && r != -ESTALE && r != -ENXIO)
                return inst_fail(f, STEP_LOOP, r, "opening", devname, NULL);
        if (r <= 0) {
                r = still_bound(l, &dev);
                if (r < 0)
                        return inst_fail(f, STEP_LOOP, r, "looking for loop devices of", l->image,
                                         NULL);
                if (r == 0) {
                        inst_emit(run, IEV_IMAGE_RELEASED, devname, l->image);
                        return 0;
                }
        } else {
                /* claimed: by another overlay (shared), or by something else */
                _cleanup_free_ char *overlays = NULL;
                image_users u = { 0 };
                size_t n = 0;
                r = scan_users(run, l, dev.devnum, &u);
                if (r >= 0)
                        overlays = overlay_users(&u, &n);
                image_users_done(&u);
                if (r < 0)
                        return inst_fail(f, STEP_SCAN, r, "overlays on", l->image, NULL);
                if (n > 0) {
                        inst_emit(run, IEV_IMAGE_SHARED, devname, l->image);
                        return 0;
                }
        }
        r = device_holders(run, l, &dev, &hold->held);
        if (r < 0)
                return inst_fail(f, STEP_SCAN, r, "holders of", devname, NULL);
        hold->image = l->image;
        snprintf(hold->device, sizeof hold->device, "%s", devname);
        return 1;
}

int img_settle(const inst_run *run, img_hold *hold, inst_failure *f)
{
        img_layers l = { 0 };
        int r = img_open(run, false, &l, f);

        *hold = (img_hold){ 0 };

        /* an image gone or unreadable now: nothing of it can be looked up */
        if (r < 0 && f->step == STEP_LOWER) {
                inst_failure_done(f);
                *f = (inst_failure){ 0 };
                return 0;
        }
        for (size_t i = 0; r == 0 && i < l.n; i++)
                r = settle_one(run, &l.v[i], hold, f);
        /* the image path stays valid: it is the config's */
        for (size_t i = 0; i < l.n; i++)
                unlock_image(run, &l.v[i]);
        img_layers_done(&l);
        return r;
}

int img_tidy(const inst_run *run, inst_failure *f)
{
        img_layers l = { 0 };
        int r = img_open(run, false, &l, f);

        for (size_t i = 0; r >= 0 && i < l.n; i++) {
                r = unmount_leftover(&l.v[i]);
                if (r > 0)
                        (void)rmdir(l.v[i].mount_path);
                if (r < 0)
                        inst_fail(f, STEP_UMOUNT, r, NULL, l.v[i].mount_path, NULL);
        }
        for (size_t i = 0; i < l.n; i++)
                unlock_image(run, &l.v[i]);
        img_layers_done(&l);
        return r < 0 ? r : 0;
}
