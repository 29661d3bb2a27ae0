/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* state.c: see state.h. */
#include <dirent.h>
#include <fcntl.h>

#include "state.h"
#include "strv.h"
#include "util.h"

#define MOUNT_RECORD_SUFFIX ".mounted"

static char *record_path(const char *runtime_dir, const char *instance)
{
        char *path = NULL;
        return asprintf(&path, "%s/%s" MOUNT_RECORD_SUFFIX, runtime_dir, instance) < 0 ? NULL : path;
}

int state_mount_read(const char *runtime_dir, const char *instance, uint64_t *ret_mnt_id)
{
        _cleanup_free_ char *path = record_path(runtime_dir, instance);
        _cleanup_close_ int fd = -EBADF;
        char buf[32];
        ssize_t n;
        unsigned long long id;
        char *end;

        if (!path)
                return -ENOMEM;
        /* O_NONBLOCK: a FIFO planted in the runtime dir must not hang us */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -ENOENT;
        n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return -ENOENT;
        buf[n] = '\0';
        errno = 0;
        id = strtoull(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n') || id == 0)
                return -ENOENT;
        *ret_mnt_id = id;
        return 0;
}

int state_mount_write(const char *runtime_dir, const char *instance, uint64_t mnt_id)
{
        _cleanup_free_ char *path = record_path(runtime_dir, instance), *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        char line[32];
        int len, r = 0;

        if (!path || asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)mnt_id);
        errno = EIO; /* what a short write() means */
        if (write(fd, line, (size_t)len) != len || rename(tmp, path) < 0) {
                r = errno ? negative_errno() : -EIO;
                (void)unlink(tmp);
        }
        return r;
}

void state_mount_remove(const char *runtime_dir, const char *instance)
{
        _cleanup_free_ char *path = record_path(runtime_dir, instance);
        if (path)
                (void)unlink(path);
}

int state_list(const char *runtime_dir, char ***ret)
{
        _cleanup_(closedirp) DIR *dir = opendir(runtime_dir);
        char **names = NULL;
        struct dirent *de;
        const size_t suffix = strlen(MOUNT_RECORD_SUFFIX);

        if (!dir) {
                if (errno != ENOENT)
                        return negative_errno();
                return strv_new_empty(ret);
        }
        while ((de = readdir(dir))) {
                size_t len = strlen(de->d_name);
                if (len <= suffix || !streq(de->d_name + len - suffix, MOUNT_RECORD_SUFFIX))
                        continue;
                if (strv_add_len(&names, de->d_name, len - suffix) < 0) {
                        strv_free(names);
                        return -ENOMEM;
                }
        }
        if (!names)
                return strv_new_empty(ret);
        *ret = names;
        return 0;
}
