/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image.c: see image.h. */
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "dlib.h"
#include "env.h"
#include "fallback.h"
#include "image.h"
#include "util.h"

/* libblkid's BLKID_SUBLKS_TYPE: ask for the TYPE value only (its header is
 * not needed for one constant; the library is dlopen()ed). */
#define OH_BLKID_SUBLKS_TYPE (1 << 5)

void image_key(const struct stat *st, char key[IMAGE_KEY_MAX])
{
        snprintf(key, IMAGE_KEY_MAX, "%u.%u-%llu", major(st->st_dev), minor(st->st_dev),
                 (unsigned long long)st->st_ino);
}

char *image_mount_path(const char *runtime_dir, const struct stat *st)
{
        char key[IMAGE_KEY_MAX], *path = NULL;

        image_key(st, key);
        return asprintf(&path, "%s/" IMAGE_DIR "/%s", runtime_dir, key) < 0 ? NULL : path;
}

int image_open(const char *path, struct stat *ret_st)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, ret_st) < 0)
                return negative_errno();
        if (S_ISDIR(ret_st->st_mode))
                return -EISDIR;
        if (!S_ISREG(ret_st->st_mode))
                return -EINVAL;
        return TAKE_FD(fd);
}

static bool layer_fstype(const char *type)
{
        static const char *const allowed[] = { "erofs", "squashfs", "ext4", "ext3", "ext2" };

        for (size_t i = 0; i < ELEMENTSOF(allowed); i++)
                if (streq(type, allowed[i]))
                        return true;
        return false;
}

int image_fstype(int fd, char **ret)
{
        const blkid_syms *b;
        blkid_probe pr;
        const char *type = NULL;
        int r = dlib_blkid(&b);

        *ret = NULL;
        if (r < 0)
                return r;
        pr = b->new_probe();
        if (!pr)
                return -ENOMEM;
        r = b->probe_set_device(pr, fd, 0, 0) < 0 ? -EIO : 0;
        if (r >= 0) {
                (void)b->probe_enable_superblocks(pr, 1);
                (void)b->probe_set_superblocks_flags(pr, OH_BLKID_SUBLKS_TYPE);
                /* 1: nothing found; -2: ambivalent (two signatures) */
                int found = b->do_safeprobe(pr);
                if (found == 0 && b->probe_lookup_value(pr, "TYPE", &type, NULL) == 0 && type) {
                        *ret = strdup(type);
                        r = *ret ? 0 : -ENOMEM;
                } else
                        r = found < 0 && found != -2 ? -EIO : -EMEDIUMTYPE;
        }
        b->free_probe(pr);
        if (r == 0 && !layer_fstype(*ret))
                r = -EMEDIUMTYPE;
        return r;
}

int image_open_for_write(int fd)
{
        int r;

        if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
                (void)fcntl(fd, F_SETLEASE, F_UNLCK);
                return 0;
        }
        r = negative_errno();
        if (r == -EAGAIN || r == -EBUSY)
                return 1;
        /* leases off (fs.leases-enable=0), a filesystem without them */
        if (r == -EINVAL || r == -ENOSYS || r == -EOPNOTSUPP)
                return -EOPNOTSUPP;
        return r;
}

