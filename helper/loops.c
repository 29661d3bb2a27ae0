/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loops.c: see loops.h. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kapi.h"
#include "loops.h"
#include "strv.h"
#include "util.h"

#define DELETED_SUFFIX " (deleted)"

/* sysfs shows the backing file's path as the kernel's d_path() gives it. */
static int read_backing(const char *name, char *buf, size_t size)
{
        char path[320];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        snprintf(path, sizeof path, "/sys/block/%s/loop/backing_file", name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno(); /* ENOENT: not attached */
        n = read(fd, buf, size - 1);
        if (n <= 0)
                return n < 0 ? negative_errno() : -ENOENT;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

/* The kernel's own record of the backing file: its device and inode. */
static bool backing_dev(const char *name, dev_t *ret)
{
        char path[320];
        struct loop_info64 info = { 0 }; /* valgrind does not know the ioctl fills it */
        _cleanup_close_ int fd = -EBADF;

        snprintf(path, sizeof path, "/dev/%s", name);
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
                return false;
        /* the kernel encodes it as glibc's dev_t does (huge_encode_dev) */
        *ret = (dev_t)info.lo_device;
        return true;
}

static bool backing_mount(const char *file, bool unique, uint64_t *ret)
{
        struct statx stx;
        unsigned mask = unique ? STATX_MNT_ID_UNIQUE : STATX_MNT_ID;

        if (statx(AT_FDCWD, file, AT_NO_AUTOMOUNT, mask, &stx) < 0 || !(stx.stx_mask & mask))
                return false;
        *ret = stx.stx_mnt_id;
        return true;
}

void loops_done(loop_set *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].name);
                free(s->v[i].file);
        }
        free(s->v);
        *s = (loop_set){ 0 };
}

static int add_loop(loop_set *s, const char *name, char *file, bool unique)
{
        loop_dev *nv = realloc(s->v, (s->n + 1) * sizeof(loop_dev));
        loop_dev *l;
        size_t len = strlen(file);

        if (!nv)
                return -ENOMEM;
        s->v = nv;
        l = &s->v[s->n];
        /* a backing file deleted since still pins its filesystem */
        if (len > strlen(DELETED_SUFFIX) && streq(file + len - strlen(DELETED_SUFFIX), DELETED_SUFFIX))
                file[len - strlen(DELETED_SUFFIX)] = '\0';
        *l = (loop_dev){ .name = strdup(name), .file = strdup(file) };
        if (!l->name || !l->file) {
                free(l->name);
                free(l->file);
                return -ENOMEM;
        }
        l->has_dev = backing_dev(name, &l->dev);
        l->has_mnt_id = backing_mount(file, unique, &l->mnt_id);
        s->n++;
        return 0;
}

int loops_read(bool unique, loop_set *ret)
{
        _cleanup_(closedirp) DIR *dir = opendir("/sys/block");
        loop_set s = { 0 };
        struct dirent *de;
        int r = 0;

        *ret = s;
        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        while (r >= 0 && (de = readdir(dir))) {
                char file[4096];
                if (strncmp(de->d_name, "loop", 4) != 0 || read_backing(de->d_name, file, sizeof file) < 0)
                        continue; /* not attached, or detached meanwhile */
                r = add_loop(&s, de->d_name, file, unique);
        }
        if (r < 0) {
                loops_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

static bool holds(const loop_dev *l, dev_t devnum, const uint64_t *ids, size_t n_ids)
{
        if (devnum && l->has_dev && l->dev == devnum)
                return true;
        for (size_t i = 0; l->has_mnt_id && i < n_ids; i++)
                if (ids[i] == l->mnt_id)
                        return true;
        return false;
}

int loops_holding(const loop_set *s, dev_t devnum, const uint64_t *mnt_ids, size_t n_mnt_ids,
                  char ***ret)
{
        char **found = NULL;
        int r = 0;

        *ret = NULL;
        for (size_t i = 0; r >= 0 && i < s->n; i++) {
                char *line = NULL;
                if (!holds(&s->v[i], devnum, mnt_ids, n_mnt_ids))
                        continue;
                if (asprintf(&line, "/dev/%s (backing %s)", s->v[i].name, s->v[i].file) < 0)
                        r = -ENOMEM;
                else
                        r = strv_add(&found, line);
                free(line);
        }
        if (r < 0) {
                strv_free(found);
                return r;
        }
        *ret = found;
        return 0;
}
