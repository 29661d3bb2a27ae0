/* holders.h: what a process holds inside a filesystem.
 *
 * Promises: holder_refs() tells which of a process's cwd, root, exe, open fds
 * and memory maps are on the superblock DEVNUM (the stat() of each magic
 * link, so it answers the same from any namespace), as strings "cwd", "root",
 * "exe", "fd:N:PATH", "mmap:PATH". A process that exits mid-scan, or one we
 * may not inspect, is reported as -ESRCH/-EACCES, never as an error to log. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

typedef struct holder {
        pid_t pid;
        char *comm;
        char *unit;     /* systemd unit (sd_pid_get_unit), or NULL */
        char **refs;    /* NULL-terminated */
        size_t n_refs;
} holder;

/* Returns: 0 and *ret filled (refs may be empty), -ESRCH if PID is gone,
 * -EACCES if we may not look, other -errno. */
int holder_inspect(pid_t pid, dev_t devnum, holder *ret);
void holder_done(holder *h);

/* Returns: true if the process PID is a kernel thread (no mm, no exe). */
bool pid_is_kernel_thread(pid_t pid);
