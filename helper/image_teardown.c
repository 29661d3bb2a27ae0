/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_teardown.c: an image lower's part of an unmount (image_layer.h):
 * after the overlay, its images' devices are shared, gone, or named; and
 * image mounts killed runs left are taken off. */
#include <dirent.h>
#include <time.h>

#include "image_layer.h"
#include "strv.h"
#include "util.h"

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
                        if (ret_others)
                                *ret_others = n - 1;
                        return 1;
                }
        return 0;
}

#define PAUSE_NSEC (20 * 1000 * 1000)

static void pause_a_moment(void)
{
        (void)nanosleep(&(struct timespec){ .tv_nsec = PAUSE_NSEC }, NULL);
}

/* Autoclear runs as the last opener lets go: look a few times. Returns: 1
 * still bound, 0 gone (or recycled), -errno. */
#define GONE_TRIES 10

static int still_bound(const img_layer *l, const loopdev_info *dev)
{
        for (int i = 0; i < GONE_TRIES; i++) {
                loopdev_info now;
                int r = our_device(l, &now, NULL);
                if (r <= 0 || now.nr != dev->nr || now.diskseq != dev->diskseq)
                        return r < 0 ? r : 0;
                pause_a_moment();
        }
        return 1;
}

/* An overlay unmounted at the same time elsewhere (instances stopped
 * together) is gone from every table a moment before its superblock lets
 * the device go: the claim is asked again for a while before it counts.
 * Returns: as loopdev_claimed(). */
#define CLAIM_TRIES 15

static int claim_persists(const loopdev_info *dev)
{
        int r = 1;

        for (int i = 0; r > 0 && i < CLAIM_TRIES; i++) {
                pause_a_moment();
                r = loopdev_claimed(dev);
        }
        return r;
}

static int device_holders(const inst_run *run, const img_layer *l, const loopdev_info *dev,
                          probe_result *ret)
{
        probe_target t = { .devnum = dev->devnum, .image = true, .by_device = true,
                           .have_image_id = true, .image_dev = l->st.st_dev,
                           .image_ino = l->st.st_ino };
        int r;

        t.input = strdup(l->label);
        t.image_path = l->image ? strdup(l->image) : NULL;
        if (!t.input || (l->image && !t.image_path)) {
                probe_target_done(&t);
                return -ENOMEM;
        }
        r = probe_scan(&t, ret);
        if (r >= 0)
                r = image_users_probe(&t, run->env->runtime_dir, true, ret);
        probe_target_done(&t);
        return r;
}

/* Claimed: by other overlays (shared), or by something to name.
 * Returns: 0 shared, 1 held (*HOLD), 2 no longer claimed, -errno (F). */
static int settle_claimed(const inst_run *run, const img_layer *l, const loopdev_info *dev,
                          const char *devname, img_hold *hold, inst_failure *f)
{
        _cleanup_free_ char *overlays = NULL;
        image_users u = { 0 };
        size_t n = 0;
        int r = img_scan_users(run, l, dev->devnum, &u);

        if (r >= 0)
                overlays = img_overlay_users(&u, &n);
        image_users_done(&u);
        if (r < 0)
                return inst_fail(f, STEP_SCAN, r, "overlays on", l->label, NULL);
        if (n > 0) {
                inst_emit(run, IEV_IMAGE_SHARED, devname, l->label);
                return 0;
        }
        r = claim_persists(dev);
        if (r <= 0)
                return 2;
        r = device_holders(run, l, dev, &hold->held);
        if (r < 0)
                return inst_fail(f, STEP_SCAN, r, "holders of", devname, NULL);
        snprintf(hold->label, sizeof hold->label, "%s", l->label);
        snprintf(hold->device, sizeof hold->device, "%s", devname);
        return 1;
}

/* Bound, claimed by nobody: only open (an fd, a udev worker). That is no
 * leak: autoclear detaches it at the last close. Say who has it open. */
static void left_open(const inst_run *run, const img_layer *l, const loopdev_info *dev,
                      const char *devname)
{
        _cleanup_free_ char *who = NULL;
        image_users u = { 0 };

        if (img_scan_users(run, l, dev->devnum, &u) >= 0)
                who = strv_join(u.users, ", ");
        image_users_done(&u);
        inst_emit_detail(run, IEV_IMAGE_LEFT_OPEN, devname, l->label,
                         !strempty(who) ? who : "a process this scan cannot see");
}

/* Returns: 0 settled (released, shared or left open), 1 held (*HOLD
 * filled), -errno (F). */
