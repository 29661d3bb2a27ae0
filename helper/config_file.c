/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config_file.c: finding an instance's config file and reading it as root
 * may (see config_internal.h).
 *
 * Promises: the config dir, every dir a symlink on the way passes through to
 * the file, and the file itself are each owned by root (when running as root)
 * and writable by nobody else; the file is a regular file of at most
 * CONFIG_SIZE_MAX bytes. Nothing is opened in a way that can block (a FIFO,
 * a device), and nothing is read past the cap. Every check is made on the
 * fd that is then used, so a rename in between cannot slip past it. */
#include "config_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#define SYMLINK_HOPS_MAX 40 /* the kernel's own limit (MAXSYMLINKS) */

/* O_NONBLOCK: open() of a FIFO waits for a writer, and of some devices for
 * the device; with it open() returns at once and fstat() tells what it is. */
#define FILE_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

/* The file being looked for, as messages name it. */
typedef struct cfile {
        char *path;    /* CONFIG_DIR/NAME.conf, as looked up */
        char *target;  /* where its symlinks lead, NULL while it is none */
        char *dir;     /* the dir that holds the entry being opened */
        char **error;
} cfile;

static void cfile_done(cfile *f)
{
        free(f->path);
        free(f->target);
        free(f->dir);
}

/* "FILE: message", or "FILE (a symlink to TARGET): message". */
static int _printf_(3, 4) file_error(const cfile *f, int r, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        if (f->target)
                return config_errorf(f->error, r, "%s (a symlink to %s): %s", f->path, f->target, msg);
        return config_errorf(f->error, r, "%s: %s", f->path, msg);
}

static const char *type_name(mode_t mode)
{
        switch (mode & S_IFMT) {
        case S_IFREG: return "a regular file";
        case S_IFDIR: return "a directory";
        case S_IFIFO: return "a FIFO (named pipe)";
        case S_IFSOCK: return "a socket";
        case S_IFCHR: return "a character device";
        case S_IFBLK: return "a block device";
        case S_IFLNK: return "a symlink";
        default: return "of an unknown file type";
        }
}

/* As doas does for its file: whoever can write the dir can put any file,
 * FIFO or symlink in it, and so decides what root mounts where. Returns the
 * problem and the command that fixes it, or NULL. */
static const char *dir_problem(const struct stat *st, const char **ret_fix)
{
        if (geteuid() == 0 && st->st_uid != 0)
                return *ret_fix = "chown root", "not owned by root";
        if (st->st_mode & 022)
                return *ret_fix = "chmod go-w", "writable by group or others";
        return NULL;
}

/* The config dir itself: a bad one is refused before any file in it is
 * looked at, whether or not the instance's file exists. */
