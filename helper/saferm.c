/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* saferm.c: emptying instance dirs without ever leaving them.
 *
 * The walk in safe_empty_dir() holds two or three fds whatever the depth: it
 * steps down with openat2() beneath the current dir and back up through "..",
 * which it trusts only once the dir it reaches proves (dev, ino) to be the one
 * it came from. Holding one fd per level would turn a deep tree into EMFILE
 * long before the depth limit, under the usual soft limit of 1024. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "saferm.h"
#include "env.h"
#include "fallback.h"
#include "util.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* Levels beneath the top; deeper is refused with -ELOOP. */
#define SAFERM_DEPTH_MAX 4096
/* Readdir passes per dir before giving up on one that keeps refilling. */
#define SAFERM_PASSES_MAX 8

#define OPEN_DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* What an entry is, and where it lives. */
struct ident {
        mode_t mode;
        dev_t dev;
        ino_t ino;
        uint64_t mnt_id;
        bool has_mnt_id;
};

/* -1: not tried yet, 0: unusable (ENOSYS, or forced off for tests), 1: works */
static int openat2_state = -1;

static bool openat2_usable(void)
{
        if (openat2_state < 0) {
                openat2_state = !env_flag(ENV_NO_OPENAT2);
                if (!openat2_state)
                        fallback_note("openat2", 0);
        }
        return openat2_state > 0;
}

/* Whether openat2() itself is refused (ENOSYS; EPERM from a seccomp filter
 * that predates it), as opposed to this one open: an O_PATH open of "/"
 * asks for nothing a dir's owner or an LSM could deny. */
static bool openat2_refused(int err)
{
        struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_NO_MAGICLINKS };
        int fd;

        if (err == ENOSYS)
                return true;
        if (err != EPERM)
                return false;
        fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
        if (fd >= 0) {
                close(fd);
                return false;
        }
        return errno == EPERM || errno == ENOSYS;
}

/* lstat() semantics (statx(), Linux >= 4.11), plus the mount id (>= 5.8) so
 * that a bind mount of the same filesystem, which st_dev cannot tell apart,
 * is seen as a mount. */
static int ident_at(int dfd, const char *name, int flags, struct ident *ret)
{
        struct statx sx;

        flags |= AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT;
        if (statx(dfd, name, flags, STATX_TYPE | STATX_INO | STATX_MNT_ID, &sx) < 0)
                return -errno;
        *ret = (struct ident) {
                .mode = sx.stx_mode,
                .dev = makedev(sx.stx_dev_major, sx.stx_dev_minor),
                .ino = sx.stx_ino,
                .mnt_id = sx.stx_mnt_id,
                .has_mnt_id = sx.stx_mask & STATX_MNT_ID,
        };
        return 0;
}

static bool crosses_mount(const struct ident *base, const struct ident *id)
{
        /* Mount ids are what RESOLVE_NO_XDEV goes by. st_dev misses bind
         * mounts of the same filesystem and differs for btrfs subvolumes,
         * which are no mounts: it is the fallback for kernels < 5.8. */
        if (base->has_mnt_id && id->has_mnt_id)
                return base->mnt_id != id->mnt_id;
        return base->dev != id->dev;
}

/* Opens the dir NAME (one component) in DFD, which lives on BASE's mount.
 * A symlink gives -ENOTDIR or -ELOOP, a mount point -EXDEV. */
static int open_dir_beneath(int dfd, const char *name, const struct ident *base)
{
        _cleanup_close_ int fd = -EBADF;
        struct ident id = {};
        int r;

        if (openat2_usable()) {
                struct open_how how = {
                        .flags = OPEN_DIR_FLAGS,
                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
                };

                for (unsigned tries = 0;; tries++) {
                        fd = syscall(SYS_openat2, dfd, name, &how, sizeof(how));
                        if (fd >= 0)
                                return TAKE_FD(fd);
                        r = errno;
                        if (openat2_refused(r)) {
                                fallback_note("openat2", r);
                                break;
                        }
                        errno = r;
                        /* EXDEV also means NAME was moved out of DFD while
                         * it was looked up (the final path_is_under() check
                         * of a RESOLVE_BENEATH walk). Only a dir still here,
                         * on another mount, is a mount point. */
                        if (errno != EXDEV || tries >= 3)
                                return -errno;
                        r = ident_at(dfd, name, 0, &id);
                        if (r < 0)
                                return r;
                        if (crosses_mount(base, &id))
                                return -EXDEV;
                }
                openat2_state = 0;
        }

        /* Without openat2, O_NOFOLLOW covers the symlink; a mount point is
         * only visible after the fact, so check what we got. */
        fd = openat(dfd, name, OPEN_DIR_FLAGS);
        if (fd < 0)
                return -errno;
        r = ident_at(fd, "", AT_EMPTY_PATH, &id);
        if (r < 0)
                return r;
        if (crosses_mount(base, &id))
                return -EXDEV;
        return TAKE_FD(fd);
}

