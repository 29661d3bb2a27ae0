/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holders.c: see holders.h.
 *
 * Everything is read through one fd on /proc/PID: once the process is reaped,
 * lookups through that fd fail with ENOENT rather than reaching a new process
 * that reused the PID mid-scan. Each part (cwd, root, exe, fd table, maps) is
 * judged on its own: a part we may not read or that vanished is counted, not
 * fatal, so a partly readable process still yields what was found. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "dlib.h"
#include "holders.h"
#include "holders_internal.h"
#include "procfs.h"
#include "kapi.h"
#include "env.h"
#include "fallback.h"
#include "util.h"




void holder_done(holder *h)
{
        if (!h)
                return;
        free(h->comm);
        free(h->unit);
        for (size_t i = 0; i < h->n_refs; i++)
                free(h->refs[i]);
        free(h->refs);
        *h = (holder){ .pid = h->pid };
}

/* Takes REF (NULL means its allocation failed); keeps refs NULL-terminated. */
static int refs_add(scan *s, char *ref)
{
        holder *h = s->h;

        if (!ref)
                return -ENOMEM;
        if (h->n_refs + 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                char **v = realloc(h->refs, cap * sizeof(char *));

                if (!v) {
                        free(ref);
                        return -ENOMEM;
                }
                h->refs = v;
                s->cap = cap;
        }
        h->refs[h->n_refs++] = ref;
        h->refs[h->n_refs] = NULL;
        return 0;
}

/* Folds one part's result into the scan; only real failures (ENOMEM, EIO)
 * remain. */
int holders_part_done(scan *s, int r)
{
        if (r >= 0)
                s->n_read++;
        else if (r == -EACCES || r == -EPERM)
                s->n_denied++;
        else if (r == -ENOENT || r == -ESRCH)
                s->maybe_gone = true;
        else if (r == -ENOMEM)
                return r;
        else
                s->n_denied++; /* ENOTCONN, ESTALE, EIO...: this part is unreadable, not fatal */
        return 0;
}

/* Whether the magic link NAME in DIRFD leads onto the target. statx() follows
 * it to the very file the process holds, so a path that means something else
 * in our namespace, or nothing, does not matter; the mount id comes in the
 * same call. Returns: 1 on target, 0 not, -errno. */
static int on_target(int dirfd, const char *name, const holder_target *t)
{
        unsigned id_mask = t->unique_ids ? STATX_MNT_ID_UNIQUE : STATX_MNT_ID;
        struct statx sx;

        /* DONT_SYNC: the device and mount id need no fresh attributes, and
         * a dead FUSE or NFS server must not stall or fail the scan. */
        if (statx(dirfd, name, AT_STATX_DONT_SYNC, t->n_mnt_ids > 0 ? id_mask : 0, &sx) < 0)
                return negative_errno();
        if (makedev(sx.stx_dev_major, sx.stx_dev_minor) == t->devnum)
                return 1;
        if (!(sx.stx_mask & id_mask))
                return 0;
        for (size_t i = 0; i < t->n_mnt_ids; i++)
                if (sx.stx_mnt_id == t->mnt_ids[i])
                        return 1;
        return 0;
}

static int link_ref(scan *s, int procfd, const char *name)
{
        int r = on_target(procfd, name, s->target);

        if (r <= 0)
                return r;
        return refs_add(s, strdup(name));
}

static bool has_ref(const scan *s, const char *ref)
{
        for (size_t i = 0; i < s->h->n_refs; i++)
                if (streq(s->h->refs[i], ref))
                        return true;
        return false;
}

/* One open fd: "fd:N:PATH" when on target, "thread:TID:fd:N:PATH" in a
 * thread's own table (PREFIX "thread:TID:"), unless the process's table
 * showed the very same (where kcmp() could not tell them apart). An fd
 * closed between the listing and here is simply not held any more. */
static int fd_ref(scan *s, int fddir, const char *name, const char *prefix)
{
        ssize_t n;
        char *ref;
        int r;

        r = on_target(fddir, name, s->target);
        if (r == -ENOENT) {
                s->maybe_gone = true;
                return 0;
        }
        if (r <= 0)
                return r;
        n = readlinkat(fddir, name, s->path, sizeof(s->path) - 1);
        if (n < 0 && errno == ENOENT)
                return 0;
        /* Held for sure; a path we cannot read must not hide that. */
        if (n < 0)
                n = stpcpy(s->path, "?") - s->path;
        s->path[n] = '\0';
        if (asprintf(&ref, "%sfd:%s:%s", prefix, name, s->path) < 0)
                return -ENOMEM;
        if (*prefix && has_ref(s, ref + strlen(prefix))) {
                free(ref);
                return 0;
        }
        return refs_add(s, ref);
}

