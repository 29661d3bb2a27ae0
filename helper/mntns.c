/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns.c: see mntns.h. The choice between the ways of scanning and the
 * walk of the kernel's namespace list live here, the /proc ways in
 * mntns_proc.c, and what both share (the set's bookkeeping, table reading
 * with listmount()/statmount()) in mntns_table.c, below both. *
 * Three ways, cheapest first (mntns_scan): the kernel's list (6.12, only
 * from the initial PID namespace), /proc with tables by namespace id
 * (6.11), /proc with mountinfo. used_statmount tells a caller that every
 * mnt_id is a unique 64-bit id it may compare with statx()'s.
 *
 * some_pid stays 0 on the walk: the kernel names no process for a
 * namespace, and finding one means reading every /proc/PID/ns/mnt, the very
 * cost the walk exists to avoid. Callers that need processes take them from
 * mntns_pid_map() once, for all namespaces. The /proc ways fill it. */
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "fallback.h"
#include "kapi.h"
#include "mntns.h"
#include "mntns_proc.h"
#include "mounttab.h"
#include "util.h"

/* Without CAP_SYS_ADMIN the walk refuses (6.18) or skips every namespace
 * but ours (6.12), and listmount() of another namespace fails: mountinfo of
 * the processes we may look at is then all there is to read. */
static bool have_cap_sys_admin(void)
{
        struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = {};

        if (syscall(SYS_capget, &head, data) < 0)
                return false;
        return data[CAP_SYS_ADMIN / 32].effective & (1U << (CAP_SYS_ADMIN % 32));
}

/* What the walk's ioctls fail with where the kernel lacks them (ENOTTY,
 * ENOSYS, EINVAL before 6.12), where a seccomp filter refuses ioctl()
 * (EPERM), or where the walk is not ours to take (EPERM, EACCES: see
 * ns_step): then the /proc way must answer. */
static bool walk_refused(int e)
{
        return e == ENOTTY || e == ENOSYS || e == EINVAL || e == E2BIG || e == EOPNOTSUPP ||
               e == EPERM || e == EACCES;
}

/* Moves *FD to the namespace before or after it in the kernel's list; each
 * step returns a new fd (and fills INFO) rather than changing the old one.
 * 6.18 refuses the walk (EPERM) to a caller outside the initial PID
 * namespace, even with every capability: containers, PrivatePIDs=, and
 * our own unit tests take the /proc path then.
 * Returns: 1 moved, 0 at the end (ENOENT), -ENOSYS to fall back, -errno. */
static int ns_step(int *fd, unsigned long request, struct oh_mnt_ns_info *info)
{
        int next = ioctl(*fd, request, info);

        if (next < 0 && errno == ENOENT)
                return 0;
        if (next < 0 && walk_refused(errno)) {
                fallback_note(request == OH_NS_MNT_GET_NEXT ? "NS_MNT_GET_NEXT" : "NS_MNT_GET_PREV",
                              errno);
                return -ENOSYS;
        }
        if (next < 0)
                return negative_errno();
        close(*fd);
        *fd = next;
        return 1;
}

/* Every namespace from the kernel's own list, so its cost does not depend
 * on the number of processes. Returns: 0, -ENOSYS to fall back, -errno. */
static int scan_walk(mntns_builder *b)
{
        struct oh_mnt_ns_info info = { .size = OH_MNT_NS_INFO_SIZE_VER0 };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (ioctl(fd, OH_NS_MNT_GET_INFO, &info) < 0) {
                if (!walk_refused(errno))
                        return negative_errno();
                fallback_note("NS_MNT_GET_INFO", errno);
                return -ENOSYS;
        }
        while ((r = ns_step(&fd, OH_NS_MNT_GET_PREV, &info)) > 0)
                ;
        if (r < 0)
                return r;
        do {
                if (fstat(fd, &st) < 0)
                        return negative_errno();
                r = mntns_read_table(b, st.st_ino, info.mnt_ns_id, 0);
                if (r < 0)
                        return r;
        } while ((r = ns_step(&fd, OH_NS_MNT_GET_NEXT, &info)) > 0);
        return r;
}

/* Tries the cheapest way first: the kernel's namespace list, then /proc
 * with tables by namespace id, then /proc with mountinfo. Without
 * CAP_SYS_ADMIN only the last can read anything beyond our own namespace. */
int mntns_scan(mount_filter filter, void *userdata, mntns_set *ret)
{
        return mntns_scan_from(filter, userdata, 0, ret);
}

/* The ways that answered -ENOSYS once are not tried again in this run:
 * the kernel, a filter or our place in the PID namespaces will not change. */
static bool walk_refused_before, by_id_refused_before;

static bool may_read_by_id(void)
{
        if (!mounttab_have_listmount())
                return false;
        /* asked each time: capabilities may be dropped between scans */
        if (!have_cap_sys_admin()) {
                fallback_note("listmount of other namespaces (no CAP_SYS_ADMIN)", EPERM);
                return false;
        }
        return true;
}

int mntns_scan_from(mount_filter filter, void *userdata, uint64_t min_mnt_id, mntns_set *ret)
{
        return mntns_scan_prefiltered(filter, NULL, userdata, min_mnt_id, ret);
}

int mntns_scan_prefiltered(mount_filter filter, const mount_prefilter *pre, void *userdata,
                           uint64_t min_mnt_id, mntns_set *ret)
{
        mntns_builder b = { .filter = filter, .pre = filter ? pre : NULL, .userdata = userdata,
                            .min_mnt_id = min_mnt_id };
        struct stat st;
        int r = -ENOSYS;

        /* Without ptrace access to PID 1 (not root) its namespace is unknown;
         * an unprivileged probe then answers for its own (after the failed
         * setns(), that is where it is). */
        if (stat("/proc/1/ns/mnt", &st) == 0)
                b.init_ino = st.st_ino;
        else if (stat("/proc/self/ns/mnt", &st) == 0)
                b.init_ino = st.st_ino; /* not root: our own stands in for PID 1's */
        if (!by_id_refused_before && may_read_by_id()) {
                b.statmount = true;
                if (!walk_refused_before) {
                        r = scan_walk(&b);
                        walk_refused_before = r == -ENOSYS;
                }
                if (r == -ENOSYS) {
                        mntns_set_done(&b.set);
                        r = mntns_scan_proc(&b);
                        by_id_refused_before = r == -ENOSYS;
                }
        }
        if (r == -ENOSYS) {
                mntns_set_done(&b.set);
                b.statmount = false;
                r = mntns_scan_proc(&b);
        }
        mntns_builder_done(&b);
        if (r < 0) {
                mntns_set_done(&b.set);
                return r;
        }
        b.set.used_statmount = b.statmount;
        *ret = b.set;
        return 0;
}
