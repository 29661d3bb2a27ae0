/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* saferm-test: drives helper/saferm.c for tests/unit/saferm.bats.
 *
 *   saferm-test empty DIR                  safe_empty_dir() on DIR
 *   saferm-test rmentry DIR NAME           safe_remove_entry() of NAME in DIR
 *   saferm-test mkdir PATH UID GID MODE    safe_mkdir_path()
 *   saferm-test opendir PATH               safe_open_dir()
 *
 * Prints "ok" (mkdir: "ok created=0|1") or "error: <strerror> at <where>",
 * exits 0 or 1. It also fails ("error: fd leak") if a call leaves an fd open.
 * Build: cc -std=gnu11 -D_GNU_SOURCE -I helper -o build/saferm-test \
 *        tests/unit/saferm-test.c build/saferm.o */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safedir.h"
#include "saferm.h"
#include "util.h"

/* The lowest free fd: the same before and after a call, or the call leaked. */
static int lowest_free_fd(void)
{
        int fd = dup(STDIN_FILENO);

        if (fd >= 0)
                close(fd);
        return fd;
}

static int report(int r, const char *where)
{
        if (r < 0) {
                printf("error: %s at %s\n", strerror(-r), where ? where : "(null)");
                return 1;
        }
        printf("ok\n");
        return 0;
}

static int do_empty(const char *dir)
{
        _cleanup_free_ char *where = NULL;
        _cleanup_close_ int fd = safe_open_dir(dir);
        int r;

        if (fd < 0)
                return report(fd, dir);
        r = safe_empty_dir(fd, &where);
        if (r >= 0 && where) {
                printf("error: where set on success\n");
                return 1;
        }
        return report(r, where);
}

static int do_rmentry(const char *dir, const char *name)
{
        _cleanup_free_ char *where = NULL;
        _cleanup_close_ int fd = safe_open_dir(dir);
        int r;

        if (fd < 0)
                return report(fd, dir);
        r = safe_remove_entry(fd, name, &where);
        return report(r, where);
}

static int do_mkdir(const char *path, const char *uid, const char *gid, const char *mode)
{
        int created = -1;
        int fd = safe_mkdir_path(path, strtoul(uid, NULL, 10), strtoul(gid, NULL, 10),
                                 strtoul(mode, NULL, 8), &created);

        if (fd < 0)
                return report(fd, path);
        if (fcntl(fd, F_GETFL) < 0 || (fcntl(fd, F_GETFL) & O_PATH)) {
                printf("error: not an O_DIRECTORY fd\n");
                return 1;
        }
        close(fd);
        printf("ok created=%d\n", created);
        return 0;
}

static int do_opendir(const char *path)
{
        int fd = safe_open_dir(path);

        if (fd >= 0)
                close(fd);
        return report(fd, path);
}

int main(int argc, char **argv)
{
        int before = lowest_free_fd(), rc;

        if (argc == 3 && streq(argv[1], "empty"))
                rc = do_empty(argv[2]);
        else if (argc == 4 && streq(argv[1], "rmentry"))
                rc = do_rmentry(argv[2], argv[3]);
        else if (argc == 6 && streq(argv[1], "mkdir"))
                rc = do_mkdir(argv[2], argv[3], argv[4], argv[5]);
        else if (argc == 3 && streq(argv[1], "opendir"))
                rc = do_opendir(argv[2]);
        else {
                fprintf(stderr, "usage: %s empty DIR | rmentry DIR NAME | "
                                "mkdir PATH UID GID MODE | opendir PATH\n", argv[0]);
                return 2;
        }
        if (lowest_free_fd() != before) {
                printf("error: fd leak\n");
                return 1;
        }
        return rc;
}
