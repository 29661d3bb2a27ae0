/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util.h: the few cleanup and ownership macros every module shares.
 *
 * Promises: _cleanup_free_, _cleanup_close_, _cleanup_fclose_ release on scope
 * exit; TAKE_FD/TAKE_PTR hand ownership on and leave the source empty; fds
 * start at -EBADF so closing an unset one is a no-op. Nothing here logs. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

#define TAKE_FD(fd)                                                           \
        ({                                                                    \
                int _fd_ = (fd);                                              \
                (fd) = -EBADF;                                                \
                _fd_;                                                         \
        })
#define TAKE_PTR(p)                                                           \
        ({                                                                    \
                __typeof__(p) _p_ = (p);                                      \
                (p) = NULL;                                                   \
                _p_;                                                          \
        })

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool strempty(const char *s) { return !s || !*s; }

/* errno as a negative return value, never 0 even if a libc call forgot to set it */
static inline int negative_errno(void) { return errno > 0 ? -errno : -EIO; }

#include <dirent.h>
static inline void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Frees a NULL-terminated string array and its strings. */
static inline void strv_free(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

/* CLOCK_MONOTONIC in seconds: for deadlines and --watch timestamps. */
static inline double now_sec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
