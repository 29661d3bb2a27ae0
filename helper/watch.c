/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* watch.c: see watch.h. */
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>

#include "util.h"
#include "watch.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* pidfds beyond this many add little: any exit among them rescans anyway. */
#define WATCH_MAX_FDS 256

int watch_wait(const probe_result *r, double max_sec)
{
        struct pollfd fds[WATCH_MAX_FDS];
        size_t n = 0;
        int timeout_ms = max_sec <= 0 ? 0 : max_sec > 86400 ? 86400000 : (int)(max_sec * 1000 + 0.5);
        int k;

        /* mountinfo: POLLPRI|POLLERR after any change to the table */
        fds[n].fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        if (fds[n].fd >= 0)
                fds[n++].events = POLLPRI;
        for (size_t i = 0; r && i < r->n_copies && n < WATCH_MAX_FDS; i++)
                for (size_t j = 0; j < r->copies[i].n_processes && n < WATCH_MAX_FDS; j++) {
                        int fd = (int)syscall(SYS_pidfd_open, r->copies[i].processes[j].pid, 0);
                        if (fd < 0)
                                continue; /* gone already: the next scan sees it */
                        fds[n].fd = fd;
                        fds[n++].events = POLLIN;
                }
        /* a namespace kept only by an open fd ends when that process does */
        for (size_t i = 0; r && i < r->n_copies && n < WATCH_MAX_FDS; i++)
                for (char **p = r->copies[i].pinned_by; p && *p && n < WATCH_MAX_FDS; p++) {
                        int pid, fd;
                        if (sscanf(*p, "fd:%d:", &pid) != 1 || pid <= 0)
                                continue;
                        fd = (int)syscall(SYS_pidfd_open, pid, 0);
                        if (fd < 0)
                                continue;
                        fds[n].fd = fd;
                        fds[n++].events = POLLIN;
                }
        k = poll(fds, n, timeout_ms);
        if (k < 0)
                k = errno == EINTR ? 1 : negative_errno();
        for (size_t i = 0; i < n; i++)
                close(fds[i].fd);
        return k > 0 ? 1 : k;
}
