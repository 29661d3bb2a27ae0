/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_pids.c: the walks of /proc that find processes' mount namespaces and
 * the fds that pin one; see mntns_pids.h. Below mntns_proc.c, which scans
 * with them, and beside nothing else. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>

#include "mntns_pids.h"
#include "util.h"

static pid_t parse_pid(const char *s)
{
        unsigned long v;
        char *end;

        if (*s < '1' || *s > '9')
                return 0;
        errno = 0;
        v = strtoul(s, &end, 10);
        return errno == 0 && *end == '\0' && v <= INT_MAX ? (pid_t)v : 0;
}

int mntns_read_ns_link(int dir_fd, const char *path, ino_t *ret)
{
        char link[64];
        ssize_t n = readlinkat(dir_fd, path, link, sizeof(link) - 1);

        if (n < 0)
                return negative_errno();
        link[n] = '\0';
        return mntns_parse_link(link, ret) ? 0 : -EINVAL;
}

int mntns_remember_pid(mntns_set *s, pid_t pid, ino_t ino)
{
        if (mntns_grow((void **)&s->pids, s->n_pids, sizeof(*s->pids)) < 0 ||
            mntns_grow((void **)&s->pid_ns, s->n_pids, sizeof(*s->pid_ns)) < 0)
                return -ENOMEM;
        s->pids[s->n_pids] = pid;
        s->pid_ns[s->n_pids++] = ino;
        return 0;
}

int mntns_for_each_pid_ns(pid_ns_fn fn, void *userdata)
{
        _cleanup_(closedirp) DIR *proc = opendir("/proc");
        struct dirent *de;

        if (!proc)
                return negative_errno();
        while ((de = readdir(proc))) {
                pid_t pid = parse_pid(de->d_name);
                char path[32];
                ino_t ino = 0;
                int r;

                if (pid == 0)
                        continue;
                snprintf(path, sizeof(path), "%d/ns/mnt", (int)pid);
                r = mntns_read_ns_link(dirfd(proc), path, &ino);
                r = fn(dirfd(proc), pid, ino, r < 0 ? r : 0, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int walk_pid_fds(int proc_fd, pid_t pid, mnt_fd_fn fn, void *userdata, unsigned *unreadable)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        char path[32];
        int fd;

        snprintf(path, sizeof(path), "%d/fd", (int)pid);
        fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (unreadable && (errno == EACCES || errno == EPERM))
                        (*unreadable)++;
                return errno == ENOMEM || errno == EMFILE || errno == ENFILE ? -errno : 0;
        }
        d = fdopendir(fd);
        if (!d) {
                /* fdopendir() fstat()s the dir, which fails once the process
                 * has exited under us: that is a process gone, not an error */
                int r = errno == ENOMEM ? -ENOMEM : 0;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                ino_t ino;
                int r;

                if (de->d_name[0] < '0' || de->d_name[0] > '9' ||
                    mntns_read_ns_link(dirfd(d), de->d_name, &ino) < 0)
                        continue;
                r = fn(pid, atoi(de->d_name), ino, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

int mntns_walk_mnt_fds(mnt_fd_fn fn, void *userdata, unsigned *unreadable)
{
        _cleanup_(closedirp) DIR *proc = opendir("/proc");
        pid_t self = getpid();
        struct dirent *de;

        if (!proc)
                return negative_errno();
        while ((de = readdir(proc))) {
                pid_t pid = parse_pid(de->d_name);
                int r;

                if (pid == 0 || pid == self)
                        continue;
                r = walk_pid_fds(dirfd(proc), pid, fn, userdata, unreadable);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct fd_pins {
        ino_t ino;
        char **pins;
        size_t n;
};

static int collect_fd_pin(pid_t pid, int fd, ino_t ino, void *userdata)
{
        struct fd_pins *fp = userdata;
        char *s;

        if (ino != fp->ino)
                return 0;
        if (asprintf(&s, "fd:%d:%d", (int)pid, fd) < 0)
                return -ENOMEM;
        /* With its NULL, the array holds n + 1 entries once it exists. */
        if (mntns_grow((void **)&fp->pins, fp->pins ? fp->n + 1 : 0, sizeof(*fp->pins)) < 0) {
                free(s);
                return -ENOMEM;
        }
        fp->pins[fp->n++] = s;
        fp->pins[fp->n] = NULL;
        return 0;
}

int mntns_fd_pins(ino_t ns_ino, char ***ret_pins)
{
        struct fd_pins fp = { .ino = ns_ino };
        int r = mntns_walk_mnt_fds(collect_fd_pin, &fp, NULL);

        if (r >= 0 && !fp.pins && !(fp.pins = calloc(1, sizeof(*fp.pins))))
                r = -ENOMEM;
        if (r < 0) {
                strv_free(fp.pins);
                return r;
        }
        *ret_pins = fp.pins;
        return 0;
}

struct pid_map_ctx {
        mntns_set set; /* only its pid map is used */
        unsigned unreadable;
};

static int map_one_process(int proc_fd _unused_, pid_t pid, ino_t ino, int link_error,
                           void *userdata)
{
        struct pid_map_ctx *ctx = userdata;

        if (link_error == -EACCES || link_error == -EPERM)
                ctx->unreadable++;
        if (link_error < 0)
                return 0; /* gone meanwhile (ENOENT, ESRCH), or a zombie */
        return mntns_remember_pid(&ctx->set, pid, ino);
}

int mntns_pid_map(pid_t **ret_pids, ino_t **ret_inos, size_t *ret_n, unsigned *ret_unreadable)
{
        struct pid_map_ctx ctx = { 0 };
        int r = mntns_for_each_pid_ns(map_one_process, &ctx);

        if (r < 0) {
                mntns_set_done(&ctx.set);
                return r;
        }
        *ret_pids = TAKE_PTR(ctx.set.pids);
        *ret_inos = TAKE_PTR(ctx.set.pid_ns);
        *ret_n = ctx.set.n_pids;
        *ret_unreadable = ctx.unreadable;
        return 0;
}
