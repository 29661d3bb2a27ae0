/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ns.c: see ns.h. */
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include "ns.h"
#include "util.h"

int ns_in_pid1_mnt(void)
{
        struct stat self, init;

        if (stat("/proc/self/ns/mnt", &self) < 0 || stat("/proc/1/ns/mnt", &init) < 0)
                return negative_errno();
        return self.st_dev == init.st_dev && self.st_ino == init.st_ino;
}

int ns_enter_pid1_mnt(void)
{
        _cleanup_close_ int fd = -EBADF;
        int r = ns_in_pid1_mnt();

        if (r != 0)
                return r < 0 ? r : 0;
        fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* setns() also moves our root and cwd to the new namespace's root,
         * which is what we want: a cwd inside the overlay would hold it. */
        if (setns(fd, CLONE_NEWNS) < 0)
                return negative_errno();
        return 1;
}
