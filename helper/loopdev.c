/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loopdev.c: see loopdev.h. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "loopdev.h"
#include "strv.h"
#include "util.h"

#ifndef BLKGETDISKSEQ
#define BLKGETDISKSEQ _IOR(0x12, 128, __u64)
#endif

#define ATTACH_ATTEMPTS 64
#define BACKOFF_MIN_USEC 1000
#define BACKOFF_SPREAD_USEC 48000 /* the last attempts wait up to 49 ms */
#define WANT_FLAGS (LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR)

int loopdev_path(int nr, char *buf, size_t size)
{
        int n;

        if (nr < 0)
                return -EINVAL;
        n = snprintf(buf, size, "/dev/loop%d", nr);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* lo_device is the kernel's huge_encode_dev() of the backing file's device,
 * the encoding stat(2) gives userspace: minor bits 0-7 at 0-7 and 8-19 at
 * 20-31, the (12-bit) major at 8-19. Decoded and put together again with
 * makedev() it compares with st_dev whatever layout libc's dev_t has. */
static dev_t decode_dev(uint64_t v)
{
        unsigned maj = (v >> 8) & 0xfff, min = (v & 0xff) | ((v >> 12) & 0xfff00);

        return makedev(maj, min);
}

int loopdev_info_fd(int fd, loopdev_info *ret)
{
        struct loop_info64 li = {};
        loopdev_info info = {};
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        /* The diskseq first: should the device be rebound meanwhile, an old
         * diskseq beside the new backing file makes the record look stale
         * (safe); the other order would vouch for the new attachment. */
        if (ioctl(fd, BLKGETDISKSEQ, &info.diskseq) < 0) {
                if (errno != ENOTTY && errno != EINVAL)
                        return negative_errno();
                info.diskseq = 0; /* before 5.15 */
        }
        if (ioctl(fd, LOOP_GET_STATUS64, &li) < 0)
                return negative_errno(); /* ENXIO: not bound */
        if (ioctl(fd, BLKGETSIZE64, &info.size) < 0)
                return negative_errno();
        info.nr = (int)li.lo_number;
        info.devnum = st.st_rdev;
        info.backing_dev = decode_dev(li.lo_device);
        info.backing_ino = (ino_t)li.lo_inode;
        info.offset = li.lo_offset;
        info.sizelimit = li.lo_sizelimit;
        info.flags = li.lo_flags;
        memcpy(info.tag, li.lo_file_name, LO_NAME_SIZE - 1);
        info.tag[LO_NAME_SIZE - 1] = '\0';
        *ret = info;
        return 0;
}

static int open_nr(int nr, int flags)
{
        char path[32];
        int fd, r = loopdev_path(nr, path, sizeof path);

        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | flags);
        return fd < 0 ? negative_errno() : fd;
}

/* "gone": no device with that number any more, or not bound */
static int gone_as_enxio(int r)
{
        return r == -ENOENT || r == -ENODEV ? -ENXIO : r;
}

/* Whether FD is still INFO's attachment. Returns: 0, -ESTALE, -ENXIO, -errno. */
static int same_attachment(int fd, const loopdev_info *info)
{
        loopdev_info now;
        int r = loopdev_info_fd(fd, &now);

        if (r < 0)
                return gone_as_enxio(r);
        if (now.nr != info->nr)
                return -ESTALE; /* /dev/loopN is not loop N: a stale node */
        if (info->diskseq != 0)
                return now.diskseq == info->diskseq ? 0 : -ESTALE;
        return now.backing_dev == info->backing_dev && now.backing_ino == info->backing_ino &&
                               now.offset == info->offset && now.sizelimit == info->sizelimit
                       ? 0
                       : -ESTALE;
}

int loopdev_open(const loopdev_info *info, int extra_flags)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (extra_flags & O_ACCMODE)
                return -EINVAL;
        fd = open_nr(info->nr, extra_flags);
        if (fd == -EBUSY && (extra_flags & O_EXCL)) {
                /* claimed: by INFO's attachment, or is the number another's now? */
                fd = open_nr(info->nr, extra_flags & ~O_EXCL);
                r = fd < 0 ? gone_as_enxio(fd) : same_attachment(fd, info);
                return r < 0 ? r : -EBUSY;
        }
        if (fd < 0)
                return gone_as_enxio(fd);
        r = same_attachment(fd, info);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int loopdev_claimed(const loopdev_info *info)
{
        /* The close may be the last one of an autoclear device and detach
         * it: nobody claimed it, so nobody loses it. */
        _cleanup_close_ int fd = loopdev_open(info, O_EXCL | O_NONBLOCK);

        if (fd == -EBUSY)
                return 1;
        return fd < 0 ? fd : 0;
}

