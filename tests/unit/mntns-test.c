/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns-test: a driver for helper/mntns.c, used by tests/unit/mntns.bats.
 *
 *   mntns-test scan NEEDLE      every namespace, the mounts whose mount point
 *                               or source contains NEEDLE, and the pins
 *   mntns-test fdpins INO       mntns_fd_pins(INO), one per line
 *   mntns-test pids [ROUNDS]    mntns_pid_map(): count and time per pid
 *   mntns-test bench ROUNDS     mntns_scan() with a filter that keeps nothing:
 *                               time per scan and per mount
 *
 * OVERLAY_HELPER_NO_STATMOUNT=1 forces the /proc path. Exit 0, or 1 with the
 * error on stderr. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "mntns.h"

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool keep_matching(const ns_mount *m, void *userdata)
{
        const char *needle = userdata;

        return strstr(m->mountpoint, needle) || strstr(m->source, needle);
}

static bool keep_nothing(const ns_mount *m, void *userdata)
{
        (void)m;
        (void)userdata;
        return false;
}

static int do_scan(const char *needle)
{
        mntns_set s;
        int r = mntns_scan(keep_matching, (void *)needle, &s);

        if (r < 0) {
                fprintf(stderr, "mntns_scan: %s\n", strerror(-r));
                return 1;
        }
        printf("statmount=%d namespaces=%zu pins=%zu unreadable=%u\n", s.used_statmount, s.n_ns,
               s.n_pins, s.n_unreadable);
        for (size_t i = 0; i < s.n_ns; i++) {
                const mnt_namespace *ns = &s.ns[i];
                printf("ns ino=%ju id=%" PRIu64 " init=%d pid=%d mounts=%zu kept=%zu\n",
                       (uintmax_t)ns->ns_ino, ns->ns_id, ns->init, (int)ns->some_pid,
                       ns->n_all_mounts, ns->n_mounts);
                for (size_t j = 0; j < ns->n_mounts; j++) {
                        const ns_mount *m = &ns->mounts[j];
                        printf("  mount ns=%ju id=%" PRIu64 " parent=%" PRIu64
                               " dev=%u:%u type=%s source=%s at=%s root=%s opts=%s\n",
                               (uintmax_t)ns->ns_ino, m->mnt_id, m->parent_id, major(m->devnum),
                               minor(m->devnum), m->fstype, m->source, m->mountpoint, m->root,
                               m->fs_options);
                }
        }
        for (size_t i = 0; i < s.n_pins; i++)
                printf("pin ino=%ju in=%ju at=%s\n", (uintmax_t)s.pins[i].pinned_ino,
                       (uintmax_t)s.pins[i].where_ns_ino, s.pins[i].mountpoint);
        mntns_set_done(&s);
        return 0;
}

static int do_fdpins(const char *arg)
{
        char **pins;
        int r = mntns_fd_pins((ino_t)strtoull(arg, NULL, 10), &pins);

        if (r < 0) {
                fprintf(stderr, "mntns_fd_pins: %s\n", strerror(-r));
                return 1;
        }
        for (char **p = pins; *p; p++) {
                printf("%s\n", *p);
                free(*p);
        }
        free(pins);
        return 0;
}

static int do_pids(int rounds)
{
        size_t n = 0;
        unsigned unreadable = 0;
        double t0 = now();

        for (int i = 0; i < rounds; i++) {
                pid_t *pids, *tids;
                ino_t *inos;
                int r = mntns_pid_map(&pids, &tids, &inos, &n, &unreadable);
                if (r < 0) {
                        fprintf(stderr, "mntns_pid_map: %s\n", strerror(-r));
                        return 1;
                }
                free(pids);
                free(tids);
                free(inos);
        }
        double t = (now() - t0) / rounds;
        printf("pids=%zu unreadable=%u time=%.1fus per_pid=%.2fus\n", n, unreadable, t * 1e6,
               n ? t * 1e6 / (double)n : 0.0);
        return 0;
}

static int do_bench(int rounds)
{
        size_t n_ns = 0, n_mounts = 0;
        bool statmount = false;
        double t0 = now();

        for (int i = 0; i < rounds; i++) {
                mntns_set s;
                int r = mntns_scan(keep_nothing, NULL, &s);
                if (r < 0) {
                        fprintf(stderr, "mntns_scan: %s\n", strerror(-r));
                        return 1;
                }
                n_ns = s.n_ns;
                n_mounts = 0;
                for (size_t j = 0; j < s.n_ns; j++)
                        n_mounts += s.ns[j].n_all_mounts;
                statmount = s.used_statmount;
                mntns_set_done(&s);
        }
        double t = (now() - t0) / rounds;
        printf("statmount=%d namespaces=%zu mounts=%zu scan=%.3fms per_mount=%.2fus\n", statmount,
               n_ns, n_mounts, t * 1e3, n_mounts ? t * 1e6 / (double)n_mounts : 0.0);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 3 && strcmp(argv[1], "scan") == 0)
                return do_scan(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "fdpins") == 0)
                return do_fdpins(argv[2]);
        if (argc >= 2 && strcmp(argv[1], "pids") == 0)
                return do_pids(argc >= 3 ? atoi(argv[2]) : 1);
        if (argc >= 3 && strcmp(argv[1], "bench") == 0)
                return do_bench(atoi(argv[2]));
        fprintf(stderr, "usage: mntns-test scan NEEDLE | fdpins INO | pids [ROUNDS] | bench ROUNDS\n");
        return 2;
}
