/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_users.c: see image_users.h.
 *
 * `losetup -d` of a device something uses only marks it autoclear and
 * succeeds; the device goes at its last close, which a mount (visible or a
 * private clone inside an overlay), an open fd or a stacked device
 * postpones for ever. `fuser` sees only the fds. So: the devices from the
 * kernel's record of the image, the overlays and mounts from every
 * namespace's table, one walk over /proc for fds and (when the kernel says
 * the image has a writer) shared writable maps, sysfs for stacked
 * devices, and last the kernel's own answer, an O_EXCL open. */
#include <fcntl.h>
#include <linux/loop.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "image.h"
#include "image_users.h"
#include "lock.h"
#include "kapi.h"
#include "loopdev.h"
#include "mntns.h"
#include "overlay.h"
#include "procfs.h"
#include "strv.h"
#include "util.h"

#include "image_users_internal.h"

void image_users_done(image_users *u)
{
        strv_free(u->loop_devices);
        strv_free(u->users);
        strv_free(u->writers);
        strv_free(u->unnamed_claims);
        *u = (image_users){ 0 };
}

/* N of loopN, as sysfs names the device (its minor is N only while the
 * loop driver's max_part is 0). Returns: N, or -errno. */
static int loop_nr(dev_t devnum)
{
        char path[64], link[PATH_MAX];
        const char *base;
        ssize_t n;
        int nr;

        snprintf(path, sizeof path, "/sys/dev/block/%u:%u", major(devnum), minor(devnum));
        n = readlink(path, link, sizeof link - 1);
        if (n < 0)
                return negative_errno();
        link[n] = '\0';
        base = strrchr(link, '/');
        return sscanf(base ? base + 1 : link, "loop%d", &nr) == 1 && nr >= 0 ? nr : -ENOTBLK;
}

/* A device asked about that is not the image's: unbound (then nothing can
 * claim it for an image), bound to what we could not tell, or one we may
 * not open (then the kernel cannot be asked). */
static int lone_device(iu_scan *s, dev_t devnum)
{
        iu_dev *d = &s->devs[s->n_devs++];
        int r = loop_nr(devnum), nr = r >= 0 ? r : (int)minor(devnum);
        _cleanup_close_ int fd = -EBADF;
        char path[32];

        *d = (iu_dev){ .info = { .nr = nr, .devnum = devnum }, .asked = true };
        s->n_asked = 1;
        r = loopdev_path(nr, path, sizeof path);
        fd = r < 0 ? r : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        r = fd < 0 ? (r < 0 ? r : negative_errno()) : loopdev_info_fd(fd, &d->info);
        if (r == 0 && d->info.devnum == devnum)
                d->bound = true;
        else if (r != -ENXIO && r != -ENOENT)
                s->u->claim_error = r < 0 ? r : -ESTALE;
        d->info.nr = nr;
        d->info.devnum = devnum;
        return 0;
}

/* The image's devices; a device asked about that the kernel's record does
 * not tie to it (unbound, or no image known) is still looked at alone. */
