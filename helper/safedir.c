/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* safedir.c: see safedir.h. */
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "safedir.h"
#include "util.h"

#define OPEN_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static bool dot_or_dotdot(const char *name)
{
        return streq(name, ".") || streq(name, "..");
}

/* Splits absolute PATH into parent and last component, dropping trailing
 * slashes: with "link/" the kernel follows link despite O_NOFOLLOW. "/" is
 * "/" and ".", which opens it like any other dir. */
static int split_path(const char *path, char **ret_parent, char **ret_last)
{
        _cleanup_free_ char *copy = NULL;
        char *slash, *last;
        size_t len;

        if (!path || path[0] != '/')
                return -EINVAL;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        for (len = strlen(copy); len > 1 && copy[len - 1] == '/'; len--)
                copy[len - 1] = '\0';
        slash = strrchr(copy, '/');
        if (dot_or_dotdot(slash + 1))
                return -EINVAL;
        last = strdup(slash[1] ? slash + 1 : ".");
        if (!last)
                return -ENOMEM;
        slash[slash == copy] = '\0';  /* keep the "/" of a top-level parent */
        *ret_parent = TAKE_PTR(copy);
        *ret_last = last;
        return 0;
}

/* O_NOFOLLOW|O_DIRECTORY reports a symlink as ENOTDIR; tell the two apart. */
static int open_final(int parent_fd, const char *name)
{
        struct stat st;
        int fd = openat(parent_fd, name, OPEN_DIR_FLAGS);

        if (fd >= 0)
                return fd;
        if (errno == ENOTDIR && fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
            S_ISLNK(st.st_mode))
                return -ELOOP;
        return -errno;
}

int safe_open_dir(const char *path)
{
        _cleanup_free_ char *parent = NULL, *last = NULL;
        _cleanup_close_ int parent_fd = -EBADF;
        int r;

        r = split_path(path, &parent, &last);
        if (r < 0)
                return r;
        parent_fd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return -errno;
        return open_final(parent_fd, last);
}

/* mkdir -p PATH, following symlinks in it: they are the admin's (/var/run ->
 * /run). Returns: an O_PATH fd of PATH, or -errno. */
static int open_parents(const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        char *comp, *save = NULL;

        if (!copy)
                return -ENOMEM;
        if (fd < 0)
                return -errno;
        for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
                bool made = mkdirat(fd, comp, 0755) >= 0;
                int child;

                if (!made && errno != EEXIST)
                        return -errno;
                child = openat(fd, comp, (made ? O_RDONLY | O_NOFOLLOW : O_PATH) |
                                         O_DIRECTORY | O_CLOEXEC);
                if (child < 0)
                        return -errno;
                closep(&fd);
                fd = child;
                /* mkdir's mode went through the umask; the contract says 0755 */
                if (made && fchmod(fd, 0755) < 0)
                        return -errno;
        }
        return TAKE_FD(fd);
}

/* Makes NAME in PARENT_FD as UID:GID MODE. Returns: its fd, or -errno
 * (-EEXIST if something is there). */
static int make_final(int parent_fd, const char *name, uid_t uid, gid_t gid, mode_t mode)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* 0700 until chown and chmod are done: the dir is never open to
         * others while it has the wrong owner. */
        if (mkdirat(parent_fd, name, 0700) < 0)
                return -errno;
        fd = openat(parent_fd, name, OPEN_DIR_FLAGS);
        if (fd >= 0 && fchown(fd, uid, gid) >= 0 && fchmod(fd, mode & 07777) >= 0)
                return TAKE_FD(fd);
        r = negative_errno();
        /* leave things as found: the dir is ours and still empty */
        (void) unlinkat(parent_fd, name, AT_REMOVEDIR);
        return r;
}

int safe_mkdir_path(const char *path, uid_t uid, gid_t gid, mode_t mode, int *ret_created)
{
        _cleanup_free_ char *parent = NULL, *last = NULL;
        _cleanup_close_ int parent_fd = -EBADF;
        int fd, r;

        r = split_path(path, &parent, &last);
        if (r < 0)
                return r;
        parent_fd = open_parents(parent);
        if (parent_fd < 0)
                return parent_fd;
        fd = make_final(parent_fd, last, uid, gid, mode);
        if (fd >= 0) {
                if (ret_created)
                        *ret_created = 1;
                return fd;
        }
        if (fd == -EEXIST)
                fd = open_final(parent_fd, last);
        if (fd >= 0 && ret_created)
                *ret_created = 0;
        return fd;
}

char *safe_missing_parent(const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        char *top = NULL, *slash;
        struct stat st;

        while (p && (slash = strrchr(p, '/')) && slash != p) {
                *slash = '\0';
                if (lstat(p, &st) == 0)
                        break;
                free(top);
                top = strdup(p);
        }
        return top;
}

void safe_rmdir_parents(const char *path, const char *top)
{
        _cleanup_free_ char *p = top ? strdup(path) : NULL;
        char *slash;

        while (p && (slash = strrchr(p, '/')) && slash != p) {
                *slash = '\0';
                if (rmdir(p) < 0 || streq(p, top))
                        break;
        }
}

/* Whether only root may change the entries of DIR, one of them being ENTRY. */
static bool root_only(const struct stat *dir, const struct stat *entry)
{
        if (dir->st_uid != 0 || ((dir->st_mode & S_IWGRP) && dir->st_gid != 0))
                return false;
        return !(dir->st_mode & S_IWOTH) || ((dir->st_mode & S_ISVTX) && entry->st_uid == 0);
}

int safe_entry_root_only(const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        struct stat dir, entry;
        char *slash;

        if (!copy)
                return -ENOMEM;
        if (lstat(copy, &entry) < 0)
                return negative_errno();
        /* a rename in any dir on the way swaps what PATH names */
        while ((slash = strrchr(copy, '/'))) {
                if (slash == copy)
                        slash[1] = '\0'; /* the root keeps its '/' */
                else
                        *slash = '\0';
                if (stat(copy, &dir) < 0)
                        return negative_errno();
                if (!root_only(&dir, &entry))
                        return 0;
                if (streq(copy, "/"))
                        break;
                if (lstat(copy, &entry) < 0)
                        return negative_errno();
        }
        return 1;
}
