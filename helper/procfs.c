/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* procfs.c: see procfs.h. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "fallback.h"
#include "procfs.h"
#include "util.h"

#define PF_KTHREAD 0x00200000U

struct each_thread {
        pid_t base;
        int (*fn)(int task_fd, pid_t tid, void *ud);
        void *ud;
};

static int one_thread(int dir_fd, const char *name, void *userdata)
{
        const struct each_thread *e = userdata;
        pid_t tid = (pid_t)strtol(name, NULL, 10);
        _cleanup_close_ int fd = -EBADF;

        if (tid <= 0 || tid == e->base)
                return 0;
        fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? 0 : e->fn(fd, tid, e->ud);
}

int procfs_each_thread(int procfd, pid_t base, int (*fn)(int task_fd, pid_t tid, void *ud), void *ud)
{
        struct each_thread e = { .base = base, .fn = fn, .ud = ud };
        _cleanup_close_ int task_fd = -EBADF;
        int n = procfs_nr_threads(procfd, "task");

        if (n == 1 || n == -ENOENT || n == -ESRCH)
                return 0; /* alone, or gone: the leader's parts say so */
        task_fd = openat(procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (task_fd < 0)
                return 0; /* gone, or not ours to read */
        n = procfs_each_entry(task_fd, one_thread, &e);
        return n == -ENOMEM ? n : 0; /* FN's own failure, else a listing cut short by an exit */
}

bool procfs_shares(pid_t a, pid_t b, int kcmp_type)
{
        /* one cache for every caller; EPERM is per task (one we may not
         * ptrace), only a kernel without kcmp() says it for all */
        static bool no_kcmp;
        long r;

        if (no_kcmp)
                return false;
        r = syscall(SYS_kcmp, a, b, kcmp_type, 0UL, 0UL);
        if (r < 0 && errno == ENOSYS)
                no_kcmp = true;
        return r == 0;
}

int procfs_stat(pid_t pid, char *ret_state, unsigned long *ret_flags)
{
        _cleanup_close_ int fd = -EBADF;
        char path[32], buf[1024], *p;
        unsigned long flags;
        ssize_t n;

        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        /* comm may hold spaces and ')': fields start after the last ')'. */
        p = strrchr(buf, ')');
        if (!p || p[1] != ' ' || !p[2])
                return -EINVAL;
        if (ret_state)
                *ret_state = p[2];
        p += 2;
        /* state, ppid, pgrp, session, tty_nr, tpgid, then flags */
        for (int i = 0; i < 6; i++) {
                p += strcspn(p, " ");
                p += strspn(p, " ");
        }
        errno = 0;
        flags = strtoul(p, NULL, 10);
        if (errno != 0)
                return -EINVAL;
        if (ret_flags)
                *ret_flags = flags;
        return 0;
}

/* A kernel thread has no exe either, but so has a zombie: the PF_KTHREAD bit
 * in the flags field of /proc/PID/stat (the 9th) is the certain sign. */
bool pid_is_kernel_thread(pid_t pid)
{
        unsigned long flags = 0;

        return procfs_stat(pid, NULL, &flags) == 0 && (flags & PF_KTHREAD);
}

int procfs_parse_map(char *line, procfs_map *ret)
{
        unsigned maj, min;
        int path_at = 0;

        if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu %n", &ret->start, &ret->end, &maj, &min,
                   &ret->ino, &path_at) < 5)
                return -EINVAL;
        ret->devnum = makedev(maj, min);
        ret->path = NULL;
        if (path_at > 0 && line[path_at] != '\0') {
                line[path_at + strcspn(line + path_at, "\n")] = '\0';
                if (line[path_at] != '\0')
                        ret->path = line + path_at;
        }
        return 0;
}

bool procfs_maps_show_layer(void)
{
        static int cached = -1;
        struct utsname u;
        unsigned major, minor;

        if (cached < 0) {
                cached = uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
                         (major < 6 || (major == 6 && minor < 8));
                if (cached)
                        fallback_note("the overlay's own device in maps (6.8), map_files asked",
                                      EOPNOTSUPP);
        }
        return cached;
}

bool procfs_map_needs_link(const procfs_map *m)
{
        return m->path && m->ino != 0 && procfs_maps_show_layer();
}

bool procfs_map_run_starts(procfs_map_run *run, const procfs_map *m)
{
        bool starts = run->end != m->start || run->devnum != m->devnum || run->ino != m->ino;

        *run = (procfs_map_run){ .end = m->end, .devnum = m->devnum, .ino = m->ino };
        return starts;
}

void procfs_map_file_name(const procfs_map *m, char *buf, size_t size)
{
        snprintf(buf, size, "map_files/%lx-%lx", m->start, m->end);
}
