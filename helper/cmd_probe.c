/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_probe.c: the probe verb: who holds TARGET, once or --watch. */
#include <getopt.h>
#include <limits.h>
#include <time.h>

#include "caps.h"
#include "config.h"
#include "image_users.h"
#include "report.h"
#include "log.h"
#include "ns.h"
#include "probe.h"
#include "probe_output.h"
#include "util.h"
#include "verbs.h"
#include "watch.h"

/* An instance name with a config wins over a same-named relative path,
 * which ABSOLUTE gives as it was resolved before setns().
 * Returns: 0 and *ret, or an exit status (reported). */
static int resolve_target(const cli_args *args, const char *input, const char *absolute,
                          probe_target *ret)
{
        if (!strchr(input, '/') && instance_name_check(input) == 0) {
                const engine_env env = verb_engine_env(args);
                inst_failure f;
                int r = engine_probe_target(&env, input, ret, &f);
                if (r != -ENOENT) {
                        int status = report_exit_status(r, &f);
                        if (r < 0)
                                report_failure("probe", input, &f);
                        inst_failure_done(&f);
                        return status;
                }
        }
        if (!absolute)
                return log_error("probe: cannot resolve the relative path '%s': the current "
                                 "directory could not be read", input), EXIT_FAILED;
        int r = probe_target_from_path(absolute, ret);
        const log_field fl[] = { { "OVERLAY_HELPER_PATH", input }, { NULL, NULL } };
        if (r == -ENOENT && strchr(input, '/'))
                return log_full(LOG_ERR, r, MSGID_USAGE, fl, "probe: no such path: %s", input),
                       EXIT_USAGE;
        if (r == -ENOENT) {
                log_full(LOG_ERR, r, MSGID_USAGE, fl, "probe: '%s' is neither a configured "
                         "instance (no %s/%s.conf) nor an existing path", input, args->config_dir,
                         input);
                return EXIT_USAGE;
        }
        if (r < 0)
                return log_error_errno(r, "probe: looking at %s failed: %m", absolute), EXIT_FAILED;
        return EXIT_OK;
}

/* A loop device or image adds what holds the device: "device_users=2
 * claimed=Y" (? where the kernel could not be asked). */
static char *watch_line(const probe_target *t, const probe_result *r)
{
        _cleanup_free_ char *holders = probe_holders_line(r), *device = NULL;
        char *s = NULL;
        size_t users = 0;

        for (char **p = r->dev_users; p && *p; p++)
                users++;
        if (t->image && asprintf(&device, " device_users=%zu claimed=%s", users,
                                 !r->dev_claim_asked ? "?" : r->dev_claimed ? "Y" : "N") < 0)
                return NULL;
        if (asprintf(&s, "mounted=%s copies=%zu holders=[%s]%s%s", r->mounted ? "Y" : "N",
                     r->n_copies, holders ? holders : "", device ? device : "",
                     r->kernel_in_use && !r->n_copies ? " kernel=in-use"
                     : probe_undecided(r)               ? " free=unknown"
                                                        : "") < 0)
                return NULL;
        return s;
}

/* probe_scan(), and for a loop device or image what else keeps the device.
 * Returns: 0, or an exit status (logged). */
static int scan(const cli_args *args, const probe_target *t, probe_result *r)
{
        int k = probe_scan(t, r);

        if (k < 0)
                return log_error_errno(k, "probe: scanning mount namespaces failed: %m"),
                       EXIT_FAILED;
        k = image_users_probe(t, args->runtime_dir, false, r);
        if (k < 0) {
                probe_result_done(r);
                return log_error_errno(k, "probe: looking for the users of %s failed: %m",
                                       t->input), EXIT_FAILED;
        }
        return 0;
}

/* "free" needs the kernel's word where it has one: for an instance, when
 * the scan found no copy, ask whether a superblock still uses its Upper or
 * Work. At most once a second: a busy check costs a kernel log line. */
