/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_proc.c: the /proc ways of mntns_scan() (kernels before 6.12, a
 * caller outside the initial PID namespace, or OVERLAY_HELPER_NO_STATMOUNT=1).
 * See mntns.h and mntns.c. The walks of /proc it shares with mntns_fd_pins()
 * and mntns_pid_map() are mntns_pids.c's, the builder primitives
 * mntns_table.c's; nothing here calls into mntns.c.
 *
 * Namespaces are found by deduping /proc/PID/ns/mnt (and a thread's own,
 * /proc/PID/task/TID/ns/mnt, where it unshared its mount namespace from its
 * thread group), then through the nsfs bind mounts in the tables read, then
 * through open fds, noted in the same pass over /proc as the links; a
 * namespace no process is in is entered by a child (setns() would move our
 * own root and cwd). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "fallback.h"
#include "kapi.h"
#include "mntns_pids.h"
#include "mntns_proc.h"
#include "util.h"

/* A namespace whose inode we have met: NS indexes the set, -1 unreadable. */
typedef struct ns_known {
        ino_t ino;
        int ns;
} ns_known;

/* How to reach namespace NS, which no process is in: PATH (an nsfs bind
 * mount, or /proc/PID/fd/N) opened inside namespace VIA (-1: ours). */
typedef struct ns_origin {
        int ns;
        int via;
        char *path;
} ns_origin;

/* An open fd on a mount namespace file, met in the pass over /proc and
 * looked at once every process's namespace is known. */
typedef struct fd_seen {
        pid_t pid;  /* or a thread's TID: its own fd table */
        int fd;
        ino_t ino;
} fd_seen;

typedef struct proc_scan {
        mntns_builder *b;
        fd_seen *fds;
        size_t n_fds;
        ns_known *known; /* sorted by ino */
        size_t n_known;
        ns_origin *origins;
        size_t n_origins;
        size_t next_pin; /* pins before it are resolved */
} proc_scan;

static void strv_freep(char ***v) { strv_free(*v); }

/* lsns's rule: a process that is gone (ENOENT, ESRCH; EINVAL for the
 * mountinfo of one exiting) is skipped quietly, one we may not look at
 * (EACCES, EPERM) is counted; anything else is ours to report.
 * Returns: 1 counted, 0 skipped, or R. */
static int tolerate(mntns_builder *b, int r)
{
        if (r == -ENOENT || r == -ESRCH || r == -EINVAL)
                return 0;
        if (r == -EACCES || r == -EPERM) {
                b->set.n_unreadable++;
                return 1;
        }
        return r;
}