static int settle_one(const inst_run *run, const img_layer *l, bool unmounted, img_hold *hold,
                      inst_failure *f)
{
        char devname[32];
        loopdev_info dev;
        size_t others = 0;
        int r = img_unmount_leftover(l);

        if (r < 0)
                return inst_fail(f, STEP_UMOUNT, r, NULL, l->mount_path, NULL);
        r = our_device(l, &dev, &others);
        if (r < 0)
                return inst_fail(f, STEP_LOOP, r, "looking for the loop devices of", l->label,
                                 NULL);
        if (r == 0) {
                /* autoclear detached it as the last overlay went; a device
                 * someone else attached (and we shared) is theirs */
                if (unmounted && others == 0)
                        inst_emit(run, IEV_IMAGE_RELEASED, NULL, l->label);
                return 0;
        }
        snprintf(devname, sizeof devname, "/dev/loop%d", dev.nr);
        /* The kernel's answer first: unclaimed (and our test open perhaps
         * its last opener, which autoclear then detaches), then gone, is
         * released, and no scan is needed. */
        r = loopdev_claimed(&dev);
        if (r < 0 && r != -ESTALE && r != -ENXIO)
                return inst_fail(f, STEP_LOOP, r, "opening the loop device of", l->label, NULL);
        if (r > 0) {
                r = settle_claimed(run, l, &dev, devname, hold, f);
                if (r != 2)
                        return r;
        }
        r = still_bound(l, &dev);
        if (r < 0)
                return inst_fail(f, STEP_LOOP, r, "looking for the loop devices of", l->label,
                                 NULL);
        if (r == 0)
                inst_emit(run, IEV_IMAGE_RELEASED, devname, l->label);
        else
                left_open(run, l, &dev, devname);
        return 0;
}

/* The keys to settle: the overlay's record, and the images Lower= names
 * now (the same, unless an image was renamed over or the config edited);
 * LABELS[i] the Lower= of KEYS[i], or NULL. */
static int settle_keys(const inst_run *run, char *const *mounted_keys, char ***ret_keys)
{
        const overlay_config *cfg = run->cfg;
        char **keys = NULL;
        int r = 0;

        for (char *const *k = mounted_keys; r >= 0 && k && *k; k++)
                r = strv_add(&keys, *k);
        for (size_t i = 0; r >= 0 && i < cfg->n_lowers; i++) {
                char key[IMAGE_KEY_MAX];
                struct stat st;
                if (stat(cfg->lowers[i], &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                image_key(&st, key);
                r = strv_add(&keys, key);
        }
        if (r < 0) {
                strv_free(keys);
                return r;
        }
        strv_sort_unique(keys);
        *ret_keys = keys;
        return 0;
}

static int settle_key(const inst_run *run, const char *key, bool unmounted, img_hold *hold,
                      inst_failure *f)
{
        const char *lower;
        img_layer l;
        int r = img_layer_from_key(run->env, key, &l);

        if (r < 0) {
                img_layer_done(&l);
                return r == -EINVAL ? 0 : inst_fail(f, STEP_SCAN, r, NULL, key, NULL);
        }
        lower = img_lower_of(run->cfg, l.st.st_dev, l.st.st_ino);
        if (lower) {
                l.image = lower;
                snprintf(l.label, sizeof l.label, "%s", lower);
        }
        r = img_lock(run, &l, -1, f);
        if (r >= 0)
                r = settle_one(run, &l, unmounted, hold, f);
        img_unlock(run, &l);
        img_layer_done(&l);
        return r;
}

int img_settle(const inst_run *run, char *const *mounted_keys, bool unmounted, img_hold *hold,
               inst_failure *f)
{
        char **keys = NULL;
        int r = settle_keys(run, mounted_keys, &keys);

        *hold = (img_hold){ 0 };
        if (r < 0)
                return inst_fail(f, STEP_SCAN, r, NULL, run->cfg->merged, NULL);
        for (char **k = keys; r == 0 && k && *k; k++)
                r = settle_key(run, *k, unmounted, hold, f);
        strv_free(keys);
        if (r == 0)
                r = img_tidy(run, f);
        return r;
}

int img_tidy(const inst_run *run, inst_failure *f)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r = 0;

        if (asprintf(&dir, "%s/" IMAGE_DIR, run->env->runtime_dir) < 0)
                return inst_fail(f, STEP_SCAN, -ENOMEM, NULL, run->env->runtime_dir, NULL);
        d = opendir(dir);
        if (!d)
                return 0; /* no image was ever mounted here */
        while (r >= 0 && (de = readdir(d))) {
                img_layer l;
                if (de->d_name[0] == '.' || img_layer_from_key(run->env, de->d_name, &l) < 0)
                        continue;
                /* a run that holds the image's lock may be mounting it now */
                if (img_lock(run, &l, 0, NULL) >= 0) {
                        r = img_unmount_leftover(&l);
                        if (r == 0)
                                (void)rmdir(l.mount_path);
                        if (r < 0)
                                inst_fail(f, STEP_UMOUNT, r, NULL, l.mount_path, NULL);
                        img_unlock(run, &l);
                }
                img_layer_done(&l);
        }
        return r < 0 ? r : 0;
}