/* Whether FD is still the dir seen as (DEV, INO). */
static bool fd_is(int fd, dev_t dev, ino_t ino)
{
        struct ident id = {};

        return ident_at(fd, "", AT_EMPTY_PATH, &id) >= 0 && id.dev == dev && id.ino == ino;
}

static bool dot_or_dotdot(const char *name)
{
        return streq(name, ".") || streq(name, "..");
}

static bool valid_name(const char *name)
{
        return !strempty(name) && !strchr(name, '/') && !dot_or_dotdot(name);
}

/* One level of the walk. */
struct frame {
        char *name;          /* in the parent; NULL for the top */
        dev_t dev;           /* to recognise the dir again from below */
        ino_t ino;
        char **subdirs;      /* found by the last pass, still to descend into */
        size_t n_subdirs;
        size_t next;
        unsigned passes;
};

struct walk {
        struct frame *frames; /* SAFERM_DEPTH_MAX + 1 of them */
        size_t depth;        /* frames[depth] is the current dir */
        int top_fd;
        int fd;              /* the current dir */
        struct ident top;    /* the walk never leaves top's mount */
        const char *entry;   /* safe_remove_entry(): the one entry of the top */
};

static void frame_clear_subdirs(struct frame *f)
{
        for (size_t i = 0; i < f->n_subdirs; i++)
                free(f->subdirs[i]);
        f->subdirs = (free(f->subdirs), NULL);
        f->n_subdirs = f->next = 0;
}

static void walk_done(struct walk *w)
{
        for (size_t i = 0; w->frames && i <= w->depth; i++) {
                free(w->frames[i].name);
                frame_clear_subdirs(&w->frames[i]);
        }
        free(w->frames);
        closep(&w->fd);
        closep(&w->top_fd);
}

/* name1/.../nameN/LEAF, relative to the top; "." for the top itself. */
static char *walk_path(const struct walk *w, const char *leaf)
{
        size_t len = 2 + (leaf ? strlen(leaf) + 1 : 0);
        char *path, *p;

        for (size_t i = 1; i <= w->depth; i++)
                len += strlen(w->frames[i].name) + 1;
        p = path = malloc(len);
        if (!path)
                return NULL;
        *p = '\0';
        for (size_t i = 1; i <= w->depth; i++)
                p = stpcpy(stpcpy(p, p == path ? "" : "/"), w->frames[i].name);
        if (leaf)
                p = stpcpy(stpcpy(p, p == path ? "" : "/"), leaf);
        if (p == path)
                strcpy(path, ".");
        return path;
}

static int walk_fail(const struct walk *w, const char *leaf, int r, char **ret_where)
{
        if (ret_where)
                *ret_where = walk_path(w, leaf);
        return r;
}

/* Removes NAME in the current dir unless it is a dir (then *ret_is_dir).
 * Returns: 1 if NAME was there, 0 if not, or -errno. */
static int remove_nondir(const struct walk *w, const char *name, bool *ret_is_dir)
{
        struct ident id = {};
        int r;

        *ret_is_dir = false;
        r = ident_at(w->fd, name, 0, &id);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        /* A file can be a mount point too (a bind-mounted file). */
        if (crosses_mount(&w->top, &id))
                return -EXDEV;
        if (S_ISDIR(id.mode)) {
                *ret_is_dir = true;
                return 1;
        }
        /* Symlinks, whiteouts (0:0 char devs), fifos, sockets: the entry
         * itself goes, never what it points at. */
        if (unlinkat(w->fd, name, 0) >= 0 || errno == ENOENT)
                return 1;
        if (errno != EISDIR)
                return -errno;
        *ret_is_dir = true;  /* swapped for a dir since the stat */
        return 1;
}