static int add_info(loopdev_info **v, size_t *n, const loopdev_info *info)
{
        loopdev_info *nv = realloc(*v, (*n + 1) * sizeof(loopdev_info));

        if (!nv)
                return -ENOMEM;
        nv[(*n)++] = *info;
        *v = nv;
        return 0;
}

/* Reads loop NR (named in sysfs) into *RET. Returns: 1 read, 0 not bound or
 * gone meanwhile, -errno. */
static int read_bound(int nr, loopdev_info *ret)
{
        _cleanup_close_ int fd = -EBADF;
        char path[64];
        int r;

        /* sysfs has loopN/loop/ while N is bound: skip the rest unopened */
        snprintf(path, sizeof path, "/sys/block/loop%d/loop", nr);
        if (access(path, F_OK) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        fd = open_nr(nr, O_NONBLOCK);
        if (fd == -ENOENT || fd == -ENXIO || fd == -ENODEV)
                return 0;
        if (fd < 0)
                return fd;
        r = loopdev_info_fd(fd, ret);
        /* a device whose backing file the kernel cannot stat any more (a
         * dead NFS or FUSE mount: ESTALE, ENOTCONN) is no image of ours,
         * and must not hide every other device */
        if (r == -ENXIO || (r < 0 && r != -ENOMEM && r != -EACCES && r != -EPERM))
                return 0;
        if (r < 0)
                return r;
        return ret->nr == nr; /* else /dev/loopN is a stale node */
}

static int parse_loop_name(const char *name)
{
        char *end;
        long nr;

        if (strncmp(name, "loop", 4) != 0 || name[4] < '0' || name[4] > '9')
                return -EINVAL;
        errno = 0;
        nr = strtol(name + 4, &end, 10);
        return *end || errno || nr > INT32_MAX ? -EINVAL : (int)nr;
}

int loopdev_find_backing(dev_t dev, ino_t ino, loopdev_info **ret, size_t *n)
{
        _cleanup_(closedirp) DIR *dir = opendir("/sys/block");
        _cleanup_free_ loopdev_info *found = NULL;
        size_t n_found = 0;
        struct dirent *de;
        int r = 0;

        if (!dir)
                return negative_errno();
        for (errno = 0; r >= 0 && (de = readdir(dir)); errno = 0) {
                loopdev_info info;
                int nr = parse_loop_name(de->d_name);

                if (nr < 0)
                        continue;
                r = read_bound(nr, &info);
                if (r > 0 && info.backing_dev == dev && info.backing_ino == ino)
                        r = add_info(&found, &n_found, &info);
        }
        if (r >= 0 && errno != 0)
                r = negative_errno();
        if (r < 0)
                return r;
        *ret = TAKE_PTR(found);
        *n = n_found;
        return 0;
}

/* Partition numbers are in each partition's sysfs dir (the only subdirs
 * of the disk with a "partition" file). */
static int delete_partitions(int fd)
{
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *de;
        struct stat st;
        char path[64];
        int r = 0;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        snprintf(path, sizeof path, "/sys/dev/block/%u:%u", major(st.st_rdev), minor(st.st_rdev));
        dir = opendir(path);
        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(dir))) {
                struct blkpg_partition part = {};
                struct blkpg_ioctl_arg arg = {
                        .op = BLKPG_DEL_PARTITION, .datalen = sizeof part, .data = &part
                };
                _cleanup_close_ int attr_fd = -EBADF;
                char attr[sizeof de->d_name + 16], num[16] = "";

                if (de->d_name[0] == '.')
                        continue;
                snprintf(attr, sizeof attr, "%s/partition", de->d_name);
                attr_fd = openat(dirfd(dir), attr, O_RDONLY | O_CLOEXEC);
                if (attr_fd < 0 || read(attr_fd, num, sizeof num - 1) <= 0 ||
                    (part.pno = atoi(num)) <= 0)
                        continue;
                if (ioctl(fd, BLKPG, &arg) < 0 && errno != ENXIO && r == 0)
                        r = negative_errno();
        }
        return r;
}