static int find_devices(iu_scan *s)
{
        const image_users_query *q = s->q;
        loopdev_info *v = NULL;
        size_t n = 0;
        int r;

        if (q->have_image) {
                r = loopdev_find_backing(q->image_dev, q->image_ino, &v, &n);
                if (r < 0)
                        return r;
        }
        s->devs = calloc(n + 1, sizeof(iu_dev));
        if (!s->devs) {
                free(v);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                s->devs[i] = (iu_dev){ .info = v[i], .bound = true,
                                       .asked = !q->devnum || v[i].devnum == q->devnum };
        free(v);
        s->n_devs = n;
        if (q->devnum && !iu_find_dev(s, q->devnum))
                return lone_device(s, q->devnum);
        s->n_asked = q->devnum ? 1 : n;
        return 0;
}

/* "/dev/loopN" of the device the query is about, or shows. */
static void name_device(iu_scan *s)
{
        const iu_dev *d = iu_find_dev(s, s->q->devnum ? s->q->devnum : s->q->shown_devnum);

        if (d)
                snprintf(s->u->device, sizeof s->u->device, "/dev/loop%d", d->info.nr);
}

/* "/dev/loop3 ro autoclear offset=0 diskseq=9 tag='...'" */
static int describe_device(const loopdev_info *d, char ***v)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return -ENOMEM;
        fprintf(f, "/dev/loop%d %s", d->nr, d->flags & LO_FLAGS_READ_ONLY ? "ro" : "rw");
        if (d->flags & LO_FLAGS_AUTOCLEAR)
                fputs(" autoclear", f);
        if (d->flags & LO_FLAGS_PARTSCAN)
                fputs(" partscan", f);
        if (d->flags & LO_FLAGS_DIRECT_IO)
                fputs(" dio", f);
        fprintf(f, " offset=%llu", (unsigned long long)d->offset);
        if (d->sizelimit)
                fprintf(f, " sizelimit=%llu", (unsigned long long)d->sizelimit);
        if (d->diskseq)
                fprintf(f, " diskseq=%llu", (unsigned long long)d->diskseq);
        if (d->tag[0])
                fprintf(f, " tag='%s'", d->tag);
        if (fclose(f) != 0)
                return -ENOMEM;
        return strv_add(v, buf);
}

/* LOWER is the image's mount dir, or beneath it; the same image's dir
 * under another runtime dir (another --runtime-dir, /var/run for /run)
 * counts too: KEY is the image's (device, inode), never a path. */
static bool on_image_dir(const iu_scan *s, const char *lower)
{
        size_t len = strlen(s->tail), dir_len = s->image_dir ? strlen(s->image_dir) : 0;

        if (s->image_dir && strncmp(lower, s->image_dir, dir_len) == 0 &&
            (lower[dir_len] == '\0' || lower[dir_len] == '/'))
                return true;
        for (const char *p = strstr(lower, s->tail); p; p = strstr(p + 1, s->tail))
                if (p[len] == '\0' || p[len] == '/')
                        return true;
        return false;
}

static bool takes_image(const iu_scan *s, const ns_mount *m)
{
        overlay_layers l = { 0 };
        bool found = false;

        if (!s->q->have_image || !streq(m->fstype, "overlay") ||
            overlay_layers_parse(m->fs_options, &l) < 0)
                return false;
        for (size_t i = 0; !found && i < l.n_lowers; i++)
                found = on_image_dir(s, l.lowers[i]);
        overlay_layers_done(&l);
        return found;
}

static bool keep_mount(const ns_mount *m, void *userdata)
{
        const iu_scan *s = userdata;

        return iu_find_dev(s, m->devnum) || takes_image(s, m);
}

static bool wants_sb(dev_t devnum, uint64_t magic, void *userdata)
{
        return magic == OH_OVERLAYFS_SUPER_MAGIC || iu_find_dev(userdata, devnum);
}

static mount_place place(_unused_ const char *mountpoint, _unused_ void *userdata)
{
        return MOUNT_PLACE_APART; /* by superblock alone: nothing is kept for where it is */
}

static int mount_found(iu_scan *s, const mnt_namespace *ns, const ns_mount *m)
{
        iu_dev *d = iu_find_dev(s, m->devnum);

        if (!d) {
                s->overlay_found = true;
                /* statmount() before 6.13 has no source to show */
                return iu_add_fmt(&s->u->users, "overlay%s%s on %s in mnt:[%llu]",
                                  strempty(m->source) ? "" : " ", strempty(m->source) ? "" : m->source,
                                  m->mountpoint, (unsigned long long)ns->ns_ino);
        }
        d->explained = true;
        /* the caller's own copies; and a device not asked about holds nothing asked */
        if (!d->asked || m->devnum == s->q->shown_devnum)
                return 0;
        return iu_add_fmt(&s->u->users, "/dev/loop%d mounted on %s in mnt:[%llu]", d->info.nr,
                       m->mountpoint, (unsigned long long)ns->ns_ino);
}