static int queue_subdir(struct frame *f, const char *name)
{
        char **subdirs = reallocarray(f->subdirs, f->n_subdirs + 1, sizeof(char *));

        if (!subdirs)
                return -ENOMEM;
        f->subdirs = subdirs;
        f->subdirs[f->n_subdirs] = strdup(name);
        if (!f->subdirs[f->n_subdirs])
                return -ENOMEM;
        f->n_subdirs++;
        return 0;
}

/* One readdir pass over the current dir: removes what is not a dir and
 * queues the dirs. Returns: 1 if it found anything, 0 if the dir is empty. */
static int scan_dir(struct walk *w, char **ret_where)
{
        struct frame *f = &w->frames[w->depth];
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        bool found = false, is_dir;
        int r;

        frame_clear_subdirs(f);
        fd = fcntl(w->fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return walk_fail(w, NULL, -errno, ret_where);
        d = fdopendir(fd);
        if (!d)
                return walk_fail(w, NULL, -errno, ret_where);
        TAKE_FD(fd);
        /* The dup shares its offset with w->fd: a previous pass left it at the end. */
        rewinddir(d);

        while ((errno = 0, de = readdir(d))) {
                if (dot_or_dotdot(de->d_name))
                        continue;
                found = true;
                r = remove_nondir(w, de->d_name, &is_dir);
                if (r > 0 && is_dir)
                        r = queue_subdir(f, de->d_name);
                if (r < 0)
                        return walk_fail(w, de->d_name, r, ret_where);
        }
        if (errno > 0)
                return walk_fail(w, NULL, -errno, ret_where);
        return found;
}

/* safe_remove_entry()'s pass over the top: its one entry, nothing else.
 * Returns: 1 if the entry was there, 0 if not, or -errno. */
static int scan_entry(struct walk *w, char **ret_where)
{
        bool is_dir;
        int r;

        frame_clear_subdirs(&w->frames[0]);
        r = remove_nondir(w, w->entry, &is_dir);
        if (r > 0 && is_dir && queue_subdir(&w->frames[0], w->entry) < 0)
                r = -ENOMEM;
        return r < 0 ? walk_fail(w, w->entry, r, ret_where) : r;
}

static int push_frame(struct walk *w, const char *name, const struct ident *id)
{
        struct frame *f = &w->frames[w->depth + 1];

        *f = (struct frame) { .name = strdup(name), .dev = id->dev, .ino = id->ino };
        if (!f->name)
                return -ENOMEM;
        w->depth++;
        return 0;
}

static int descend(struct walk *w, const char *name, char **ret_where)
{
        _cleanup_close_ int fd = -EBADF;
        struct ident id = {};
        bool is_dir;
        int r;

        if (w->depth >= SAFERM_DEPTH_MAX)
                return walk_fail(w, name, -ELOOP, ret_where);
        fd = open_dir_beneath(w->fd, name, &w->top);
        if (fd == -ENOENT)
                return 0;
        if (fd == -ENOTDIR || fd == -ELOOP) {
                /* Swapped for a symlink or a file since the scan: remove it
                 * as what it is now. Should it be a dir again, the next pass
                 * over this dir finds it. */
                r = remove_nondir(w, name, &is_dir);
                return r < 0 ? walk_fail(w, name, r, ret_where) : 0;
        }
        if (fd < 0)
                return walk_fail(w, name, fd, ret_where);

        r = ident_at(fd, "", AT_EMPTY_PATH, &id);
        if (r >= 0)
                r = push_frame(w, name, &id);
        if (r < 0)
                return walk_fail(w, name, r, ret_where);
        closep(&w->fd);
        w->fd = TAKE_FD(fd);
        return 0;
}

/* The parent of the current dir, found again from the top by name: for when
 * ".." is gone (the current dir was removed under us) or leads elsewhere (it
 * was moved). Whatever sits at those names now must still be that parent. */
static int reopen_parent(const struct walk *w)
{
        const struct frame *parent = &w->frames[w->depth - 1];
        _cleanup_close_ int fd = openat(w->top_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        for (size_t i = 1; i < w->depth; i++) {
                int child = open_dir_beneath(fd, w->frames[i].name, &w->top);

                if (child == -ENOENT || child == -ENOTDIR || child == -ELOOP)
                        return -ESTALE;
                if (child < 0)
                        return child;
                closep(&fd);
                fd = child;
        }
        if (!fd_is(fd, parent->dev, parent->ino))
                return -ESTALE;
        return TAKE_FD(fd);
}

static void pop_frame(struct walk *w)
{
        struct frame *f = &w->frames[w->depth--];

        f->name = (free(f->name), NULL);
        frame_clear_subdirs(f);
}

/* The way back up is gone: the tree was moved about under us. Start again
 * from the top, whose next pass finds whatever is left. */
static int unwind_to_top(struct walk *w)
{
        int fd = fcntl(w->top_fd, F_DUPFD_CLOEXEC, 3);

        if (fd < 0)
                return -errno;
        while (w->depth > 0)
                pop_frame(w);
        closep(&w->fd);
        w->fd = fd;
        return 0;
}

/* The current dir is empty: step back to its parent and remove it. */
static int ascend(struct walk *w, char **ret_where)
{
        struct frame *f = &w->frames[w->depth];
        const struct frame *parent = f - 1;
        _cleanup_close_ int fd = openat(w->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || !fd_is(fd, parent->dev, parent->ino)) {
                closep(&fd);
                fd = reopen_parent(w);
                if (fd == -ESTALE)
                        return unwind_to_top(w);
                if (fd < 0)
                        return walk_fail(w, NULL, fd, ret_where);
        }
        /* ENOTEMPTY, ENOTDIR: something was made in it, or it was swapped
         * for something else, meanwhile; the parent's next pass finds it. */
        if (unlinkat(fd, f->name, AT_REMOVEDIR) < 0 &&
            errno != ENOENT && errno != ENOTEMPTY && errno != ENOTDIR)
                return walk_fail(w, NULL, -errno, ret_where);
        pop_frame(w);
        closep(&w->fd);
        w->fd = TAKE_FD(fd);
        return 0;
}

static int walk_run(struct walk *w, char **ret_where)
{
        for (;;) {
                struct frame *f = &w->frames[w->depth];
                int r;

                bool entry = w->depth == 0 && w->entry;

                if (f->next < f->n_subdirs)
                        r = descend(w, f->subdirs[f->next++], ret_where);
                else if (f->passes++ >= SAFERM_PASSES_MAX)
                        r = walk_fail(w, entry ? w->entry : NULL, -ENOTEMPTY, ret_where);
                else if ((r = entry ? scan_entry(w, ret_where) : scan_dir(w, ret_where)) == 0) {
                        if (w->depth == 0)
                                return 0;
                        r = ascend(w, ret_where);
                }
                if (r < 0)
                        return r;
        }
}

static int walk_init(struct walk *w, int dir_fd)
{
        int r;

        /* Reopening "." also turns an O_PATH fd into one readdir can use. */
        w->top_fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w->top_fd < 0)
                return -errno;
        r = ident_at(w->top_fd, "", AT_EMPTY_PATH, &w->top);
        if (r < 0)
                return r;
        w->fd = fcntl(w->top_fd, F_DUPFD_CLOEXEC, 3);
        if (w->fd < 0)
                return -errno;
        /* ~230 KiB, mmap()ed by malloc and only touched as deep as we go */
        w->frames = calloc(SAFERM_DEPTH_MAX + 1, sizeof(struct frame));
        if (!w->frames)
                return -ENOMEM;
        w->frames[0] = (struct frame) { .dev = w->top.dev, .ino = w->top.ino };
        return 0;
}

/* Empties DIR_FD, or with ENTRY removes only that entry of it. */
static int empty_tree(int dir_fd, const char *entry, char **ret_where)
{
        struct walk w = { .top_fd = -EBADF, .fd = -EBADF, .entry = entry };
        int r = walk_init(&w, dir_fd);

        if (r < 0)
                walk_fail(&w, NULL, r, ret_where);
        else
                r = walk_run(&w, ret_where);
        walk_done(&w);
        return r;
}

int safe_empty_dir(int dir_fd, char **ret_where)
{
        return empty_tree(dir_fd, NULL, ret_where);
}

int safe_remove_entry(int dir_fd, const char *name, char **ret_where)
{
        if (!valid_name(name))
                return -EINVAL;
        return empty_tree(dir_fd, name, ret_where);
}
