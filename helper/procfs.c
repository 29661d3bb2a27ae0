/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* procfs.c: see procfs.h. */
#include <dirent.h>
#include <fcntl.h>

#include "procfs.h"
#include "util.h"

#define PF_KTHREAD 0x00200000U

/* A thread that unshared its fs (CLONE_FS) has a cwd and root of its own,
 * and /proc/PID/cwd shows only the leader's (or nothing, once the leader
 * has exited): each other thread's task dir goes to FN. */
int procfs_each_thread(int procfd, pid_t pid, int (*fn)(int task_fd, pid_t tid, void *ud), void *ud)
{
        int task_fd = openat(procfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_(closedirp) DIR *dir = task_fd >= 0 ? fdopendir(task_fd) : NULL;
        struct dirent *de;
        int r = 0;

        if (!dir) {
                if (task_fd >= 0)
                        close(task_fd);
                return 0; /* gone, or not ours to read: the leader's parts say so */
        }
        while (r >= 0 && (de = readdir(dir))) {
                pid_t tid = (pid_t)strtol(de->d_name, NULL, 10);
                _cleanup_close_ int fd = -EBADF;

                if (tid <= 0 || tid == pid)
                        continue;
                fd = openat(dirfd(dir), de->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0)
                        r = fn(fd, tid, ud);
        }
        return r;
}

/* A kernel thread has no exe either, but so has a zombie: the PF_KTHREAD bit
 * in the flags field of /proc/PID/stat (the 9th) is the certain sign. */
bool pid_is_kernel_thread(pid_t pid)
{
        _cleanup_close_ int fd = -EBADF;
        char path[32], buf[1024], *p;
        unsigned long flags;
        ssize_t n;

        if (pid <= 0)
                return false;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        /* comm may hold spaces and ')': fields start after the last ')'. */
        p = strrchr(buf, ')');
        if (!p)
                return false;
        p++;
        /* state, ppid, pgrp, session, tty_nr, tpgid, then flags */
        for (int i = 0; i < 6; i++) {
                p += strspn(p, " ");
                p += strcspn(p, " ");
        }
        errno = 0;
        flags = strtoul(p, NULL, 10);
        return errno == 0 && (flags & PF_KTHREAD);
}
