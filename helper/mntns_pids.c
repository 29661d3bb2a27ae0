/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_pids.c: the walks of /proc that find processes' mount namespaces and
 * the fds that pin one; see mntns_pids.h. Below mntns_proc.c, which scans
 * with them, and beside nothing else. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>

#include "mntns_pids.h"
#include "procfs.h"
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

/* One walk of /proc, for the namespace links (NS_FN) or the fd tables
 * (FD_FN) of every process and thread, or both at once. */
typedef struct proc_walk {
        pid_ns_fn ns_fn;
        mnt_fd_fn fd_fn;
        void *userdata;
        unsigned *unreadable;  /* fd tables we may not read, or NULL */
        int proc_fd;
        pid_t self;
        pid_t pid;             /* the process being walked */
        pid_t fd_pid;          /* whose fd table is being read: PID, or -TID */
        ino_t base_ino;        /* the namespace it is listed in, 0 until known */
} proc_walk;

static int visit_fd(int fd_dir, const char *name, void *userdata)
{
        const proc_walk *w = userdata;
        ino_t ino;

        if (name[0] < '0' || name[0] > '9' || mntns_read_ns_link(fd_dir, name, &ino) < 0)
                return 0;
        return w->fd_fn(w->fd_pid, atoi(name), ino, w->userdata);
}

/* The fd table at PATH in DIR_FD: one open, one getdents64() (into a
 * buffer of our own: no fstat() and fcntl() of fdopendir()) and one
 * readlink() per fd. A process gone meanwhile is no error. */
static int walk_fd_dir(proc_walk *w, int dir_fd, const char *path, pid_t fd_pid)
{
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0) {
                if (w->unreadable && fd_pid > 0 && (errno == EACCES || errno == EPERM))
                        (*w->unreadable)++;
                return errno == ENOMEM || errno == EMFILE || errno == ENFILE ? -errno : 0;
        }
        w->fd_pid = fd_pid;
        r = procfs_each_entry(fd, visit_fd, w);
        return r == -ENOENT || r == -ESRCH || r == -EACCES || r == -EPERM ? 0 : r;
}

/* One thread of a process with more. Listed (as -TID) when it is in a
 * namespace of its own (unshare() of CLONE_NEWNS by one thread), or when it
 * stands for a process whose leader has exited (the first one alive); its
 * fd table read when it is not the process's (CLONE_FILES unshared): kcmp()
 * tells, so a thousand threads sharing one table cost a thousand kcmp()
 * calls, not a thousand walks. */
static int visit_thread(int task_fd, const char *name, void *userdata)
{
        proc_walk *w = userdata;
        pid_t tid = parse_pid(name);
        char path[32];
        ino_t ino;
        int r = 0;

        if (tid == 0 || tid == w->pid)
                return 0;
        if (w->ns_fn) {
                snprintf(path, sizeof(path), "%d/ns/mnt", (int)tid);
                if (mntns_read_ns_link(task_fd, path, &ino) < 0)
                        return 0; /* ended meanwhile */
                if (ino != w->base_ino) {
                        if (w->base_ino == 0)
                                w->base_ino = ino;
                        r = w->ns_fn(w->proc_fd, -tid, ino, 0, w->userdata);
                }
        }
        if (r < 0 || !w->fd_fn || procfs_shares(w->pid, tid, KCMP_FILES))
                return r;
        snprintf(path, sizeof(path), "%d/fd", (int)tid);
        return walk_fd_dir(w, task_fd, path, -tid);
}

static int visit_threads(proc_walk *w)
{
        _cleanup_close_ int task_fd = -EBADF;
        char path[32];
        int r;

        snprintf(path, sizeof(path), "%d/task", (int)w->pid);
        task_fd = openat(w->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (task_fd < 0)
                return errno == ENOMEM || errno == EMFILE || errno == ENFILE ? -errno : 0;
        r = procfs_each_entry(task_fd, visit_thread, w);
        return r == -ENOENT || r == -ESRCH || r == -EACCES || r == -EPERM ? 0 : r;
}

/* The process, its fds, then its other threads: for a process with one
 * thread, one readlink(), one statx() and the fd table. */
static int visit_pid(proc_walk *w, pid_t pid)
{
        char path[32];
        int r = 0, n;

        w->pid = pid;
        w->base_ino = 0;
        if (w->ns_fn) {
                snprintf(path, sizeof(path), "%d/ns/mnt", (int)pid);
                r = mntns_read_ns_link(w->proc_fd, path, &w->base_ino);
                /* A leader that exited leaves no link (ENOENT) while the
                 * rest of its threads live on: they are looked at below. */
                if (r != -ENOENT) {
                        n = w->ns_fn(w->proc_fd, pid, w->base_ino, r, w->userdata);
                        if (n < 0 || r < 0)
                                return n;
                }
        }
        if (w->fd_fn && pid != w->self) {
                snprintf(path, sizeof(path), "%d/fd", (int)pid);
                n = walk_fd_dir(w, w->proc_fd, path, pid);
                if (n < 0)
                        return n;
        }
        snprintf(path, sizeof(path), "%d/task", (int)pid);
        n = procfs_nr_threads(w->proc_fd, path);
        n = n == 1 || n == -ENOENT || n == -ESRCH ? 0 : visit_threads(w);
        /* no thread alive to stand for it: gone */
        if (n >= 0 && r < 0 && w->base_ino == 0)
                n = w->ns_fn(w->proc_fd, pid, 0, r, w->userdata);
        return n;
}

static int walk_procs(proc_walk *w)
{
        _cleanup_(closedirp) DIR *proc = opendir("/proc");
        struct dirent *de;

        if (!proc)
                return negative_errno();
        w->proc_fd = dirfd(proc);
        w->self = getpid();
        while ((de = readdir(proc))) {
                pid_t pid = parse_pid(de->d_name);
                int r = pid == 0 ? 0 : visit_pid(w, pid);

                if (r < 0)
                        return r;
        }
        return 0;
}

int mntns_for_each_pid_ns(pid_ns_fn fn, void *userdata)
{
        proc_walk w = { .ns_fn = fn, .userdata = userdata };

        return walk_procs(&w);
}

int mntns_walk_mnt_fds(mnt_fd_fn fn, void *userdata, unsigned *unreadable)
{
        proc_walk w = { .fd_fn = fn, .userdata = userdata, .unreadable = unreadable };

        return walk_procs(&w);
}

int mntns_walk_procs(pid_ns_fn ns_fn, mnt_fd_fn fd_fn, void *userdata)
{
        proc_walk w = { .ns_fn = ns_fn, .fd_fn = fd_fn, .userdata = userdata };

        return walk_procs(&w);
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
