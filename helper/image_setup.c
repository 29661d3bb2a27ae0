/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_setup.c: an image lower's part of a mount (image_layer.h): refuse
 * writers and stale views, share or attach the device, mount it for the
 * overlay to take, and take that mount off again. */
#include <fcntl.h>
#include <sys/mount.h>
#include <time.h>

#include "image_layer.h"
#include "safedir.h"
#include "strv.h"
#include "util.h"

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
        if (img_scan_users(run, l, 0, &u) >= 0)
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

static int fail_stale(const inst_run *run, img_layer *l, const loopdev_info *dev,
                      const char *why, inst_failure *f)
{
        _cleanup_free_ char *detail = NULL, *users_text = NULL;
        image_users u = { 0 };
        size_t n = 0;

        if (img_scan_users(run, l, dev->devnum, &u) >= 0)
                users_text = img_overlay_users(&u, &n);
        image_users_done(&u);
        if (asprintf(&detail, "/dev/loop%d was attached before %s changed; the overlays on it "
                     "(%s) still read the old blocks", dev->nr, why,
                     !strempty(users_text) ? users_text : "none found") < 0)
                detail = NULL;
        return inst_fail(f, STEP_IMAGE_STALE, -EBUSY, NULL, l->image, detail);
}

static int attach(const inst_run *run, img_layer *l, inst_failure *f)
{
        char tag[64], dev[32];
        int fd;

        image_tag(&l->st, tag);
        fd = loopdev_attach(l->fd, tag, &l->loop, &l->udev_lock_fd);
        if (fd < 0)
                return inst_fail(f, STEP_LOOP, fd, NULL, l->image, NULL);
        l->loop_fd = fd;
        l->attached = true;
        snprintf(dev, sizeof dev, "/dev/loop%d", l->loop.nr);
        inst_emit(run, IEV_IMAGE_ATTACHED, dev, l->image);
        return 0;
}

/* Is the shared device DEV (open at FD) a fresh view of the image? Only a
 * ctime that moved alone (a hard link, chmod, chown) is settled by reading
 * both: refusing on it would stop every later mount for nothing.
 * Returns: 0 fresh, -errno with F filled. */
static int check_fresh(const inst_run *run, img_layer *l, const loopdev_info *dev, int fd,
                       inst_failure *f)
{
        const char *why;
        int r = image_tag_fresh(dev->tag, dev->size, &l->st, &why);

        if (r == 2)
                r = image_same_blocks(l->fd, fd, dev->size);
        if (r == 0 || (r == -ENODATA && why))
                return fail_stale(run, l, dev, why ? why : "its contents", f);
        return 0; /* 1; ENODATA with the size right: someone else's, as far as can be told */
}

/* Finds the image's shared device, or attaches one. */
static int find_or_attach(const inst_run *run, img_layer *l, inst_failure *f)
{
        _cleanup_free_ loopdev_info *devs = NULL;
        const loopdev_info *dev;
        size_t n = 0;
        int r;

        /* a killed run's image mount would keep a device no overlay uses:
         * off first, so that device can go and the answers below are true */
        r = img_unmount_leftover(l);
        if (r < 0)
                return inst_fail(f, STEP_UMOUNT, r, NULL, l->mount_path, NULL);
        r = loopdev_find_backing(l->st.st_dev, l->st.st_ino, &devs, &n);
        if (r < 0)
                return inst_fail(f, STEP_LOOP, r, "looking for the loop devices of", l->image, NULL);
        r = refuse_writers(run, l, devs, n, f);
        if (r < 0)
                return r;
        dev = img_device_to_share(devs, n);
        if (!dev)
                return attach(run, l, f);
        r = loopdev_open(dev, 0);
        /* gone meanwhile (its last user left): a new one, then */
        if (r == -ENXIO || r == -ESTALE || r == -ENOENT)
                return attach(run, l, f);
        if (r < 0)
                return inst_fail(f, STEP_LOOP, r, "opening the loop device of", l->image, NULL);
        l->loop_fd = r;
        l->loop = *dev;
        return check_fresh(run, l, dev, l->loop_fd, f);
}

/* Someone's O_EXCL open of the device (a probe elsewhere, blkid -p) makes
 * the kernel refuse the mount for that instant. */
#define IMAGE_MOUNT_TRIES 5
#define IMAGE_MOUNT_PAUSE_NSEC (20 * 1000 * 1000)

static int mount_image(img_layer *l, inst_failure *f)
{
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *detail = NULL;
        int created, r;

        dir_fd = safe_mkdir_path(l->mount_path, 0, 0, 0700, &created);
        if (dir_fd < 0)
                return inst_fail(f, STEP_MKDIR, dir_fd, "image", l->mount_path, NULL);
        for (int i = 0;; i++) {
                free(TAKE_PTR(detail));
                r = image_mount(l->loop_fd, l->fstype, dir_fd, &detail);
                if (r != -EBUSY || i + 1 >= IMAGE_MOUNT_TRIES)
                        break;
                (void)nanosleep(&(struct timespec){ .tv_nsec = IMAGE_MOUNT_PAUSE_NSEC }, NULL);
        }
        if (r < 0) {
                (void)rmdir(l->mount_path);
                return inst_fail(f, STEP_IMAGE_MOUNT, r, NULL, l->image, detail);
        }
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
                /* Nothing but us uses this mount: the overlay took a clone.
                 * One still busy (a process's cwd in the moment) is left to
                 * the next run (img_tidy()), which takes it off. */
                if (layer->mounted && umount2(layer->mount_path, UMOUNT_NOFOLLOW) == 0)
                        layer->mounted = false;
                if (!layer->mounted)
                        (void)rmdir(layer->mount_path);
                if (layer->attached && !mounted && layer->loop_fd >= 0)
                        (void)loopdev_detach(layer->loop_fd);
                closep(&layer->udev_lock_fd);
                closep(&layer->loop_fd);
                img_unlock(run, layer);
        }
}
