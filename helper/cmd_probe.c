/* cmd_probe.c: the probe verb: who holds TARGET, once or --watch. */
#include <getopt.h>
#include <limits.h>
#include <time.h>

#include "caps.h"
#include "config.h"
#include "instance.h"
#include "log.h"
#include "mounttab.h"
#include "ns.h"
#include "overlay.h"
#include "probe.h"
#include "probe_output.h"
#include "util.h"
#include "verbs.h"
#include "watch.h"

/* An instance name with a config wins over a same-named relative path. */
static int resolve_target(const char *input, probe_target *ret)
{
        if (!strchr(input, '/') && instance_name_check(input) == 0) {
                _cleanup_config_ overlay_config *cfg = NULL;
                _cleanup_free_ char *error = NULL;
                int r = config_load(arg.config_dir, arg.state_dir, input, &cfg, &error);
                if (r == 0) {
                        uint64_t recorded;
                        _cleanup_mount_entry_ mount_entry *m = NULL;
                        r = probe_target_for_instance(cfg, ret);
                        if (r == 0 && mount_at(cfg->merged, &m) == 0 && overlay_is_instance(m, cfg))
                                ret->devnum = m->devnum;
                        /* Copies of the mount the helper made, and any overlay
                         * made on its layers since, have later ids: older
                         * tables need no reading (see instance.h). */
                        if (r == 0 && instance_record_read(cfg->instance, &recorded) == 0)
                                ret->min_mnt_id = recorded;
                        return r;
                }
                if (r != -ENOENT) {
                        log_error("%s", error ? error : "bad config");
                        return -EINVAL;
                }
        }
        int r = probe_target_from_path(input, ret);
        if (r == -ENOENT) {
                log_error("probe: '%s' is neither a configured instance (no %s/%s.conf) nor an "
                          "existing path", input, arg.config_dir, input);
                return -EINVAL;
        }
        if (r < 0)
                log_error_errno(r, "probe: looking at %s failed: %m", input);
        return r;
}

static char *watch_line(const probe_result *r)
{
        _cleanup_free_ char *holders = probe_holders_line(r);
        char *s = NULL;

        if (asprintf(&s, "mounted=%s copies=%zu holders=[%s]", r->mounted ? "Y" : "N",
                     r->n_copies, holders ? holders : "") < 0)
                return NULL;
        return s;
}

static int probe_watch(const probe_target *t, double interval, double timeout)
{
        _cleanup_free_ char *last = NULL;
        double start = now_sec();

        for (;;) {
                probe_result r;
                int k = probe_scan(t, &r);
                if (k < 0)
                        return log_error_errno(k, "probe: scanning mount namespaces failed: %m"),
                               EXIT_FAILED;
                char *line = watch_line(&r);
                bool is_free = probe_free(&r);
                if (line && (!last || !streq(line, last))) {
                        if (arg.json)
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
                        return is_free ? EXIT_OK : EXIT_BUSY;
                }
                k = watch_wait(&r, left < interval ? left : interval);
                probe_result_done(&r);
                if (k < 0)
                        return log_error_errno(k, "probe: waiting failed: %m"), EXIT_FAILED;
        }
}

int verb_probe(int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "watch", no_argument, NULL, ARG_WATCH },
                { "interval", required_argument, NULL, ARG_INTERVAL },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                {},
        };
        double interval = 1.0, timeout = 0;
        bool watch = false;
        probe_target t;
        probe_result r;
        int c, k;

        while ((c = getopt_long(argc, argv, ":qvh", options, NULL)) >= 0) {
                k = parse_common_option(c, optarg);
                if (k < 0)
                        return usage_error("probe", "invalid value for %s", argv[optind - 1]);
                if (k > 0)
                        continue;
                switch (c) {
                case 'h':
                        printf("Usage: overlay-helper probe TARGET [--json] [--watch] "
                               "[--interval SECONDS] [--timeout SECONDS]\n"
                               "TARGET: an instance, a path, a block device or an image file\n");
                        return EXIT_OK;
                case ARG_WATCH:
                        watch = true;
                        break;
                case ARG_INTERVAL:
                case ARG_TIMEOUT:
                        if (parse_seconds(optarg, c == ARG_INTERVAL ? &interval : &timeout) < 0 ||
                            (c == ARG_INTERVAL && interval < 0.01))
                                return usage_error("probe", "%s takes seconds, not '%s'",
                                                   argv[optind - 1], optarg);
                        break;
                case ':':
                        return usage_error("probe", "option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage_error("probe", "unknown option '%s'", argv[optind - 1]);
                }
        }
        log_setup(arg.verbosity);
        if (optind != argc - 1)
                return usage_error("probe", optind >= argc ? "needs a TARGET" : "takes one TARGET");
        k = caps_drop(CAPS_READ);
        if (k < 0)
                return log_error_errno(k, "dropping capabilities failed: %m"), EXIT_FAILED;
        /* A relative path means relative to where we were started: setns()
         * below moves our cwd to the new namespace's root. */
        _cleanup_free_ char *target = NULL;
        char cwd[PATH_MAX];
        if (argv[optind][0] != '/' && strchr(argv[optind], '/') && getcwd(cwd, sizeof cwd))
                k = asprintf(&target, "%s/%s", cwd, argv[optind]);
        else
                target = strdup(argv[optind]);
        if (k < 0 || !target)
                return log_error_errno(-ENOMEM, "out of memory"), EXIT_FAILED;
        /* "mounted" means mounted in PID 1's namespace; unprivileged, we
         * answer for our own and the scan says what it could not see. */
        if (ns_enter_pid1_mnt() < 0)
                log_debug("cannot join PID 1's mount namespace; probing from this one");

        k = resolve_target(target, &t);
        if (k < 0)
                return k == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
        if (watch) {
                int ret = probe_watch(&t, interval, timeout);
                probe_target_done(&t);
                return ret;
        }
        k = probe_scan(&t, &r);
        if (k < 0) {
                probe_target_done(&t);
                return log_error_errno(k, "probe: scanning mount namespaces failed: %m"), EXIT_FAILED;
        }
        if (arg.json)
                probe_print_json(stdout, &t, &r, -1);
        else
                probe_print_human(stdout, &t, &r);
        k = probe_free(&r) ? EXIT_OK : EXIT_BUSY;
        probe_result_done(&r);
        probe_target_done(&t);
        return k;
}
