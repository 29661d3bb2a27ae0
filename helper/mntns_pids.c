/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_pids.c: the walks of /proc that find processes' mount namespaces and
 * the fds that pin one; see mntns_pids.h. Below mntns_proc.c, which scans
 * with them, and beside nothing else. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

int mntns_remember_pid(mntns_set *s, pid_t pid, pid_t tid, ino_t ino)
{
        if (mntns_grow((void **)&s->pids, s->n_pids, sizeof(*s->pids)) < 0 ||
            mntns_grow((void **)&s->tids, s->n_pids, sizeof(*s->tids)) < 0 ||
            mntns_grow((void **)&s->pid_ns, s->n_pids, sizeof(*s->pid_ns)) < 0)
                return -ENOMEM;
        s->pids[s->n_pids] = pid;
        s->tids[s->n_pids] = tid;
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
        mntns_set *record;     /* keeps every fd's (device, mount), or NULL */
        unsigned id_mask;      /* STATX_MNT_ID or STATX_MNT_ID_UNIQUE */
        dev_t nsfs_dev;        /* namespace files' device, 0 if unknown */
        size_t cap_refs;       /* allocated in record->fd_refs */
        size_t first_ref;      /* the process's first in record->fd_refs */
        size_t compact_at;     /* when its refs are deduped again */
        bool record_ok;        /* every fd table of the process read so far */
        int proc_fd;
        pid_t self;
        pid_t pid;             /* the process being walked */
        pid_t fd_tid;          /* whose fd table is being read: 0 the process's, or TID */
        ino_t base_ino;        /* the namespace it is listed in, 0 until known */
} proc_walk;

static int cmp_ref(const void *a, const void *b)
{
        const mntns_fd_ref *x = a, *y = b;

        if (x->devnum != y->devnum)
                return x->devnum < y->devnum ? -1 : 1;
        return x->mnt_id < y->mnt_id ? -1 : x->mnt_id > y->mnt_id;
}

/* The process's refs so far, each once: a table of 100,000 sockets is one
 * entry. Deduped again whenever they double, so what is held stays within
 * twice the distinct ones (at least 256). */
static void dedupe_refs(proc_walk *w)
{
        mntns_fd_ref *v = w->record->fd_refs + w->first_ref;
        size_t n = w->record->n_fd_refs - w->first_ref, out = 0;

        if (n < 2)
                return;
        qsort(v, n, sizeof(*v), cmp_ref);
        for (size_t i = 0; i < n; i++)
                if (out == 0 || cmp_ref(&v[out - 1], &v[i]) != 0)
                        v[out++] = v[i];
        w->record->n_fd_refs = w->first_ref + out;
        w->compact_at = w->first_ref + (out > 128 ? 2 * out : 256);
}

static int keep_ref(proc_walk *w, dev_t devnum, uint64_t mnt_id)
{
        mntns_set *s = w->record;
        const mntns_fd_ref ref = { .devnum = devnum, .mnt_id = mnt_id };

        /* neighbouring fds are often on the same mount: no room for those */
        if (s->n_fd_refs > w->first_ref && cmp_ref(&s->fd_refs[s->n_fd_refs - 1], &ref) == 0)
                return 0;
        if (s->n_fd_refs == w->cap_refs) {
                size_t cap = w->cap_refs ? 2 * w->cap_refs : 256;
                mntns_fd_ref *v = reallocarray(s->fd_refs, cap, sizeof(*v));

                if (!v)
                        return -ENOMEM;
                s->fd_refs = v;
                w->cap_refs = cap;
        }
        s->fd_refs[s->n_fd_refs++] = ref;
        if (s->n_fd_refs >= w->compact_at)
                dedupe_refs(w);
        return 0;
}

/* The process's record, once all its tables were read; with one we could
 * not read, none (holder_inspect_any() then reads them itself). */
static int end_record(proc_walk *w, int n_threads)
{
        mntns_set *s = w->record;

        if (!w->record_ok || n_threads < 0) {
                s->n_fd_refs = w->first_ref;
                return 0;
        }
        dedupe_refs(w);
        if (mntns_grow((void **)&s->fd_records, s->n_fd_records, sizeof(*s->fd_records)) < 0)
                return -ENOMEM;
        s->fd_records[s->n_fd_records++] = (mntns_fd_record){
                .pid = w->pid,
                .n_threads = (unsigned)n_threads,
                .first = w->first_ref,
                .n = s->n_fd_refs - w->first_ref,
        };
        return 0;
}