static int scan_mounts(iu_scan *s)
{
        static const mount_prefilter pre = { .wants_sb = wants_sb, .place = place };
        _cleanup_(mntns_set_done) mntns_set set = { 0 };
        int r = mntns_scan_prefiltered(keep_mount, &pre, s, 0, &set);

        if (r < 0)
                return r;
        s->u->n_unreadable += set.n_unreadable;
        s->u->n_ns_unreadable = set.n_unreadable;
        for (size_t i = 0; r >= 0 && i < set.n_ns; i++)
                for (size_t j = 0; r >= 0 && j < set.ns[i].n_mounts; j++)
                        r = mount_found(s, &set.ns[i], &set.ns[i].mounts[j]);
        return r;
}

/* "dm-0 (NAME)" for a device-mapper device: the name dmsetup takes. */
static int stacked(iu_scan *s, iu_dev *d, const char *by)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[PATH_MAX], name[256] = "";

        snprintf(path, sizeof path, "/sys/block/%s/dm/name", by);
        f = fopen(path, "re");
        if (f && fgets(name, sizeof name, f))
                name[strcspn(name, "\n")] = '\0';
        d->explained = true;
        return iu_add_fmt(&s->u->users, "stacked device %s%s%s%s on /dev/loop%d", by,
                       *name ? " (" : "", name, *name ? ")" : "", d->info.nr);
}

static int scan_stacked(iu_scan *s)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < s->n_devs; i++) {
                char **names = NULL;

                if (!s->devs[i].asked)
                        continue;
                r = loopdev_sysfs_holders(s->devs[i].info.nr, &names);
                if (r == -ENOENT) {
                        r = 0; /* gone meanwhile */
                        continue;
                }
                if (r < 0) {
                        r = iu_unreadable(s, r); /* -ENOMEM stops the loop */
                        continue;
                }
                for (char **n = names; r >= 0 && n && *n; n++)
                        r = stacked(s, &s->devs[i], *n);
                strv_free(names);
        }
        return r;
}

/* The kernel's word, last, for a device nothing found claims: a mount of
 * it (in any namespace), a stacked device, or an overlay on the image
 * when it has only this device. The O_EXCL open that asks makes a mount
 * of the device made at that instant fail (EBUSY), so it is not made
 * where the answer is known. A claim nothing explains is named. */
static int ask_claims_locked(iu_scan *s);

/* Asked while a helper run sets the image up, the O_EXCL open would make
 * its mount of the device fail: take the image's lock (never waiting) as
 * such a run does, and leave the question unanswered while it is held. */
static int ask_claims(iu_scan *s)
{
        const image_users_query *q = s->q;
        char key[IMAGE_KEY_MAX], name[IMAGE_KEY_MAX + 16];
        struct stat st = { 0 };
        pid_t holder_pid = 0;
        int fd, r;

        if (q->lock_held || !q->runtime_dir || !q->have_image)
                return ask_claims_locked(s);
        st.st_dev = q->image_dev;
        st.st_ino = q->image_ino;
        image_key(&st, key);
        snprintf(name, sizeof name, ".image-%s", key);
        fd = lock_instance(q->runtime_dir, name, 0, &holder_pid);
        if (fd == -EBUSY) {
                s->u->claim_error = -EAGAIN;
                return 0;
        }
        /* no runtime dir (no run ever made one), or not ours to write:
         * then no run of ours is setting the image up */
        r = ask_claims_locked(s);
        if (fd >= 0)
                lock_release(fd, q->runtime_dir, name, true);
        return r;
}

static int ask_claims_locked(iu_scan *s)
{
        image_users *u = s->u;
        bool asked_any = false;
        size_t n_bound = 0;

        for (size_t i = 0; i < s->n_devs; i++)
                n_bound += s->devs[i].bound;
        for (size_t i = 0; i < s->n_devs; i++) {
                const iu_dev *d = &s->devs[i];
                int r;

                if (!d->asked || !d->bound)
                        continue;
                r = d->explained || (s->overlay_found && n_bound == 1) ? 1
                                                                       : loopdev_claimed(&d->info);
                if (r == -ESTALE || r == -ENXIO)
                        continue; /* detached (or recycled): nobody claims it for the image */
                if (r < 0) {
                        u->claim_error = u->claim_error ? u->claim_error : r;
                        continue;
                }
                asked_any = true;
                u->claimed |= r > 0;
                if (r > 0 && !d->explained && !s->overlay_found &&
                    iu_add_fmt(&u->unnamed_claims, "/dev/loop%d", d->info.nr) < 0)
                        return -ENOMEM;
        }
        u->claim_asked = asked_any && !u->claim_error;
        return 0;
}

