/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holders-test: drives helper/holders.c for tests/unit/holders.bats.
 *
 *   holders-test [--dev-only|--mountinfo-ids] [--unit-if-held] PATH PID...
 *   holders-test --kthread PID...
 *
 * Looks for what each PID holds on the filesystem of PATH and prints one line
 * per PID: "PID COMM UNIT REFS..." (UNIT "-" when none), or "PID ESRCH",
 * "PID EACCES", "PID error: <strerror>". By default the target is PATH's
 * st_dev plus PATH's unique mount id (as probe passes the ids of the copies it
 * found); --dev-only uses holder_inspect() with the device alone;
 * --mountinfo-ids passes the mountinfo ids of every mount of that device in
 * our namespace; --unit-if-held sets holder_target.unit_if_held.
 * --kthread prints "PID kthread" or "PID process".
 * Exits 1 if a call leaks an fd ("error: fd leak"), 2 on bad usage.
 * Build: cc -std=gnu11 -D_GNU_SOURCE -I helper -o build/holders-test \
 *        tests/unit/holders-test.c build/holders.o build/dlib.o -ldl */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "holders.h"
#include "kapi.h"
#include "util.h"

enum ids_mode { IDS_UNIQUE, IDS_NONE, IDS_MOUNTINFO };

/* The lowest free fd: the same before and after a call, or the call leaked. */
static int lowest_free_fd(void)
{
        int fd = dup(STDIN_FILENO);

        if (fd >= 0)
                close(fd);
        return fd;
}

/* Every mount of DEVNUM in our namespace, by mountinfo id. */
static size_t mountinfo_ids(dev_t devnum, uint64_t *ids, size_t max)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t size = 0, n = 0;
        unsigned id, parent, maj, min;

        while (f && n < max && getline(&line, &size, f) > 0)
                if (sscanf(line, "%u %u %u:%u", &id, &parent, &maj, &min) == 4 &&
                    makedev(maj, min) == devnum)
                        ids[n++] = id;
        return n;
}

static void print_holder(const holder *h)
{
        printf("%d %s %s", (int)h->pid, h->comm, h->unit ? h->unit : "-");
        for (size_t i = 0; i < h->n_refs; i++)
                printf(" %s", h->refs[i]);
        if (h->refs[h->n_refs])
                printf(" error: refs not NULL-terminated");
        printf("\n");
}

static int inspect(enum ids_mode mode, bool unit_if_held, const char *path, char **pids,
                   int n_pids)
{
        holder_target target = { .unit_if_held = unit_if_held };
        uint64_t ids[64];
        struct statx sx;

        if (statx(AT_FDCWD, path, 0, STATX_MNT_ID_UNIQUE, &sx) < 0) {
                printf("error: %s: %m\n", path);
                return 1;
        }
        target.devnum = makedev(sx.stx_dev_major, sx.stx_dev_minor);
        target.mnt_ids = ids;
        if (mode == IDS_UNIQUE && (sx.stx_mask & STATX_MNT_ID_UNIQUE)) {
                ids[0] = sx.stx_mnt_id;
                target.n_mnt_ids = 1;
                target.unique_ids = true;
        } else if (mode != IDS_NONE)
                /* before 6.8 (no unique ids) the helper takes mountinfo's */
                target.n_mnt_ids = mountinfo_ids(target.devnum, ids, ELEMENTSOF(ids));

        for (int i = 0; i < n_pids; i++) {
                pid_t pid = atoi(pids[i]);
                holder h = {};
                int r = mode == IDS_NONE ? holder_inspect(pid, target.devnum, &h)
                                         : holder_inspect_target(pid, &target, &h);

                if (r == -ESRCH)
                        printf("%d ESRCH\n", (int)pid);
                else if (r == -EACCES)
                        printf("%d EACCES\n", (int)pid);
                else if (r < 0)
                        printf("%d error: %s\n", (int)pid, strerror(-r));
                else
                        print_holder(&h);
                holder_done(&h);
        }
        return 0;
}

int main(int argc, char **argv)
{
        enum ids_mode mode = IDS_UNIQUE;
        bool unit_if_held = false;
        int before = lowest_free_fd(), rc = 0, i;

        if (argc > 1 && streq(argv[1], "--kthread")) {
                for (i = 2; i < argc; i++)
                        printf("%s %s\n", argv[i],
                               pid_is_kernel_thread(atoi(argv[i])) ? "kthread" : "process");
                return 0;
        }
        for (i = 1; i < argc && argv[i][0] == '-'; i++)
                if (streq(argv[i], "--dev-only"))
                        mode = IDS_NONE;
                else if (streq(argv[i], "--mountinfo-ids"))
                        mode = IDS_MOUNTINFO;
                else if (streq(argv[i], "--unit-if-held"))
                        unit_if_held = true;
                else
                        break;
        if (argc - i < 1 || argv[i][0] == '-') {
                fprintf(stderr, "usage: %s [--dev-only|--mountinfo-ids] [--unit-if-held] "
                                "PATH PID... | --kthread PID...\n", argv[0]);
                return 2;
        }
        rc = inspect(mode, unit_if_held, argv[i], argv + i + 1, argc - i - 1);
        if (lowest_free_fd() != before) {
                printf("error: fd leak\n");
                return 1;
        }
        return rc;
}