struct fd_scan {
        scan *s;
        const char *prefix;
};

static int one_fd(int fddir, const char *name, void *userdata)
{
        const struct fd_scan *f = userdata;

        return fd_ref(f->s, fddir, name, f->prefix);
}

/* getdents64() on a buffer of our own (procfs_each_entry): no DIR
 * allocation per process, and a table of thousands of fds comes in a few
 * calls. */
static int scan_fds(scan *s, int dirfd, const char *prefix)
{
        _cleanup_close_ int fddir = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct fd_scan f = { .s = s, .prefix = prefix };

        if (fddir < 0)
                return negative_errno();
        return procfs_each_entry(fddir, one_fd, &f);
}

/* The run of segments of one file (procfs_map_run) and whether it is ON the
 * target as map_files tells. */
typedef struct map_run {
        procfs_map_run segments;
        bool on;
        bool refused;   /* a link we may not read (no CAP_SYS_ADMIN) */
} map_run;

/* Whether the mapping M is on the target. Before 6.8 the line shows an
 * overlay file by its layer's device, and only the link in map_files leads
 * to the overlay's own file (on its mount: with xino=off and layers on two
 * filesystems its device is a per-layer one): asked once per run of
 * segments of one file. */
static bool map_on(int procfd, const procfs_map *m, const holder_target *t, map_run *run)
{
        char name[64];
        int r;

        if (m->devnum == t->devnum)
                return true;
        if (!procfs_map_needs_link(m))
                return false;
        if (procfs_map_run_starts(&run->segments, m)) {
                procfs_map_file_name(m, name, sizeof(name));
                r = on_target(procfd, name, t);
                run->on = r == 1;
                run->refused |= r == -EACCES || r == -EPERM;
        }
        return run->on;
}

static bool mmap_seen(const scan *s, size_t first, const char *path)
{
        /* From the newest: a file's segments are adjacent in maps. */
        for (size_t i = s->h->n_refs; i > first; i--)
                if (streq(s->h->refs[i - 1] + strlen("mmap:"), path))
                        return true;
        return false;
}

static int add_mmap(scan *s, size_t first, const char *path)
{
        char *ref;

        if (mmap_seen(s, first, path))
                return 0;
        if (asprintf(&ref, "mmap:%s", path) < 0)
                return -ENOMEM;
        return refs_add(s, ref);
}

/* PROCMAP_QUERY hands over each file-backed mapping's device without making
 * the kernel print every path, as the text of maps does (measured: 26 against
 * 39 us for a process with 28 mappings); the path is fetched on a match only.
 * Returns: 0, -ENOTTY where the kernel lacks it, other -errno. */
static int maps_query(scan *s, int fd, size_t first)
{
        const dev_t devnum = s->target->devnum;
        uint64_t addr = 0, last_inode = 0;
        struct oh_procmap_query q;

        for (;;) {
                q = (struct oh_procmap_query){
                        .size = sizeof(q),
                        .query_flags = OH_PROCMAP_QUERY_COVERING_OR_NEXT_VMA |
                                       OH_PROCMAP_QUERY_FILE_BACKED_VMA,
                        .query_addr = addr,
                };
                if (ioctl(fd, OH_PROCMAP_QUERY, &q) < 0)
                        /* ENOENT: past the last mapping; ESRCH: no mm (a
                         * kernel thread, or exiting), so nothing mapped. */
                        return errno == ENOENT || errno == ESRCH ? 0 : negative_errno();
                addr = q.vma_end;
                if (q.dev_major != major(devnum) || q.dev_minor != minor(devnum) ||
                    q.inode == last_inode)
                        continue;
                last_inode = q.inode;
                q.query_flags = 0;
                q.query_addr = q.vma_start;
                q.vma_name_size = sizeof(s->path);
                q.vma_name_addr = (uintptr_t)s->path;
                s->path[0] = '\0';
                if (ioctl(fd, OH_PROCMAP_QUERY, &q) < 0 && errno == ESRCH)
                        return 0;
                if (q.vma_name_size == 0 || !s->path[0])
                        strcpy(s->path, "?");   /* mapped for sure, path unknown */
                if (add_mmap(s, first, s->path) < 0)
                        return -ENOMEM;
        }
}

