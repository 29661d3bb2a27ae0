/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.c: see lock.h. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "lock.h"
#include "util.h"

static void on_alarm(int sig _unused_) {}

/* F_OFD_SETLKW has no timeout: an interval timer whose handler is installed
 * without SA_RESTART makes it return EINTR. The timer repeats every 10 ms, so
 * a tick that fires before the call starts to block is not lost; each EINTR
 * checks the deadline.
 *
 * SIGALRM's mask and disposition are inherited across exec, and a caller
 * that blocks or ignores it (a shell's trap '' ALRM, a runtime that blocks
 * signals in every thread) would leave the call to wait forever: so the
 * handler, the unblocked mask and the timer are all set here and put back
 * afterwards. That keeps the wait in this process and the lock grant
 * immediate (the kernel wakes the waiter); the alternative, a child blocking
 * on our shared open file description and killed at the deadline, would
 * need its own reaping, death signal and SIGCHLD care. Timer first off,
 * mask and handler last: a late tick still finds our handler. */
static int lock_wait(int fd, double deadline)
{
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        struct sigaction sa = { .sa_handler = on_alarm }, old_sa;
        struct itimerval it = { .it_interval = { .tv_usec = 10000 } }, old_it;
        sigset_t alrm, old_mask;
        int r;

        if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
                return 0;
        if (errno != EAGAIN && errno != EACCES)
                return negative_errno();
        if (now_sec() >= deadline)
                return -EBUSY;

        sigemptyset(&sa.sa_mask);
        sigemptyset(&alrm);
        sigaddset(&alrm, SIGALRM);
        it.it_value = it.it_interval;
        if (sigaction(SIGALRM, &sa, &old_sa) < 0)
                return negative_errno();
        if (sigprocmask(SIG_UNBLOCK, &alrm, &old_mask) < 0) {
                r = negative_errno();
                sigaction(SIGALRM, &old_sa, NULL);
                return r;
        }
        if (setitimer(ITIMER_REAL, &it, &old_it) < 0) {
                r = negative_errno();
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                sigaction(SIGALRM, &old_sa, NULL);
                return r;
        }
        do
                r = fcntl(fd, F_OFD_SETLKW, &fl) == 0 ? 0 : negative_errno();
        while (r == -EINTR && now_sec() < deadline);
        setitimer(ITIMER_REAL, &old_it, NULL);
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        sigaction(SIGALRM, &old_sa, NULL);
        return r == -EINTR ? -EBUSY : r;
}

static pid_t read_holder(int fd)
{
        char buf[32] = { 0 };
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        long pid;

        if (n <= 0)
                return 0;
        pid = strtol(buf, NULL, 10);
        return pid > 0 && pid < INT_MAX ? (pid_t)pid : 0;
}

static bool still_linked(int fd, const char *path)
{
        struct stat by_fd, by_path;

        if (fstat(fd, &by_fd) < 0 || stat(path, &by_path) < 0)
                return false;
        return by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino;
}

int lock_instance(const char *runtime_dir, const char *instance, double wait_sec,
                  pid_t *ret_holder)
{
        _cleanup_free_ char *path = NULL;
        char pidline[32];

        if (mkdir(runtime_dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (asprintf(&path, "%s/%s.lock", runtime_dir, instance) < 0)
                return -ENOMEM;
        double deadline = now_sec() + (wait_sec > 0 ? wait_sec : 0);

        for (int tries = 0; tries < 100; tries++) {
                _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                int r;

                if (fd < 0)
                        return negative_errno();
                r = lock_wait(fd, deadline);
                if (r == -EBUSY) {
                        if (ret_holder)
                                *ret_holder = read_holder(fd);
                        return r;
                }
                if (r < 0)
                        return r;
                /* The previous holder may have unlinked the file while we
                 * waited; a lock on an orphaned inode protects nothing. */
                if (!still_linked(fd, path))
                        continue;
                snprintf(pidline, sizeof pidline, "%d\n", (int)getpid());
                if (ftruncate(fd, 0) < 0 || pwrite(fd, pidline, strlen(pidline), 0) < 0)
                        return negative_errno();
                return TAKE_FD(fd);
        }
        return -EBUSY;
}

void lock_release(int fd, const char *runtime_dir, const char *instance, bool unlink_file)
{
        if (fd < 0)
                return;
        if (unlink_file) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/%s.lock", runtime_dir, instance) >= 0 && still_linked(fd, path))
                        (void)unlink(path);
        }
        close(fd);
}
