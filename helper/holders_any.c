/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holders_any.c: holder_inspect_any(), see holders.h. Each part of a process
 * (cwd, root, exe, fds, other threads' own cwd, root and fds, maps) is read
 * as holders.c reads it for one target, and handed to the caller's REF
 * without making any string. */
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "env.h"
#include "fallback.h"
#include "holders.h"
#include "holders_internal.h"
#include "kapi.h"
#include "mntns_table.h"
#include "procfs.h"
#include "util.h"

static int any_link(const holder_any *a, int dirfd, const char *name)
{
        unsigned id_mask = a->unique_ids ? STATX_MNT_ID_UNIQUE : STATX_MNT_ID;
        struct statx sx;

        if (statx(dirfd, name, AT_STATX_DONT_SYNC, a->want_mnt_ids ? id_mask : 0, &sx) < 0)
                return negative_errno();
        return a->ref(makedev(sx.stx_dev_major, sx.stx_dev_minor),
                      (sx.stx_mask & id_mask) ? sx.stx_mnt_id : 0, a->userdata);
}

struct any_scan {
        const holder_any *a;
        scan *s;
        pid_t base;
};

static int any_fd(int fddir, const char *name, void *userdata)
{
        const struct any_scan *x = userdata;
        int r = any_link(x->a, fddir, name);

        if (r == -ENOENT)
                x->s->maybe_gone = true; /* closed meanwhile */
        return r == -ENOENT ? 0 : r;
}

static int any_fds(struct any_scan *x, int procfd)
{
        _cleanup_close_ int fddir = openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fddir < 0)
                return negative_errno();
        return procfs_each_entry(fddir, any_fd, x);
}

static int any_maps_query(const holder_any *a, int fd)
{
        struct oh_procmap_query q = { .vma_end = 0 };
        int r;

        do {
                q = (struct oh_procmap_query){
                        .size = sizeof(q),
                        .query_flags = OH_PROCMAP_QUERY_COVERING_OR_NEXT_VMA |
                                       OH_PROCMAP_QUERY_FILE_BACKED_VMA,
                        .query_addr = q.vma_end,
                };
                if (ioctl(fd, OH_PROCMAP_QUERY, &q) < 0)
                        return errno == ENOENT || errno == ESRCH ? 0 : negative_errno();
                r = a->ref(makedev(q.dev_major, q.dev_minor), 0, a->userdata);
        } while (r >= 0);
        return r;
}

/* Each mapping's device, read as scan_maps() reads it. */
static int any_maps(const holder_any *a, int procfd)
{
        static int use_query = -1;
        _cleanup_close_ int fd = openat(procfd, "maps", O_RDONLY | O_CLOEXEC);
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        procfs_map_run run = { 0 };
        char name[64];
        bool refused = false;
        procfs_map m;
        size_t size = 0;
        int r = 0;

        if (fd < 0)
                return negative_errno();
        if (use_query < 0)
                use_query = !env_flag(ENV_NO_PROCMAP_QUERY);
        if (use_query) {
                r = any_maps_query(a, fd);
                if (r != -ENOTTY && r != -EINVAL && r != -ENOSYS && r != -EOPNOTSUPP && r != -EPERM)
                        return r;
                if (r != -EPERM || holders_procmap_refused()) {
                        fallback_note("PROCMAP_QUERY", r);
                        use_query = 0;
                }
        }
        f = fdopen(fd, "re");
        if (!f)
                return negative_errno();
        TAKE_FD(fd);
        for (r = 0; r >= 0 && getline(&line, &size, f) > 0;) {
                if (procfs_parse_map(line, &m) < 0)
                        continue;
                r = a->ref(m.devnum, 0, a->userdata);
                /* before 6.8 the line shows a layer's device (see map_on()) */
                if (r < 0 || !procfs_map_needs_link(&m))
                        continue;
                if (procfs_map_run_starts(&run, &m)) {
                        procfs_map_file_name(&m, name, sizeof(name));
                        r = any_link(a, procfd, name);
                        refused |= r == -EACCES || r == -EPERM;
                        r = r == -ENOMEM ? r : 0;
                }
        }
        return r < 0 ? r : ferror(f) ? negative_errno() : refused ? -EACCES : 0;
}

/* As thread_refs(): what REF is shown may be more than the thread holds
 * here (it may be in another namespace); holder_inspect_target() decides. */
static int thread_any(int task_fd, pid_t tid, void *ud)
{
        struct any_scan *x = ud;
        scan quiet = { 0 };
        struct any_scan tx = { .a = x->a, .s = &quiet };
        int r = 0;

        if (!procfs_shares(x->base, tid, KCMP_FS)) {
                r = any_link(x->a, task_fd, "cwd");
                if (r != -ENOMEM)
                        r = any_link(x->a, task_fd, "root");
        }
        if (r != -ENOMEM && !x->a->fds_known && !procfs_shares(x->base, tid, KCMP_FILES))
                r = any_fds(&tx, task_fd);
        return r == -ENOMEM ? r : 0;
}

/* The fd tables as the walk read them: no syscall. */
static int known_fds(const holder_any *a)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < a->n_fd_refs; i++)
                r = a->ref(a->fd_refs[i].devnum, a->want_mnt_ids ? a->fd_refs[i].mnt_id : 0,
                           a->userdata);
        return r;
}

int holder_inspect_any(pid_t pid, const holder_any *any)
{
        static const char *const links[] = { "cwd", "root", "exe" };
        _cleanup_close_ int procfd = holders_open_proc(pid);
        scan s = { 0 };
        struct any_scan x = { .a = any, .s = &s, .base = pid < 0 ? -pid : pid };
        int r = procfd < 0 ? procfd : 0;

        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(links); i++)
                r = holders_part_done(&s, any_link(any, procfd, links[i]));
        if (r >= 0)
                r = holders_part_done(&s, any->fds_known ? known_fds(any) : any_fds(&x, procfd));
        if (r >= 0 && !(any->fds_known && any->n_threads == 1))
                r = procfs_each_thread(procfd, x.base, thread_any, &x);
        if (r >= 0)
                r = holders_part_done(&s, any_maps(any, procfd));
        if (r >= 0 && s.maybe_gone && !holders_proc_alive(procfd))
                return -ESRCH;
        return r < 0 ? r : s.n_read == 0 && s.n_denied > 0 ? -EACCES : 0;
}