/* Takes FD. */
static int maps_text(scan *s, int fd, size_t first)
{
        _cleanup_close_ int owned = fd;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char buf[64 * 1024];
        procfs_map m;
        map_run run = { 0 };
        size_t size = 0;

        f = fdopen(owned, "re");
        if (!f)
                return negative_errno();
        TAKE_FD(owned);
        /* Bigger than stdio's 4 KiB: each read() makes the kernel walk the
         * mappings again from where it stopped. */
        (void)setvbuf(f, buf, _IOFBF, sizeof(buf));
        while (getline(&line, &size, f) > 0)
                if (procfs_parse_map(line, &m) == 0 && m.path &&
                    map_on(s->base_fd, &m, s->target, &run) && add_mmap(s, first, m.path) < 0)
                        return -ENOMEM;
        return ferror(f) ? negative_errno() : run.refused ? -EACCES : 0;
}

/* Whether PROCMAP_QUERY works on a maps file of our own: an EPERM from it
 * on another process's (opened, so ptrace access was granted) can only be a
 * seccomp filter or an LSM, which would refuse ours as well. */
bool holders_procmap_refused(void)
{
        _cleanup_close_ int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
        struct oh_procmap_query q = {
                .size = sizeof(q),
                .query_flags = OH_PROCMAP_QUERY_COVERING_OR_NEXT_VMA,
        };

        return fd < 0 || (ioctl(fd, OH_PROCMAP_QUERY, &q) < 0 && errno != ENOENT);
}

static int scan_maps(scan *s, int procfd)
{
        static int use_query = -1;
        _cleanup_close_ int fd = openat(procfd, "maps", O_RDONLY | O_CLOEXEC);
        size_t first = s->h->n_refs;
        int r;

        if (fd < 0)
                return negative_errno();
        if (use_query < 0) {
                use_query = !env_flag(ENV_NO_PROCMAP_QUERY);
                if (!use_query)
                        fallback_note("PROCMAP_QUERY", 0);
        }
        if (use_query) {
                r = maps_query(s, fd, first);
                if (r != -ENOTTY && r != -EINVAL && r != -ENOSYS && r != -EOPNOTSUPP &&
                    r != -EPERM)
                        return r;
                /* The text answers for this process whatever the reason;
                 * only the kernel's or a filter's refusal is for good. */
                if (r != -EPERM || holders_procmap_refused()) {
                        fallback_note("PROCMAP_QUERY", r);
                        use_query = 0;
                }
        }
        return maps_text(s, TAKE_FD(fd), first);
}

/* A thread on its own: its name, and the process it belongs to, from its
 * status ("Name:" first, "Tgid:" a few lines on). */
static int read_status(int procfd, char **ret_comm, pid_t *ret_tgid)
{
        _cleanup_close_ int fd = openat(procfd, "status", O_RDONLY | O_CLOEXEC);
        char buf[1024], *p;
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        p = strstr(buf, "\nTgid:");
        if (strncmp(buf, "Name:", 5) != 0 || !p)
                return -EINVAL;
        *ret_tgid = (pid_t)strtol(p + 6, NULL, 10);
        p = buf + 5 + strspn(buf + 5, " \t");
        p[strcspn(p, "\n")] = '\0';
        *ret_comm = strdup(p);
        return *ret_comm ? 0 : -ENOMEM;
}