/* With a record, one statx() per fd gives its device and mount, and only
 * one on nsfs (a namespace file) is read as a link; without, one readlink()
 * per fd. */
static int visit_fd(int fd_dir, const char *name, void *userdata)
{
        proc_walk *w = userdata;
        struct statx sx;
        dev_t devnum;
        ino_t ino;
        int r;

        if (name[0] < '0' || name[0] > '9')
                return 0;
        if (w->record) {
                if (statx(fd_dir, name, AT_STATX_DONT_SYNC, w->id_mask, &sx) < 0) {
                        /* ENOENT: closed meanwhile, nothing missed */
                        w->record_ok &= errno == ENOENT;
                        return 0;
                }
                devnum = makedev(sx.stx_dev_major, sx.stx_dev_minor);
                r = keep_ref(w, devnum, (sx.stx_mask & w->id_mask) ? sx.stx_mnt_id : 0);
                if (r < 0 || (w->nsfs_dev != 0 && devnum != w->nsfs_dev))
                        return r;
        }
        if (!w->fd_fn || mntns_read_ns_link(fd_dir, name, &ino) < 0)
                return 0;
        return w->fd_fn(w->pid, w->fd_tid, atoi(name), ino, w->userdata);
}

/* The fd table at PATH in DIR_FD: one open, one getdents64() (into a
 * buffer of our own: no fstat() and fcntl() of fdopendir()) and one
 * readlink() per fd. A process gone meanwhile is no error. */
static int walk_fd_dir(proc_walk *w, int dir_fd, const char *path, pid_t fd_tid)
{
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0) {
                if (w->unreadable && fd_tid == 0 && (errno == EACCES || errno == EPERM))
                        (*w->unreadable)++;
                /* a thread that ended meanwhile left nothing unread */
                w->record_ok &= fd_tid != 0 && errno == ENOENT;
                return errno == ENOMEM || errno == EMFILE || errno == ENFILE ? -errno : 0;
        }
        w->fd_tid = fd_tid;
        r = procfs_each_entry(fd, visit_fd, w);
        w->record_ok &= r >= 0;
        return r == -ENOENT || r == -ESRCH || r == -EACCES || r == -EPERM ? 0 : r;
}

/* One thread of a process with more. Listed (with its TID) when it is in a
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
                        r = w->ns_fn(w->proc_fd, w->pid, tid, ino, 0, w->userdata);
                }
        }
        if (r < 0 || (!w->fd_fn && !w->record) || procfs_shares(w->pid, tid, KCMP_FILES))
                return r;
        snprintf(path, sizeof(path), "%d/fd", (int)tid);
        return walk_fd_dir(w, task_fd, path, tid);
}

static int visit_threads(proc_walk *w)
{
        _cleanup_close_ int task_fd = -EBADF;
        char path[32];
        int r;

        snprintf(path, sizeof(path), "%d/task", (int)w->pid);
        task_fd = openat(w->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        w->record_ok &= task_fd >= 0;
        if (task_fd < 0)
                return errno == ENOMEM || errno == EMFILE || errno == ENFILE ? -errno : 0;
        r = procfs_each_entry(task_fd, visit_thread, w);
        w->record_ok &= r >= 0;
        return r == -ENOENT || r == -ESRCH || r == -EACCES || r == -EPERM ? 0 : r;
}

/* The process, its fds, then its other threads: for a process with one
 * thread, one readlink(), one statx() and the fd table. */
static int visit_pid(proc_walk *w, pid_t pid)
{
        bool fds = (w->fd_fn || w->record) && pid != w->self;
        char path[32];
        int r = 0, n, threads;

        w->pid = pid;
        w->base_ino = 0;
        if (w->ns_fn) {
                snprintf(path, sizeof(path), "%d/ns/mnt", (int)pid);
                r = mntns_read_ns_link(w->proc_fd, path, &w->base_ino);
                /* A leader that exited leaves no link (ENOENT) while the
                 * rest of its threads live on: they are looked at below. */
                if (r != -ENOENT) {
                        n = w->ns_fn(w->proc_fd, pid, 0, w->base_ino, r, w->userdata);
                        if (n < 0 || r < 0)
                                return n;
                }
        }
        if (w->record) {
                w->first_ref = w->record->n_fd_refs;
                w->compact_at = w->first_ref + 256;
                w->record_ok = fds;
        }
        if (fds) {
                snprintf(path, sizeof(path), "%d/fd", (int)pid);
                n = walk_fd_dir(w, w->proc_fd, path, 0);
                if (n < 0)
                        return n;
        }
        snprintf(path, sizeof(path), "%d/task", (int)pid);
        threads = procfs_nr_threads(w->proc_fd, path);
        n = threads == 1 || threads == -ENOENT || threads == -ESRCH ? 0 : visit_threads(w);
        /* no thread alive to stand for it: gone */
        if (n >= 0 && r < 0 && w->base_ino == 0)
                n = w->ns_fn(w->proc_fd, pid, 0, 0, r, w->userdata);
        if (n >= 0 && w->record)
                n = end_record(w, threads);
        return n;
}