void image_tag(const struct stat *st, char tag[64])
{
        snprintf(tag, 64, IMAGE_TAG_PREFIX "%lld.%09ld:%lld.%09ld", (long long)st->st_mtim.tv_sec,
                 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

int image_tag_fresh(const char *tag, uint64_t size, const struct stat *st, const char **ret_why)
{
        char want[64];
        size_t prefix = strlen(IMAGE_TAG_PREFIX);
        bool ours = strncmp(tag, IMAGE_TAG_PREFIX, prefix) == 0;

        *ret_why = NULL;
        /* the loop driver sees whole 512-byte sectors of the file */
        if (size != ((uint64_t)st->st_size & ~(uint64_t)511)) {
                *ret_why = "its size";
                return ours ? 0 : -ENODATA;
        }
        if (!ours)
                return -ENODATA;
        image_tag(st, want);
        if (streq(tag, want))
                return 1;
        /* "overlay-helper:MTIME:CTIME": which of the two moved */
        const char *colon = strchr(tag + prefix, ':'), *want_colon = strchr(want + prefix, ':');
        bool same_mtime = colon && (size_t)(colon - tag) == (size_t)(want_colon - want) &&
                          strncmp(tag, want, (size_t)(colon - tag)) == 0;
        *ret_why = same_mtime ? "its ctime (its contents, owner, mode or links changed, or "
                                "it was replaced in place)"
                              : "its mtime (it was written)";
        return same_mtime ? 2 : 0;
}

/* What is compared where only the ctime moved: the ends of an image hold
 * its superblocks and tables (erofs, squashfs and ext4 alike). */
#define SAME_BLOCKS_SPAN (1024 * 1024)

static int read_span(int fd, char *buf, size_t len, off_t at)
{
        size_t done = 0;

        while (done < len) {
                ssize_t n = pread(fd, buf + done, len - done, at + (off_t)done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? negative_errno() : -EIO;
                done += (size_t)n;
        }
        return 0;
}

int image_same_blocks(int image_fd, int dev_fd, uint64_t size)
{
        _cleanup_free_ char *a = malloc(SAME_BLOCKS_SPAN), *b = malloc(SAME_BLOCKS_SPAN);
        size_t span = size < SAME_BLOCKS_SPAN ? (size_t)size : SAME_BLOCKS_SPAN;
        off_t ends[2] = { 0, (off_t)(size - span) };

        if (!a || !b)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(ends); i++) {
                int r = read_span(image_fd, a, span, ends[i]);
                if (r >= 0)
                        r = read_span(dev_fd, b, span, ends[i]);
                if (r < 0)
                        return r;
                if (memcmp(a, b, span) != 0)
                        return 0;
        }
        return 1;
}

static int mount_new_api(int loop_fd, const char *fstype, int dir_fd, char **ret_detail)
{
        _cleanup_close_ int fs_fd = -EBADF, mnt_fd = -EBADF;
        char source[64];

        fs_fd = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
        if (fs_fd < 0)
                return negative_errno();
        /* by the fd we hold: the device we checked, not whatever the path
         * names by now */
        snprintf(source, sizeof source, "/proc/self/fd/%d", loop_fd);
        if (syscall(SYS_fsconfig, fs_fd, FSCONFIG_SET_STRING, "source", source, 0) < 0 ||
            syscall(SYS_fsconfig, fs_fd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
            syscall(SYS_fsconfig, fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                int r = negative_errno();
                char line[512];
                ssize_t n = read(fs_fd, line, sizeof line - 1);
                if (n > 2) {
                        line[n] = '\0';
                        line[strcspn(line, "\n")] = '\0';
                        *ret_detail = strdup(line + 2);
                }
                return r;
        }
        mnt_fd = (int)syscall(SYS_fsmount, fs_fd, FSMOUNT_CLOEXEC,
                              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
        if (mnt_fd < 0)
                return negative_errno();
        if (syscall(SYS_move_mount, mnt_fd, "", dir_fd, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

int image_mount(int loop_fd, const char *fstype, int dir_fd, char **ret_detail)
{
        char source[64], target[64];
        int r;

        *ret_detail = NULL;
        if (!env_flag(ENV_NO_NEW_MOUNT_API)) {
                r = mount_new_api(loop_fd, fstype, dir_fd, ret_detail);
                if (r != -ENOSYS && r != -EPERM)
                        return r;
                fallback_note("fsopen (image)", r);
                free(*ret_detail);
                *ret_detail = NULL;
        }
        snprintf(source, sizeof source, "/proc/self/fd/%d", loop_fd);
        snprintf(target, sizeof target, "/proc/self/fd/%d", dir_fd);
        if (mount(source, target, fstype, MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0)
                return negative_errno();
        return 0;
}