int loopdev_detach(int fd)
{
        int r;

        /* read-only: nothing of ours to lose if the sync fails */
        (void) fsync(fd);
        r = delete_partitions(fd);
        if (ioctl(fd, LOOP_CLR_FD) < 0)
                return negative_errno();
        return r;
}

int loopdev_sysfs_holders(int nr, char ***ret)
{
        _cleanup_(closedirp) DIR *dir = NULL;
        char **names = NULL;
        struct dirent *de;
        char path[64];
        int r = 0;

        if (nr < 0)
                return -EINVAL;
        snprintf(path, sizeof path, "/sys/block/loop%d/holders", nr);
        dir = opendir(path);
        if (!dir)
                return negative_errno();
        for (errno = 0; r >= 0 && (de = readdir(dir)); errno = 0)
                if (de->d_name[0] != '.')
                        r = strv_add(&names, de->d_name);
        if (r >= 0 && errno != 0)
                r = negative_errno();
        if (r < 0) {
                strv_free(names);
                return r;
        }
        if (names)
                strv_sort_unique(names);
        *ret = names;
        return 0;
}

/* What every attempt of one attach shares. */
typedef struct attach_ctx {
        struct stat image;
        struct loop_config config;
        bool configure_broken; /* LOOP_CONFIGURE missing, or not doing what it says */
} attach_ctx;

/* The loop driver scans partitions of every device it binds when loaded
 * with max_part > 0, whatever the flags asked for. */
static bool partscan_forced(void)
{
        _cleanup_fclose_ FILE *f = fopen("/sys/module/loop/parameters/max_part", "re");
        int max_part = 0;

        return f && fscanf(f, "%d", &max_part) == 1 && max_part > 0;
}

/* Whether the device bound at FD is the one asked for, read into *RET.
 * Returns: 0 yes, 1 no (or not bound at all), -errno. */
static int check_bound(const attach_ctx *c, int fd, loopdev_info *ret)
{
        int r = loopdev_info_fd(fd, ret);

        if (r < 0)
                return r == -ENXIO ? 1 : r;
        /* the kernel sizes a loop device in whole 512-byte sectors */
        if (ret->size != ((uint64_t)c->image.st_size & ~UINT64_C(511)))
                return 1;
        if ((ret->flags & WANT_FLAGS) != WANT_FLAGS ||
            ((ret->flags & LO_FLAGS_PARTSCAN) && !partscan_forced()))
                return 1;
        return ret->offset == 0 && ret->sizelimit == 0 && ret->backing_dev == c->image.st_dev &&
                               ret->backing_ino == c->image.st_ino
                       ? 0
                       : 1;
}

/* LOOP_CONFIGURE, checked. Returns: 0 bound as asked; -EOPNOTSUPP when the
 * kernel has none (nothing bound); -EPROTO when it did not do what it said
 * (cleared again, but only at the last close: take another device); -EBUSY
 * when another process took the device first; -errno. */
static int bind_configure(const attach_ctx *c, int fd, loopdev_info *ret)
{
        int r;

        if (ioctl(fd, LOOP_CONFIGURE, &c->config) < 0)
                return errno == EINVAL || errno == ENOTTY || errno == ENOSYS ? -EOPNOTSUPP
                                                                              : negative_errno();
        r = check_bound(c, fd, ret);
        if (r == 0)
                return 0;
        (void) loopdev_detach(fd);
        return r > 0 ? -EPROTO : r;
}

/* The old way, for kernels before 5.8: LOOP_SET_FD, then the flags and tag.
 * In between the device is bound without autoclear, so a crash there leaks
 * it; LOOP_CONFIGURE has no such window. */
static int bind_set_fd(const attach_ctx *c, int fd, loopdev_info *ret)
{
        struct loop_info64 info = c->config.info;
        int r;

        if (ioctl(fd, LOOP_SET_FD, c->config.fd) < 0)
                return negative_errno();
        /* READ_ONLY comes from our read-only fds, not from SET_STATUS64 */
        info.lo_flags &= LOOP_SET_STATUS_SETTABLE_FLAGS;
        for (unsigned attempt = 1;; attempt++) {
                if (ioctl(fd, LOOP_SET_STATUS64, &info) >= 0)
                        break;
                /* EAGAIN: the device's page cache was still being
                 * dropped after the change (loop_set_status) */
                if (errno != EAGAIN || attempt >= ATTACH_ATTEMPTS) {
                        r = negative_errno();
                        (void) loopdev_detach(fd);
                        return r;
                }
                usleep(10000);
        }
        r = check_bound(c, fd, ret);
        if (r != 0)
                (void) loopdev_detach(fd);
        return r > 0 ? -EIO : r;
}