static int read_comm(int procfd, char **ret)
{
        _cleanup_close_ int fd = openat(procfd, "comm", O_RDONLY | O_CLOEXEC);
        char buf[128];  /* TASK_COMM_LEN is 16, but workqueue names run longer */
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/* Any failure (no libsystemd, not in a unit, gone) just means no unit. */
static char *read_unit(pid_t pid)
{
        const sd_syms *sd;
        char *unit = NULL;

        if (dlib_systemd(&sd) < 0 || sd->pid_get_unit(pid, &unit) < 0)
                return NULL;
        return unit;
}

/* A zombie still has /proc/PID/stat; a reaped process does not. */
bool holders_proc_alive(int procfd)
{
        _cleanup_close_ int fd = openat(procfd, "stat", O_RDONLY | O_CLOEXEC);

        return fd >= 0 || (errno != ENOENT && errno != ESRCH);
}

/* PID, or -TID: /proc/TID is that thread's view. */
int holders_open_proc(pid_t pid)
{
        char path[32];
        int fd;

        if (pid == 0 || pid == INT_MIN)
                return -EINVAL;
        snprintf(path, sizeof(path), "/proc/%d", (int)(pid < 0 ? -pid : pid));
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : negative_errno();
        return fd;
}

/* Whether the thread at TASK_FD is in another mount namespace than BASE,
 * where it is listed, and inspected, on its own. */
/* The inode of "mnt:[INO]" at DIR_FD's ns/mnt, or 0 if it cannot be read. */
static ino_t ns_mnt_ino(int dir_fd)
{
        char link[64];
        ssize_t n = readlinkat(dir_fd, "ns/mnt", link, sizeof(link) - 1);

        if (n <= 0)
                return 0;
        link[n] = '\0';
        return strncmp(link, "mnt:[", 5) == 0 ? (ino_t)strtoull(link + 5, NULL, 10) : 0;
}

static bool thread_elsewhere(scan *s, int task_fd)
{
        ino_t ino;

        if (!s->base_ns_read) {
                s->base_ns = ns_mnt_ino(s->base_fd);
                s->base_ns_read = true;
        }
        ino = ns_mnt_ino(task_fd);
        /* cannot tell: look */
        return s->base_ns != 0 && ino != 0 && ino != s->base_ns;
}

/* Another thread: its cwd and root where its fs is its own (those of a
 * thread in another namespace are left to its own entry), its fds where its
 * table is, wherever the thread is: an fd is on a mount, in no namespace. */
static int thread_refs(int task_fd, pid_t tid, void *ud)
{
        static const char *const links[] = { "cwd", "root" };
        scan *s = ud;
        char prefix[32];
        int r;

        snprintf(prefix, sizeof(prefix), "thread:%d:", (int)tid);
        if (!procfs_shares(s->base, tid, KCMP_FS) && !thread_elsewhere(s, task_fd)) {
                for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                        char *ref = NULL;
                        r = on_target(task_fd, links[i], s->target);
                        if (r <= 0)
                                continue; /* a thread that ends meanwhile holds nothing */
                        if (asprintf(&ref, "%s%s", prefix, links[i]) < 0)
                                return -ENOMEM;
                        r = refs_add(s, ref);
                        if (r < 0)
                                return r;
                }
        }
        if (procfs_shares(s->base, tid, KCMP_FILES))
                return 0;
        r = scan_fds(s, task_fd, prefix);
        return r == -ENOMEM ? r : 0;
}

static int scan_parts(scan *s, int procfd)
{
        static const char *const links[] = { "cwd", "root", "exe" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                r = holders_part_done(s, link_ref(s, procfd, links[i]));
                if (r < 0)
                        return r;
        }
        r = holders_part_done(s, scan_fds(s, procfd, ""));
        if (r < 0)
                return r;
        r = procfs_each_thread(procfd, s->base, thread_refs, s);
        if (r < 0)
                return r;
        return holders_part_done(s, scan_maps(s, procfd));
}

int holder_inspect_target(pid_t pid, const holder_target *target, holder *ret)
{
        _cleanup_(holder_done) holder h = { .pid = pid };
        _cleanup_close_ int procfd = -EBADF;
        scan s = { .target = target, .h = &h, .base = pid < 0 ? -pid : pid };
        int r;

        procfd = holders_open_proc(pid);
        if (procfd < 0)
                return procfd;
        s.base_fd = procfd;
        if (pid < 0) {
                h.tid = -pid;
                r = read_status(procfd, &h.comm, &h.pid);
        } else
                r = read_comm(procfd, &h.comm);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        r = scan_parts(&s, procfd);
        if (r < 0)
                return r;
        if (s.maybe_gone && !holders_proc_alive(procfd))
                return -ESRCH;
        if (s.n_read == 0 && s.n_denied > 0)
                return -EACCES;
        if (!target->unit_if_held || h.n_refs > 0)
                h.unit = read_unit(h.pid);
        if (!h.refs) {
                h.refs = calloc(1, sizeof(char *));
                if (!h.refs)
                        return -ENOMEM;
        }
        *ret = h;
        h = (holder){};
        return 0;
}

int holder_inspect(pid_t pid, dev_t devnum, holder *ret)
{
        const holder_target target = { .devnum = devnum };

        return holder_inspect_target(pid, &target, ret);
}
