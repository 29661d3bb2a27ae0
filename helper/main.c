/* main.c: global options and the verb table; the only place that exits. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>

#include "log.h"
#include "util.h"
#include "verbs.h"

globals arg = {
        .config_dir = "/etc/overlay-helper",
        .state_dir = "/var/lib/overlay-helper",
        .runtime_dir = "/run/overlay-helper",
};

static const struct verb {
        const char *name;
        int (*run)(int argc, char **argv);
} verbs[] = {
        { "mount", verb_mount },
        { "umount", verb_umount },
        { "purge", verb_purge },
        { "status", verb_status },
        { "probe", verb_probe },
};

static void help(void)
{
        printf("Usage: overlay-helper [OPTIONS] COMMAND ARGS\n"
               "\n"
               "Mounts and unmounts per-instance overlayfs roots for systemd units, and\n"
               "names whatever keeps a mount busy.\n"
               "\n"
               "Commands:\n"
               "  mount INSTANCE  [--wait SECONDS]  mount the instance's overlay\n"
               "  umount INSTANCE [--wait SECONDS]  unmount it (never lazily), clean Work\n"
               "  purge INSTANCE  [--wait SECONDS]  unmount, then empty Upper, Work, Merged\n"
               "  status [INSTANCE...]              show what is mounted\n"
               "  probe TARGET [--watch] [--interval S] [--timeout S]\n"
               "                                    name whoever holds TARGET\n"
               "\n"
               "Options:\n"
               "      --config-dir DIR   instance configs (default /etc/overlay-helper)\n"
               "      --state-dir DIR    default home of upper/work/merged\n"
               "                         (default /var/lib/overlay-helper)\n"
               "      --runtime-dir DIR  lock files (default /run/overlay-helper)\n"
               "      --json             machine-readable output (status, probe)\n"
               "  -q, --quiet            errors and warnings only\n"
               "  -v, --verbose          also debug messages\n"
               "  -h, --help             this help\n"
               "      --version          the version\n"
               "\n"
               "Exit status: 0 done or nothing to do, 1 failed, 2 bad usage or config,\n"
               "3 busy (something still holds the target).\n"
               "Run it in PID 1's mount namespace from units:\n"
               "  ExecStartPre=+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- overlay-helper mount %%i\n"
               "  ExecStopPost=+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- overlay-helper umount %%i\n");
}

int usage_error(const char *verb, const char *fmt, ...)
{
        char what[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        fprintf(stderr, "overlay-helper: %s%s%s\nTry 'overlay-helper --help'.\n",
                verb ? verb : "", verb ? ": " : "", what);
        return EXIT_USAGE;
}

int parse_seconds(const char *s, double *ret)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e6)
                return -EINVAL;
        *ret = v;
        return 0;
}

void test_stall(const char *stage)
{
        const char *e = getenv("OVERLAY_HELPER_TEST_STALL");

        if (e && streq(e, stage))
                raise(SIGSTOP);
}

/* Paths from the command line are made absolute now: setns() into PID 1's
 * mount namespace moves our cwd to its root. */
static int absolute_dir(const char *value, const char **slot)
{
        static char *owned[3];
        static int n_owned;
        char cwd[4096];
        char *p;

        if (strempty(value))
                return -EINVAL;
        if (value[0] == '/') {
                *slot = value;
                return 0;
        }
        if (!getcwd(cwd, sizeof cwd) || n_owned >= (int)ELEMENTSOF(owned) ||
            asprintf(&p, "%s/%s", cwd, value) < 0)
                return -EINVAL;
        owned[n_owned++] = p;
        *slot = p;
        return 0;
}

int parse_common_option(int c, const char *value)
{
        switch (c) {
        case ARG_CONFIG_DIR:
                return absolute_dir(value, &arg.config_dir) < 0 ? -EINVAL : 1;
        case ARG_STATE_DIR:
                return absolute_dir(value, &arg.state_dir) < 0 ? -EINVAL : 1;
        case ARG_RUNTIME_DIR:
                return absolute_dir(value, &arg.runtime_dir) < 0 ? -EINVAL : 1;
        case ARG_JSON:
                arg.json = true;
                return 1;
        case 'q':
                arg.verbosity = -1;
                return 1;
        case 'v':
                arg.verbosity = 1;
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        opterr = 0;
        /* '+': stop at the verb; it parses the rest itself. */
        while ((c = getopt_long(argc, argv, "+:qvh", options, NULL)) >= 0) {
                int r = parse_common_option(c, optarg);
                if (r < 0)
                        return usage_error(NULL, "invalid value for %s: '%s'", argv[optind - 1],
                                           optarg ? optarg : "");
                if (r > 0)
                        continue;
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_VERSION:
                        printf("overlay-helper %s\n", OVERLAY_HELPER_VERSION);
                        return EXIT_OK;
                case ':':
                        return usage_error(NULL, "option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
                }
        }
        log_setup(arg.verbosity);
        if (optind >= argc)
                return usage_error(NULL, "no command given (mount, umount, purge, status, probe)");

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        int verb_argc = argc - optind;
                        char **verb_argv = argv + optind;
                        optind = 0; /* glibc: restart scanning for the verb's own options */
                        log_set_action(verbs[i].name);
                        return verbs[i].run(verb_argc, verb_argv);
                }
        return usage_error(NULL, "unknown command '%s'", argv[optind]);
}