static int cmp_record(const void *a, const void *b)
{
        const mntns_fd_record *x = a, *y = b;

        return (x->pid > y->pid) - (x->pid < y->pid);
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
        /* /proc lists processes by pid already; this only makes sure */
        for (size_t i = 1; w->record && i < w->record->n_fd_records; i++)
                if (w->record->fd_records[i - 1].pid >= w->record->fd_records[i].pid) {
                        qsort(w->record->fd_records, w->record->n_fd_records,
                              sizeof(mntns_fd_record), cmp_record);
                        break;
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

int mntns_walk_procs(pid_ns_fn ns_fn, mnt_fd_fn fd_fn, void *userdata, mntns_set *record,
                     bool unique_ids)
{
        proc_walk w = {
                .ns_fn = ns_fn,
                .fd_fn = fd_fn,
                .userdata = userdata,
                .record = record,
                .id_mask = unique_ids ? STATX_MNT_ID_UNIQUE : STATX_MNT_ID,
        };
        struct stat st;

        /* Every namespace file is on the one nsfs superblock. */
        if (record && stat("/proc/self/ns/mnt", &st) == 0)
                w.nsfs_dev = st.st_dev;
        return walk_procs(&w);
}

bool mntns_fd_record_find(const mntns_set *s, pid_t pid, const mntns_fd_ref **ret_refs, size_t *ret_n,
                     unsigned *ret_threads)
{
        size_t a = 0, b = s->n_fd_records;

        while (a < b) {
                size_t mid = a + (b - a) / 2;
                if (s->fd_records[mid].pid < pid)
                        a = mid + 1;
                else
                        b = mid;
        }
        if (a == s->n_fd_records || s->fd_records[a].pid != pid)
                return false;
        *ret_refs = s->fd_refs + s->fd_records[a].first;
        *ret_n = s->fd_records[a].n;
        *ret_threads = s->fd_records[a].n_threads;
        return true;
}

struct fd_pins {
        ino_t ino;
        char **pins;
        size_t n;
};

static int collect_fd_pin(pid_t pid, pid_t tid, int fd, ino_t ino, void *userdata)
{
        struct fd_pins *fp = userdata;
        char *s;
        int n;

        if (ino != fp->ino)
                return 0;
        n = tid ? asprintf(&s, "fd:%d:%d (thread %d)", (int)pid, fd, (int)tid)
                : asprintf(&s, "fd:%d:%d", (int)pid, fd);
        if (n < 0)
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

static int map_one_process(int proc_fd _unused_, pid_t pid, pid_t tid, ino_t ino, int link_error,
                           void *userdata)
{
        struct pid_map_ctx *ctx = userdata;

        if (link_error == -EACCES || link_error == -EPERM)
                ctx->unreadable++;
        if (link_error < 0)
                return 0; /* gone meanwhile (ENOENT, ESRCH), or a zombie */
        return mntns_remember_pid(&ctx->set, pid, tid, ino);
}

int mntns_pid_map(pid_t **ret_pids, pid_t **ret_tids, ino_t **ret_inos, size_t *ret_n,
                  unsigned *ret_unreadable)
{
        struct pid_map_ctx ctx = { 0 };
        int r = mntns_for_each_pid_ns(map_one_process, &ctx);

        if (r < 0) {
                mntns_set_done(&ctx.set);
                return r;
        }
        *ret_pids = TAKE_PTR(ctx.set.pids);
        *ret_tids = TAKE_PTR(ctx.set.tids);
        *ret_inos = TAKE_PTR(ctx.set.pid_ns);
        *ret_n = ctx.set.n_pids;
        *ret_unreadable = ctx.unreadable;
        return 0;
}