static int open_config_dir(const char *config_dir, const char *instance, int *ret_fd, char **error)
{
        _cleanup_close_ int fd = -EBADF;
        const char *problem, *fix;
        struct stat st;

        fd = open(config_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return config_errorf(error, -ENOENT, "no config for instance '%s': config dir %s does not "
                                     "exist", instance, config_dir);
        if (fd < 0 || fstat(fd, &st) < 0) {
                int r = negative_errno();

                return config_errorf(error, r == -ENOTDIR ? -EINVAL : r, "%s: cannot open the config dir: %s",
                                     config_dir, strerror(-r));
        }
        problem = dir_problem(&st, &fix);
        if (problem)
                return config_errorf(error, -EINVAL, "%s: refusing a config dir %s (owner uid %u, mode %04o); "
                                     "fix: %s %s", config_dir, problem, (unsigned) st.st_uid,
                                     (unsigned) (st.st_mode & 07777), fix, config_dir);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The next dir of a symlink's target LINK, whose last component *ret_base
 * points to (in LINK, which it cuts); the dir must pass the config dir's
 * checks, as root follows the link out of that dir into this one. */
static int follow_dir(cfile *f, int dirfd, char *link, int *ret_fd, char **ret_base)
{
        _cleanup_close_ int fd = -EBADF;
        char *slash = strrchr(link, '/'), *dir = NULL;
        const char *problem, *fix;
        struct stat st;

        *ret_base = slash ? slash + 1 : link;
        if (!**ret_base) /* "dir/": what it names is the dir itself */
                *ret_base = (char *) ".";
        if (slash) {
                *slash = 0;
                if (link[0] == 0)
                        dir = strdup("/");
                else if (link[0] == '/')
                        dir = strdup(link);
                else if (asprintf(&dir, "%s/%s", f->dir, link) < 0)
                        dir = NULL;
                if (!dir)
                        return -ENOMEM;
                free(f->dir);
                f->dir = dir;
        }
        free(f->target);
        if (streq(*ret_base, "."))
                f->target = strdup(f->dir);
        else if (asprintf(&f->target, "%s%s%s", f->dir, streq(f->dir, "/") ? "" : "/", *ret_base) < 0)
                f->target = NULL;
        if (!f->target)
                return -ENOMEM;
        fd = openat(dirfd, slash ? (link[0] ? link : "/") : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0) {
                int r = negative_errno();

                return file_error(f, r == -ENOENT || r == -ENOTDIR ? -EINVAL : r, "cannot open its dir %s: %s",
                                  f->dir, strerror(-r));
        }
        problem = dir_problem(&st, &fix);
        if (problem)
                return file_error(f, -EINVAL, "refusing it, as its dir %s is %s (owner uid %u, mode %04o); "
                                  "fix: %s %s", f->dir, problem, (unsigned) st.st_uid,
                                  (unsigned) (st.st_mode & 07777), fix, f->dir);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Opens BASE in DIRFD, following symlinks one hop at a time so that each
 * dir on the way is checked. A socket cannot be opened at all (ENXIO), so
 * an entry that will not open is named by its type where that is the
 * reason. */
static int open_following(cfile *f, int dirfd, const char *base, int *ret_fd)
{
        _cleanup_close_ int owned_dirfd = -EBADF;
        _cleanup_free_ char *owned_base = NULL;
        char link[PATH_MAX + 1];

        for (unsigned hops = 0;; hops++) {
                struct stat st;
                char *next;
                ssize_t n;
                int fd, r;

                fd = openat(dirfd, base, FILE_FLAGS);
                if (fd >= 0)
                        return *ret_fd = fd, 0;
                r = negative_errno();
                if (r != -ELOOP) {
                        if (r == -ENOENT) /* the caller names a missing config; a dangling link is bad */
                                return f->target ? file_error(f, -EINVAL, "%s does not exist", f->target) : r;
                        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISREG(st.st_mode))
                                return file_error(f, -EINVAL, "is %s, not a regular file", type_name(st.st_mode));
                        return file_error(f, r, "cannot open: %s", strerror(-r));
                }
                if (hops >= SYMLINK_HOPS_MAX)
                        return file_error(f, -EINVAL, "more than %d symlinks in a row", SYMLINK_HOPS_MAX);
                n = readlinkat(dirfd, base, link, sizeof(link));
                if (n < 0) {
                        r = negative_errno();
                        return file_error(f, r, "cannot read the symlink: %s", strerror(-r));
                }
                if ((size_t) n >= sizeof(link) - 1)
                        return file_error(f, -EINVAL, "a symlink's target is longer than PATH_MAX");
                link[n] = 0;
                r = follow_dir(f, dirfd, link, &fd, &next);
                if (r < 0)
                        return r;
                closep(&owned_dirfd);
                dirfd = owned_dirfd = fd;
                free(owned_base);
                base = owned_base = strdup(next); /* LINK is read into again */
                if (!owned_base)
                        return -ENOMEM;
        }
}

/* The regular-file, ownership, mode and size checks, on the open fd. */
static int check_file(const cfile *f, int fd, struct stat *st)
{
        if (fstat(fd, st) < 0) {
                int r = negative_errno();

                return file_error(f, r, "cannot stat: %s", strerror(-r));
        }
        if (!S_ISREG(st->st_mode))
                return file_error(f, -EINVAL, "is %s, not a regular file", type_name(st->st_mode));
        if (geteuid() == 0 && st->st_uid != 0)
                return file_error(f, -EINVAL, "refusing a config not owned by root (owner uid %u); fix: chown "
                                  "root %s", (unsigned) st->st_uid, f->target ?: f->path);
        if (st->st_mode & 022)
                return file_error(f, -EINVAL, "refusing a config writable by group or others (mode %04o); fix: "
                                  "chmod go-w %s", (unsigned) (st->st_mode & 07777), f->target ?: f->path);
        if (st->st_size > CONFIG_SIZE_MAX)
                return file_error(f, -EINVAL, "is %lld bytes, more than a config may be (%d MiB)",
                                  (long long) st->st_size, CONFIG_SIZE_MAX >> 20);
        return 0;
}

/* Reads at most CONFIG_SIZE_MAX bytes: the size fstat() gave may be out of
 * date (the file grows) or mean nothing (0 for a file in /proc). */
static int read_text(const cfile *f, int fd, size_t size_hint, char **ret, size_t *ret_size)
{
        size_t cap = (size_hint < 4096 ? 4096 : size_hint + 1), n = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (n == cap) {
                        char *bigger;

                        if (cap > CONFIG_SIZE_MAX)
                                return file_error(f, -EINVAL, "grew past %d MiB, more than a config may be, "
                                                  "while being read", CONFIG_SIZE_MAX >> 20);
                        cap = cap * 2 > CONFIG_SIZE_MAX ? CONFIG_SIZE_MAX + 1 : cap * 2;
                        bigger = realloc(buf, cap + 1);
                        if (!bigger)
                                return -ENOMEM;
                        buf = bigger;
                }
                k = read(fd, buf + n, cap - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = negative_errno();

                        return file_error(f, r, "read error: %s", strerror(-r));
                }
                if (k == 0)
                        break;
                n += k;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

/* INSTANCE.conf, else for PREFIX@ARG the template PREFIX@.conf; only a
 * missing entry sends the search on to the template (a broken symlink or a
 * refused file is an error of its own). */
static int open_entry(cfile *f, const char *config_dir, const char *instance, int dirfd, int *ret_fd)
{
        const char *at = strchr(instance, '@');
        _cleanup_free_ char *name = NULL, *template = NULL;
        struct stat st;
        int r;

        if (asprintf(&name, "%s.conf", instance) < 0 || asprintf(&f->path, "%s/%s", config_dir, name) < 0)
                return -ENOMEM;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT && at) {
                if (asprintf(&template, "%.*s@.conf", (int) (at - instance), instance) < 0)
                        return -ENOMEM;
                if (fstatat(dirfd, template, &st, AT_SYMLINK_NOFOLLOW) >= 0 || errno != ENOENT) {
                        free(f->path);
                        if (asprintf(&f->path, "%s/%s", config_dir, template) < 0)
                                return f->path = NULL, -ENOMEM;
                        free(name);
                        name = TAKE_PTR(template);
                }
        }
        r = open_following(f, dirfd, name, ret_fd);
        if (r == -ENOENT)
                return config_errorf(f->error, -ENOENT, "no config for instance '%s': %s/%s.conf%s%.*s%s does "
                                     "not exist", instance, config_dir, instance, at ? " (or " : "",
                                     at ? (int) (at - instance + 1) : 0, instance, at ? ".conf)" : "");
        return r;
}

int config_file_read(const char *config_dir, const char *instance, char **ret_path, char **ret_text,
                     size_t *ret_size, char **error)
{
        _cleanup_(cfile_done) cfile f = { .error = error };
        _cleanup_close_ int dirfd = -EBADF, fd = -EBADF;
        const char *at = strchr(instance, '@');
        struct stat st;
        int r;

        /* As systemd: "web@" names the template itself, not an instance of it. */
        if (at && !at[1])
                return config_errorf(error, -EINVAL, "invalid instance name '%s': a template instance needs "
                                     "an argument after '@' (as in '%s1')", instance, instance);
        r = open_config_dir(config_dir, instance, &dirfd, error);
        if (r < 0)
                return r;
        f.dir = strdup(config_dir);
        if (!f.dir)
                return -ENOMEM;
        r = open_entry(&f, config_dir, instance, dirfd, &fd);
        if (r >= 0)
                r = check_file(&f, fd, &st);
        if (r >= 0)
                r = read_text(&f, fd, st.st_size, ret_text, ret_size);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(f.path);
        return 0;
}
