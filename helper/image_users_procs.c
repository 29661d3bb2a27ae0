/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image_users_procs.c: the /proc walk of image_users_scan(): fds on a
 * device node (statx of each fd's magic link: its rdev), and writers of
 * the image (fdinfo's flags, shared writable maps). */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "image_users_internal.h"
#include "kapi.h"
#include "procfs.h"
#include "strv.h"

int iu_add_fmt(char ***v, const char *fmt, ...)
{
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        return n < 0 ? -ENOMEM : strv_add(v, s);
}

iu_dev *iu_find_dev(const iu_scan *s, dev_t devnum)
{
        for (size_t i = 0; devnum && i < s->n_devs; i++)
                if (s->devs[i].info.devnum == devnum)
                        return &s->devs[i];
        return NULL;
}

/* What could not be read of a process counts; one that is gone does not. */
int iu_unreadable(iu_scan *s, int r)
{
        if (r == -ENOMEM)
                return r;
        if (r != -ENOENT && r != -ESRCH)
                s->u->n_unreadable++;
        return 0;
}

/* The per-process part of the walk. */
typedef struct iu_proc {
        iu_scan *s;
        int procfd;
        pid_t pid;
        char comm[64];
} iu_proc;

/* fdinfo's "flags:" (octal): was fd NAME opened for writing? */
static bool fd_writes(int procfd, const char *name)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[64], line[256];
        unsigned long flags;
        int fd;

        snprintf(path, sizeof path, "fdinfo/%s", name);
        fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || !(f = fdopen(fd, "re"))) {
                if (fd >= 0)
                        close(fd);
                return false; /* closed meanwhile */
        }
        while (fgets(line, sizeof line, f))
                if (sscanf(line, "flags: %lo", &flags) == 1)
                        return (flags & O_ACCMODE) != O_RDONLY;
        return false;
}

static int one_fd(int fd_dir, const char *name, void *userdata)
{
        iu_proc *p = userdata;
        iu_scan *s = p->s;
        struct statx sx;
        iu_dev *d;

        /* statx() follows the magic link to what is open: the node's rdev */
        if (statx(fd_dir, name, AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, &sx) < 0)
                return 0; /* closed meanwhile */
        if (S_ISBLK(sx.stx_mode) &&
            (d = iu_find_dev(s, makedev(sx.stx_rdev_major, sx.stx_rdev_minor))) && d->asked) {
                if (s->n_asked == 1)
                        return iu_add_fmt(&s->u->users, "%d(%s) fd %s", (int)p->pid, p->comm, name);
                return iu_add_fmt(&s->u->users, "%d(%s) fd %s on /dev/loop%d", (int)p->pid, p->comm,
                               name, d->info.nr);
        }
        if (s->want_writers && S_ISREG(sx.stx_mode) && sx.stx_ino == s->q->image_ino &&
            makedev(sx.stx_dev_major, sx.stx_dev_minor) == s->q->image_dev &&
            fd_writes(p->procfd, name))
                return iu_add_fmt(&s->u->writers, "%d(%s) fd %s (write)", (int)p->pid, p->comm, name);
        return 0;
}

/* A shared writable mapping writes the file behind the device's back as
 * surely as write(2) does; one per process is enough to name it. */
static int scan_maps(iu_proc *p)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        int fd = openat(p->procfd, "maps", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "re");
        if (!f) {
                close(fd);
                return -ENOMEM;
        }
        while (getline(&line, &size, f) > 0) {
                const char *perms = strchr(line, ' ');
                procfs_map m;

                if (!perms || strlen(perms) < 5 || perms[2] != 'w' || perms[4] != 's' ||
                    procfs_parse_map(line, &m) < 0)
                        continue;
                if (m.devnum == p->s->q->image_dev && m.ino == (unsigned long)p->s->q->image_ino)
                        return iu_add_fmt(&p->s->u->writers, "%d(%s) mmap (shared, writable)",
                                       (int)p->pid, p->comm);
        }
        return 0;
}

static void read_comm(int procfd, char comm[64])
{
        _cleanup_close_ int fd = openat(procfd, "comm", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, comm, 63);

        if (n <= 0) {
                strcpy(comm, "?");
                return;
        }
        comm[n] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
}

static int one_pid(int proc_dir, const char *name, void *userdata)
{
        iu_scan *s = userdata;
        iu_proc p = { .s = s, .procfd = -EBADF };
        _cleanup_close_ int procfd = -EBADF, fd_dir = -EBADF;
        char *end;
        long pid = strtol(name, &end, 10);
        int r;

        if (*end || pid <= 0 || pid == s->self)
                return 0;
        procfd = openat(proc_dir, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (procfd < 0)
                return 0; /* gone */
        p.procfd = procfd;
        p.pid = (pid_t)pid;
        read_comm(procfd, p.comm);
        /* through PROCFD: a PID reused mid-walk is never reached */
        fd_dir = openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        r = fd_dir < 0 ? negative_errno() : procfs_each_entry(fd_dir, one_fd, &p);
        if (r < 0 && (r = iu_unreadable(s, r)) < 0)
                return r;
        if (!s->want_writers)
                return 0;
        r = scan_maps(&p);
        return r < 0 ? iu_unreadable(s, r) : 0;
}


int iu_scan_processes(iu_scan *s)
{
        _cleanup_close_ int proc_dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (proc_dir < 0)
                return negative_errno();
        return procfs_each_entry(proc_dir, one_pid, s);
}