/* A read lease tells at once whether anyone at all writes the image; only
 * then are fdinfo and maps read. Returns: 1 yes, 0 no, -1 not known. */
static int kernel_writer(const image_users_query *q)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (!q->have_image)
                return 0;
        if (!q->image_path)
                return -1;
        fd = image_open(q->image_path, &st);
        if (fd < 0 || st.st_dev != q->image_dev || st.st_ino != q->image_ino)
                return -1; /* renamed, replaced: the walk must tell */
        r = image_open_for_write(fd);
        return r < 0 ? -1 : r;
}

static bool any_rw(const iu_scan *s)
{
        for (size_t i = 0; i < s->n_devs; i++)
                if (s->devs[i].bound && !(s->devs[i].info.flags & LO_FLAGS_READ_ONLY))
                        return true;
        return false;
}

static int scan(iu_scan *s)
{
        const image_users_query *q = s->q;
        int r = find_devices(s), writer;

        if (r < 0)
                return r;
        name_device(s);
        for (size_t i = 0; r >= 0 && i < s->n_devs; i++)
                if (s->devs[i].bound)
                        r = describe_device(&s->devs[i].info, &s->u->loop_devices);
        if (r >= 0 && q->have_image) {
                struct stat st = { .st_dev = q->image_dev, .st_ino = q->image_ino };
                char key[IMAGE_KEY_MAX];

                image_key(&st, key);
                snprintf(s->tail, sizeof s->tail, "/" IMAGE_DIR "/%s", key);
                if (q->runtime_dir && !(s->image_dir = image_mount_path(q->runtime_dir, &st)))
                        r = -ENOMEM;
        }
        /* with no device bound nothing can hold one: only writers are left */
        if (r >= 0 && s->n_devs > 0)
                r = scan_mounts(s);
        writer = kernel_writer(q);
        s->want_writers = writer != 0;
        if (r >= 0 && (s->n_asked > 0 || s->want_writers))
                r = iu_scan_processes(s);
        if (r >= 0)
                r = scan_stacked(s);
        if (r >= 0)
                r = ask_claims(s);
        /* a device attached read-write is a writer the kernel counts */
        s->u->writer_unnamed = writer == 1 && !s->u->writers && !any_rw(s);
        return r;
}

int image_users_scan(const image_users_query *q, image_users *ret)
{
        image_users u = { 0 };
        iu_scan s = { .q = q, .u = &u, .self = getpid() };
        int r = scan(&s);

        free(s.devs);
        free(s.image_dir);
        if (r < 0) {
                image_users_done(&u);
                return r;
        }
        *ret = u;
        return 0;
}

int image_users_probe(const probe_target *t, const char *runtime_dir, bool lock_held,
                      probe_result *r)
{
        image_users_query q = {
                .have_image = t->have_image_id, .image_dev = t->image_dev,
                .image_ino = t->image_ino, .image_path = t->image_path,
                .devnum = t->by_device ? t->devnum : 0, .shown_devnum = t->devnum,
                .runtime_dir = runtime_dir, .lock_held = lock_held,
        };
        image_users u;
        int k;

        if (!t->image)
                return 0;
        k = image_users_scan(&q, &u);
        if (k < 0)
                return k;
        r->loop_devices = TAKE_PTR(u.loop_devices);
        r->dev_users = TAKE_PTR(u.users);
        r->writers = TAKE_PTR(u.writers);
        r->unnamed_claims = TAKE_PTR(u.unnamed_claims);
        r->dev_claim_asked = u.claim_asked;
        r->dev_claimed = u.claimed;
        r->dev_claim_error = u.claim_error;
        r->writer_unnamed = u.writer_unnamed;
        memcpy(r->device, u.device, sizeof r->device);
        /* the namespaces were counted by the probe's own scan already */
        r->n_unreadable += u.n_unreadable - u.n_ns_unreadable;
        image_users_done(&u);
        return 0;
}