/* Binds the image to FD and reads the result into *RET. */
static int bind_image(attach_ctx *c, int fd, loopdev_info *ret)
{
        int r;

        if (!c->configure_broken) {
                r = bind_configure(c, fd, ret);
                if (r != -EOPNOTSUPP && r != -EPROTO)
                        return r;
                c->configure_broken = true;
                if (r == -EPROTO)
                        return -EBUSY; /* this one is spoilt until it is cleared */
        }
        return bind_set_fd(c, fd, ret);
}

/* A second fd on the device, locked: udev leaves a device alone while
 * someone holds LOCK_EX on it. On its own fd the lock ends with the setup
 * (the caller closes it once it has mounted the device), while the I/O fd
 * stays open as long as the device is in use. */
static int lock_device(int fd, int nr)
{
        _cleanup_close_ int lock_fd = open_nr(nr, O_NONBLOCK);
        struct stat a, b;

        if (lock_fd < 0)
                return lock_fd;
        if (fstat(fd, &a) < 0 || fstat(lock_fd, &b) < 0)
                return negative_errno();
        if (a.st_rdev != b.st_rdev)
                return -EBUSY; /* the node changed under us: take another */
        /* never wait: a device someone is setting up is theirs */
        if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : negative_errno();
        return TAKE_FD(lock_fd);
}

static int attach_nr(attach_ctx *c, int nr, loopdev_info *ret, int *ret_lock_fd)
{
        _cleanup_close_ int fd = -EBADF, lock_fd = -EBADF;
        loopdev_info info;
        int r;

        fd = open_nr(nr, 0);
        if (fd < 0)
                return fd;
        lock_fd = lock_device(fd, nr);
        if (lock_fd < 0)
                return lock_fd;
        r = bind_image(c, fd, &info);
        if (r < 0)
                return r;
        *ret = info;
        *ret_lock_fd = TAKE_FD(lock_fd);
        return TAKE_FD(fd);
}

/* Random, so that racing attachers part; growing, so that a crowd thins. */
static void backoff(unsigned attempt)
{
        uint32_t rnd;

        if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                rnd = (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 16);
        }
        usleep(rnd % (BACKOFF_MIN_USEC + BACKOFF_SPREAD_USEC * attempt / ATTACH_ATTEMPTS));
}

static int attach_prepare(int image_fd, const char *tag, attach_ctx *ret)
{
        attach_ctx c = {};
        int flags;

        if (fstat(image_fd, &c.image) < 0)
                return negative_errno();
        /* the device keeps this very open file: a writable one would make
         * the loop device a writer of the image */
        flags = fcntl(image_fd, F_GETFL);
        if (flags < 0)
                return negative_errno();
        if (!S_ISREG(c.image.st_mode) || (flags & O_ACCMODE) != O_RDONLY)
                return -EINVAL;
        c.config.fd = (uint32_t)image_fd;
        c.config.info.lo_flags = WANT_FLAGS;
        if (tag)
                memcpy(c.config.info.lo_file_name, tag, strnlen(tag, LO_NAME_SIZE - 1));
        *ret = c;
        return 0;
}

int loopdev_attach(int image_fd, const char *tag, loopdev_info *ret, int *ret_lock_fd)
{
        _cleanup_close_ int control = -EBADF;
        attach_ctx c;
        int r = attach_prepare(image_fd, tag, &c);

        if (r < 0)
                return r;
        control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (control < 0)
                return negative_errno();
        for (unsigned attempt = 1;; attempt++) {
                int nr = ioctl(control, LOOP_CTL_GET_FREE);

                if (nr < 0)
                        return negative_errno();
                r = attach_nr(&c, nr, ret, ret_lock_fd);
                if (r >= 0)
                        return r;
                /* taken first, or removed (LOOP_CTL_REMOVE) since we got it */
                if (r != -EBUSY && r != -ENXIO && r != -ENODEV)
                        return r;
                if (attempt >= ATTACH_ATTEMPTS)
                        return -EBUSY;
                backoff(attempt);
        }
}