typedef struct kernel_word {
        double at;      /* when it was asked; 0: never */
        int answer;     /* 1 in use, 0 not marked, -errno unknown */
} kernel_word;

static void ask_kernel(const cli_args *args, const probe_target *t, probe_result *r,
                       kernel_word *last)
{
        const engine_env env = verb_engine_env(args);

        /* a path whose mount named its Upper and Work (an overlay) is asked
         * about like an instance */
        if ((!t->instance && !(t->upper && t->work)) || r->n_copies > 0)
                return;
        /* a throttled round keeps the last answer, never "free" by default */
        if (last->at == 0 || now_sec() - last->at >= 1.0) {
                last->answer = t->instance ? engine_kernel_in_use(&env, t->instance)
                                           : engine_kernel_in_use_dirs(&env, t->upper, t->work);
                last->at = now_sec();
        }
        r->kernel_asked = last->answer >= 0;
        r->kernel_in_use = last->answer > 0;
        r->kernel_error = last->answer < 0 ? last->answer : 0;
}

static int probe_watch(const cli_args *args, const probe_target *t)
{
        _cleanup_free_ char *last = NULL;
        double start = now_sec(), interval = args->interval, timeout = args->timeout;
        kernel_word asked = { 0 };

        for (;;) {
                probe_result r;
                int k = scan(args, t, &r);
                if (k != 0)
                        return k;
                ask_kernel(args, t, &r, &asked);
                char *line = watch_line(t, &r);
                bool is_free = probe_free(&r);
                if (line && (!last || !streq(line, last))) {
                        if (args->json)
                                probe_print_json(stdout, t, &r, now_sec() - start);
                        else
                                printf("[t=%7.2f] %s\n", now_sec() - start, line);
                        fflush(stdout);
                        free(last);
                        last = TAKE_PTR(line);
                }
                free(line);
                double left = timeout > 0 ? timeout - (now_sec() - start) : interval;
                if (is_free || left <= 0) {
                        probe_result_done(&r);
                        return is_free ? EXIT_OK : probe_undecided(&r) ? EXIT_FAILED : EXIT_BUSY;
                }
                k = watch_wait(&r, left < interval ? left : interval);
                probe_result_done(&r);
                if (k < 0)
                        return log_error_errno(k, "probe: waiting failed: %m"), EXIT_FAILED;
        }
}

int verb_probe(const cli_args *args)
{
        _cleanup_free_ char *absolute = NULL;
        const char *input = args->args[0];
        probe_target t;
        probe_result r;
        int k;

        /* What the kernel's in-use check needs more stays permitted and is
         * raised for the check alone (engine_kernel_in_use). */
        k = caps_drop(CAPS_READ);
        if (k < 0)
                return log_error_errno(k, "dropping capabilities failed: %m"), EXIT_FAILED;
        /* A relative path means relative to where we were started: setns()
         * below moves our cwd to the new namespace's root. A cwd that cannot
         * be read (deleted with the overlay it was in) matters only if
         * INPUT turns out to be a path, not an instance. */
        absolute = cli_absolute(input);
        /* "mounted" means mounted in PID 1's namespace; unprivileged, we
         * answer for our own and the scan says what it could not see. */
        if (ns_enter_pid1_mnt() < 0)
                log_debug("cannot join PID 1's mount namespace; probing from this one");

        k = resolve_target(args, input, absolute, &t);
        if (k != EXIT_OK)
                return k;
        if (args->watch) {
                k = probe_watch(args, &t);
                probe_target_done(&t);
                return k;
        }
        k = scan(args, &t, &r);
        if (k != 0) {
                probe_target_done(&t);
                return k;
        }
        kernel_word once = { 0 };
        ask_kernel(args, &t, &r, &once);
        if (args->json)
                probe_print_json(stdout, &t, &r, -1);
        else
                probe_print_human(stdout, &t, &r);
        k = probe_free(&r) ? EXIT_OK : probe_undecided(&r) ? EXIT_FAILED : EXIT_BUSY;
        probe_result_done(&r);
        probe_target_done(&t);
        return k;
}