static size_t known_pos(const proc_scan *ps, ino_t ino)
{
        size_t lo = 0, hi = ps->n_known;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (ps->known[mid].ino < ino)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static const ns_known *known_find(const proc_scan *ps, ino_t ino)
{
        size_t i = known_pos(ps, ino);

        return i < ps->n_known && ps->known[i].ino == ino ? &ps->known[i] : NULL;
}

static int known_add(proc_scan *ps, ino_t ino, int ns)
{
        size_t i = known_pos(ps, ino);

        if (mntns_grow((void **)&ps->known, ps->n_known, sizeof(*ps->known)) < 0)
                return -ENOMEM;
        memmove(&ps->known[i + 1], &ps->known[i], (ps->n_known - i) * sizeof(*ps->known));
        ps->known[i] = (ns_known){ .ino = ino, .ns = ns };
        ps->n_known++;
        return 0;
}

static const ns_origin *origin_find(const proc_scan *ps, int ns)
{
        for (size_t i = 0; i < ps->n_origins; i++)
                if (ps->origins[i].ns == ns)
                        return &ps->origins[i];
        return NULL;
}

static int origin_add(proc_scan *ps, int ns, int via, const char *path)
{
        char *copy = strdup(path);

        if (!copy || mntns_grow((void **)&ps->origins, ps->n_origins, sizeof(*ps->origins)) < 0) {
                free(copy);
                return -ENOMEM;
        }
        ps->origins[ps->n_origins++] = (ns_origin){ .ns = ns, .via = via, .path = copy };
        return 0;
}

/* 0 where the kernel has no NS_GET_MNTNS_ID (before 6.8) or a filter
 * refuses ioctl(); then it is not asked again (mntns_read_table() turns an
 * id of 0 into the mountinfo way). */
static uint64_t ns_fd_id(int ns_fd)
{
        static bool refused;
        __u64 id = 0;

        if (refused)
                return 0;
        if (ioctl(ns_fd, OH_NS_GET_MNTNS_ID, &id) == 0)
                return id;
        if (errno == ENOTTY || errno == ENOSYS || errno == EINVAL || errno == EPERM ||
            errno == EOPNOTSUPP) {
                fallback_note("NS_GET_MNTNS_ID", errno);
                refused = true;
        }
        return 0;
}

/* Reads the table of namespace INO, which process PID is in: by its id, or
 * from /proc/PID/mountinfo. Returns: 0 (also when the process is gone or
 * unreadable), -ENOSYS (see mntns_read_table), -errno. */
static int read_pid_table(proc_scan *ps, int proc_fd, pid_t pid, ino_t ino)
{
        _cleanup_close_ int mi_fd = -EBADF, ns_fd = -EBADF;
        _cleanup_fclose_ FILE *f = NULL;
        char path[32];
        struct stat st;
        int ns, r;

        if (!ps->b->statmount) {
                snprintf(path, sizeof(path), "%d/mountinfo", (int)pid);
                mi_fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
                if (mi_fd < 0) {
                        r = tolerate(ps->b, negative_errno());
                        return r > 0 ? known_add(ps, ino, -1) : r;
                }
        }
        snprintf(path, sizeof(path), "%d/ns/mnt", (int)pid);
        ns_fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0 || fstat(ns_fd, &st) < 0) {
                r = tolerate(ps->b, negative_errno());
                return r < 0 ? r : 0;
        }
        /* The process may have setns()ed since the readlink. By id we read
         * the namespace the fd names, whichever; mountinfo shows the one it
         * was in when we opened that, which must then still be INO. */
        if (ps->b->statmount) {
                if (known_find(ps, st.st_ino))
                        return 0;
                ns = mntns_read_table(ps->b, st.st_ino, ns_fd_id(ns_fd), pid);
                return ns < 0 ? ns : known_add(ps, st.st_ino, ns);
        }
        if (st.st_ino != ino)
                return 0;
        f = fdopen(mi_fd, "r");
        if (!f)
                return -ENOMEM;
        mi_fd = -EBADF;
        ns = mntns_add_ns(ps->b, ino, ns_fd_id(ns_fd), pid);
        if (ns < 0)
                return ns;
        r = known_add(ps, ino, ns);
        return r < 0 ? r : mntns_parse_mountinfo(f, ps->b, ns);
}

static int scan_one_process(int proc_fd, pid_t pid, pid_t tid, ino_t ino, int link_error,
                            void *userdata)
{
        proc_scan *ps = userdata;
        int r;

        if (link_error < 0)
                return tolerate(ps->b, link_error);
        r = mntns_remember_pid(&ps->b->set, pid, tid, ino);
        /* a thread's own view: /proc/TID */
        if (r >= 0 && !known_find(ps, ino))
                r = read_pid_table(ps, proc_fd, tid ? tid : pid, ino);
        return r;
}

static int note_fd(pid_t pid, pid_t tid, int fd, ino_t ino, void *userdata)
{
        proc_scan *ps = userdata;

        if (mntns_grow((void **)&ps->fds, ps->n_fds, sizeof(*ps->fds)) < 0)
                return -ENOMEM;
        ps->fds[ps->n_fds++] = (fd_seen){ .pid = tid ? tid : pid, .fd = fd, .ino = ino };
        return 0;
}

/* Processes whose fds we may not read were counted with their links. The
 * fd tables are kept in the set for the holder pass, which then need not
 * read them again; their mount ids are of the kind the tables are read
 * with (unique ones with statmount()). */
static int scan_processes(proc_scan *ps)
{
        return mntns_walk_procs(scan_one_process, note_fd, ps, &ps->b->set, ps->b->statmount);
}

static bool write_all(int fd, const char *buf, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, buf, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return false;
                buf += w;
                n -= (size_t)w;
        }
        return true;
}

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

struct child_head {
        uint64_t ino;
        uint64_t id;
};

/* Runs in the child: only system calls, then _exit() with 0 or an errno.
 * It sends the namespace's inode and id, then, with SEND_TABLE, its
 * mountinfo, opened through a /proc/self taken before the first setns():
 * the namespace entered may have no /proc, or one of another PID namespace
 * where "self" is not us, and the kernel takes the table from the task at
 * open time whatever path led there. setns() also moves the child's root
 * and cwd to the new namespace's root, so each later step's path, and the
 * mount points in what it sends, resolve in the namespace just entered. */
/* The child's deadline and its end on a closed pipe are signals whose
 * default action kills it; a mask and dispositions inherited from whoever
 * started us (exec keeps both; a blocked or ignored SIGALRM would leave a
 * stuck child, and us waiting on it, forever) are not ours to rely on. */
