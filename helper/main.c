/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* main.c: the verb table; the only place that exits. */
#include <signal.h>
#include <stdint.h>

#include "cli.h"
#include "fallback.h"
#include "generator.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

static const verb_spec verbs[] = {
        { "mount", "INSTANCE [--wait SECONDS]", "mount the instance's overlay", CLI_WAIT, 1, 1,
          "INSTANCE", verb_mount },
        { "umount", "INSTANCE [--wait SECONDS]", "unmount it (never lazily), clean Work", CLI_WAIT,
          1, 1, "INSTANCE", verb_umount },
        { "purge", "INSTANCE [--wait SECONDS]", "unmount, then empty Upper, Work, Merged", CLI_WAIT,
          1, 1, "INSTANCE", verb_purge },
        { "status", "[--json] [INSTANCE...]", "show what is mounted (every instance by default)", 0,
          0, SIZE_MAX, "INSTANCE", verb_status },
        { "probe", "TARGET [--json] [--watch] [--interval SECONDS] [--timeout SECONDS]",
          "name whoever holds TARGET: an instance, a path, a block device or an image file",
          CLI_WATCH, 1, 1, "TARGET", verb_probe },
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
               "Options (before or after the command):\n"
               "      --config-dir DIR   instance configs (default /etc/overlay-helper)\n"
               "      --state-dir DIR    default home of upper/work/merged\n"
               "                         (default /var/lib/overlay-helper)\n"
               "      --runtime-dir DIR  lock files and records (default /run/overlay-helper)\n"
               "      --json             machine-readable output (status, probe)\n"
               "  -q, --quiet            errors and warnings only\n"
               "  -v, --verbose          also debug messages\n"
               "  -h, --help             this help (after a command: that command's)\n"
               "      --version          the version\n"
               "\n"
               "Exit status: 0 done or nothing to do, 1 failed, 2 bad usage or config,\n"
               "3 busy (something still holds the target).\n"
               "Run it in PID 1's mount namespace from units:\n"
               "  ExecStartPre=+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- overlay-helper mount %%i\n"
               "  ExecStopPost=+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- overlay-helper umount %%i\n");
}

static void log_fallback(const char *feature, int err, void *userdata)
{
        const log_field fl[] = { { "OVERLAY_HELPER_FEATURE", feature }, { NULL, NULL } };

        (void)userdata;
        if (err)
                log_full(LOG_DEBUG, -err, MSGID_FALLBACK, fl, "%s unavailable (%m): took the "
                         "fallback", feature);
        else
                log_full(LOG_DEBUG, 0, MSGID_FALLBACK, fl, "%s switched off by its "
                         "OVERLAY_HELPER_NO_* variable: took the fallback", feature);
}

/* Signal state is inherited across exec. A caller that ignores SIGCHLD
 * makes the kernel reap our children itself, and the scan's waitpid() on its
 * namespace reader fails with ECHILD; one that blocks it is harmless. */
static void reset_inherited_signals(void)
{
        struct sigaction dfl = { .sa_handler = SIG_DFL };

        sigemptyset(&dfl.sa_mask);
        (void)sigaction(SIGCHLD, &dfl, NULL);
}

int main(int argc, char **argv)
{
        const verb_spec *verb = NULL;
        cli_args args;
        int r;

        /* Installed as a systemd generator too: a symlink of that name. */
        if (argc > 0 && generator_invoked(argv[0]))
                return generator_main(argc, argv);
        reset_inherited_signals();
        r = cli_parse(argc, argv, verbs, ELEMENTSOF(verbs), help, &verb, &args);
        if (r != 0) {
                cli_args_done(&args);
                return r > 0 ? EXIT_OK : r == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
        }
        log_setup(args.verbosity);
        log_set_action(verb->name);
        r = verb->run(&args);
        /* A full disk or a closed pipe must not pass for a whole answer. */
        if ((fflush(stdout) != 0 || ferror(stdout)) && r == EXIT_OK) {
                log_error_errno(errno ? -errno : -EIO, "writing to standard output failed: %m");
                r = EXIT_FAILED;
        }
        fallback_notes_foreach(log_fallback, NULL);
        cli_args_done(&args);
        return r;
}