static void child_default_signals(void)
{
        sigset_t mask;

        (void)signal(SIGALRM, SIG_DFL);
        (void)signal(SIGPIPE, SIG_DFL);
        sigemptyset(&mask);
        sigaddset(&mask, SIGALRM);
        sigaddset(&mask, SIGPIPE);
        (void)sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

static _Noreturn void child_dump_ns(char *const *steps, bool send_table, int out)
{
        struct child_head head;
        char buf[16384];
        int self, ns_fd = -EBADF, mi_fd;
        struct stat st;
        ssize_t n;

        /* The pin's path and the fd slot belong to other users, who can
         * swap in a FIFO or a device between our readlink and this open: a
         * stuck child dies of SIGALRM (counted as unreadable), and only an
         * O_PATH open (no device open, no FIFO wait) checked to be nsfs is
         * reopened for setns(). */
        child_default_signals();
        alarm(5);
        self = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (self < 0)
                _exit(errno);
        for (; *steps; steps++) {
                struct statfs sfs;
                char reopen[64];
                int path_fd;

                if (ns_fd >= 0)
                        close(ns_fd);
                path_fd = open(*steps, O_PATH | O_CLOEXEC);
                if (path_fd < 0)
                        _exit(errno);
                if (fstatfs(path_fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC)
                        _exit(EINVAL);
                snprintf(reopen, sizeof reopen, "%d", path_fd);
                ns_fd = openat(self, "fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (ns_fd < 0)
                        _exit(errno);
                int fd_dir = ns_fd;
                ns_fd = openat(fd_dir, reopen, O_RDONLY | O_CLOEXEC);
                close(fd_dir);
                close(path_fd);
                if (ns_fd < 0 || setns(ns_fd, CLONE_NEWNS) < 0)
                        _exit(errno);
        }
        if (fstat(ns_fd, &st) < 0)
                _exit(errno);
        head = (struct child_head){ .ino = st.st_ino, .id = ns_fd_id(ns_fd) };
        mi_fd = send_table ? openat(self, "mountinfo", O_RDONLY | O_CLOEXEC) : -EBADF;
        if (send_table && mi_fd < 0)
                _exit(errno);
        if (!write_all(out, (const char *)&head, sizeof(head)))
                _exit(EPIPE);
        if (!send_table)
                _exit(0);
        while ((n = read(mi_fd, buf, sizeof(buf))) > 0)
                if (!write_all(out, buf, (size_t)n))
                        _exit(EPIPE);
        _exit(n < 0 ? errno : 0);
}

static int wait_child(pid_t child, int *ret_status)
{
        while (waitpid(child, ret_status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return 0;
}

/* Reads the table of a namespace no process is in: a child enters it by
 * STEPS (see child_dump_ns) and names it, and sends its mountinfo unless
 * we read the table by id. VIA and ORIGIN are remembered as the way there,
 * for namespaces pinned inside it.
 * Returns: 0 (also when it is gone, already known, or unreadable), -ENOSYS
 * (see mntns_read_table), -errno. */
static int read_via_child(proc_scan *ps, char *const *steps, int via, const char *origin)
{
        _cleanup_fclose_ FILE *f = NULL;
        struct child_head head;
        int pipe_fds[2], status, ns = -1, r = 0;
        bool got_head, known;
        pid_t child;

        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                return negative_errno();
        child = fork();
        if (child == 0) {
                /* Our copy of the read end would keep the pipe readable
                 * after the parent closed its own: the child's write would
                 * then block on a full pipe instead of failing. */
                close(pipe_fds[0]);
                child_dump_ns(steps, !ps->b->statmount, pipe_fds[1]);
        }
        close(pipe_fds[1]);
        if (child < 0 || !(f = fdopen(pipe_fds[0], "r"))) {
                r = child < 0 ? negative_errno() : -ENOMEM;
                close(pipe_fds[0]);
                if (child > 0)
                        (void)wait_child(child, &status);
                return r;
        }
        got_head = fread(&head, sizeof(head), 1, f) == 1;
        known = got_head && known_find(ps, (ino_t)head.ino);
        if (got_head && !known) {
                /* The pin or fd keeps the namespace alive after the child
                 * is gone, so its id stays good for listmount(). */
                r = ns = ps->b->statmount ? mntns_read_table(ps->b, (ino_t)head.ino, head.id, 0)
                                          : mntns_add_ns(ps->b, (ino_t)head.ino, head.id, 0);
                if (r >= 0)
                        r = known_add(ps, (ino_t)head.ino, ns);
                if (r >= 0)
                        r = origin_add(ps, ns, via, origin);
                if (r >= 0 && !ps->b->statmount)
                        r = mntns_parse_mountinfo(f, ps->b, ns);
        }
        /* Closing first: a child still writing then dies of SIGPIPE. */
        fclose(TAKE_PTR(f));
        if (wait_child(child, &status) < 0 || r < 0)
                return r < 0 ? r : negative_errno();
        if (known || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
                return 0;
        /* Whatever stopped the child (a setns() refused, a table cut
         * short) concerns that namespace only; one gone meanwhile (its pin
         * unmounted, the fd's process exited) is no loss. */
        if (ns >= 0 || !WIFEXITED(status) ||
            (WEXITSTATUS(status) != ENOENT && WEXITSTATUS(status) != ESRCH))
                ps->b->set.n_unreadable++;
        return 0;
}

/* The paths a child opens and setns()s into, in turn, to reach the
 * namespace pinned at PATH in namespace WHERE: through /proc/PID/root when
 * a process is in WHERE, else through the way WHERE itself was reached.
 * Returns: 0 and *ret (NULL-terminated), -ENOENT if there is no way, -ENOMEM. */
static int enter_steps(const proc_scan *ps, int where, const char *path, char ***ret)
{
        _cleanup_(strv_freep) char **steps = NULL;
        size_t n = 0;

        for (size_t depth = 0; depth <= ps->b->set.n_ns; depth++) {
                pid_t pid = where >= 0 ? ps->b->set.ns[where].some_pid : 0;
                const ns_origin *o;
                char *s = NULL;

                if (pid > 0 ? asprintf(&s, "/proc/%d/root%s", (int)pid, path) < 0
                            : !(s = strdup(path)))
                        return -ENOMEM;
                if (mntns_grow((void **)&steps, n, sizeof(*steps)) < 0) {
                        free(s);
                        return -ENOMEM;
                }
                steps[n++] = s;
                if (where < 0 || pid > 0) {
                        if (mntns_grow((void **)&steps, n, sizeof(*steps)) < 0)
                                return -ENOMEM;
                        steps[n] = NULL;
                        for (size_t i = 0; i < n / 2; i++) {
                                char *t = steps[i];
                                steps[i] = steps[n - 1 - i];
                                steps[n - 1 - i] = t;
                        }
                        *ret = TAKE_PTR(steps);
                        return 0;
                }
                o = origin_find(ps, where);
                if (!o)
                        break;
                path = o->path;
                where = o->via;
        }
        return -ENOENT;
}

/* Namespaces pinned by nsfs bind mounts in the tables read so far; each
 * one read may show further pins, which the same loop then reaches. */
static int resolve_pins(proc_scan *ps)
{
        for (; ps->next_pin < ps->b->set.n_pins; ps->next_pin++) {
                /* A copy: reading a table may move the array. */
                ns_pin pin = ps->b->set.pins[ps->next_pin];
                _cleanup_(strv_freep) char **steps = NULL;
                const ns_known *where;
                int r, where_ns;

                where = known_find(ps, pin.where_ns_ino);
                if (known_find(ps, pin.pinned_ino) || !where || where->ns < 0)
                        continue;
                where_ns = where->ns;
                r = enter_steps(ps, where_ns, pin.mountpoint, &steps);
                if (r == -ENOENT)
                        continue;
                if (r >= 0)
                        r = read_via_child(ps, steps, where_ns, pin.mountpoint);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* /proc/TID/fd/N is the thread's own table, as /proc/PID/fd/N the process's. */
static int discover_fd_pinned(proc_scan *ps)
{
        for (size_t i = 0; i < ps->n_fds; i++) {
                const fd_seen *f = &ps->fds[i];
                char path[48];
                char *steps[] = { path, NULL };
                int r;

                if (known_find(ps, f->ino))
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)f->pid, f->fd);
                r = read_via_child(ps, steps, -1, path);
                if (r < 0)
                        return r;
        }
        return 0;
}

int mntns_scan_proc(mntns_builder *b)
{
        proc_scan ps = { .b = b };
        int r;

        r = scan_processes(&ps);
        if (r >= 0)
                r = resolve_pins(&ps);
        if (r >= 0)
                r = discover_fd_pinned(&ps);
        if (r >= 0)
                r = resolve_pins(&ps);
        for (size_t i = 0; i < ps.n_origins; i++)
                free(ps.origins[i].path);
        free(ps.origins);
        free(ps.known);
        free(ps.fds);
        return r;
}
