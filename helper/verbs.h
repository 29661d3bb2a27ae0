/* verbs.h: the commands, one function each, and what they share.
 *
 * Promises: each verb parses its own options (getopt_long), does its work and
 * returns an exit status from the table in DESIGN.md; verbs are the only
 * code that logs, once per action. main() owns process exit. */
#pragma once

#include <stdbool.h>

enum {
        EXIT_OK = 0,     /* done, or nothing to do */
        EXIT_FAILED = 1, /* a call failed: the message names it, the path, the error */
        EXIT_USAGE = 2,  /* bad usage, instance name or config */
        EXIT_BUSY = 3,   /* something still holds the target */
};

typedef struct globals {
        const char *config_dir;
        const char *state_dir;
        const char *runtime_dir;
        bool json;
        int verbosity; /* -1 quiet, 0 normal, 1 verbose */
} globals;

extern globals arg;

/* Handles an option every verb accepts (--json, -q, -v, the dir options).
 * Returns: 1 if C was one of them, 0 if not, -EINVAL on a bad value. */
int parse_common_option(int c, const char *value);

/* The getopt_long entries for the common options; verbs append their own. */
#define COMMON_LONG_OPTIONS                                                    \
        { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },             \
        { "state-dir", required_argument, NULL, ARG_STATE_DIR },               \
        { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },           \
        { "json", no_argument, NULL, ARG_JSON },                               \
        { "quiet", no_argument, NULL, 'q' },                                   \
        { "verbose", no_argument, NULL, 'v' },                                 \
        { "help", no_argument, NULL, 'h' }

enum {
        ARG_CONFIG_DIR = 0x100,
        ARG_STATE_DIR,
        ARG_RUNTIME_DIR,
        ARG_JSON,
        ARG_VERSION,
        ARG_WAIT,
        ARG_WATCH,
        ARG_INTERVAL,
        ARG_TIMEOUT,
};

/* Prints "overlay-helper: VERB: WHAT" and a pointer to --help.
 * Returns: EXIT_USAGE. */
int usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a --wait/--timeout value: seconds, fractional allowed, 0..1e6.
 * Returns: 0 or -EINVAL. */
int parse_seconds(const char *s, double *ret);

/* Test hook: with OVERLAY_HELPER_TEST_STALL=STAGE the process stops itself
 * (SIGSTOP) at STAGE, so tests can kill -9 it at a known point. */
void test_stall(const char *stage);

/* The options and INSTANCE of mount, umount and purge (--wait and the
 * common ones). Returns: EXIT_OK, -1 after --help, or an exit status. */
int parse_instance_args(int argc, char **argv, double *ret_wait, const char **ret_name);

struct instance_run;
/* parse_instance_args(), then instance_begin() with the lock.
 * Returns: EXIT_OK with RUN held, -1 after --help, or an exit status. */
int instance_verb_start(int argc, char **argv, double *ret_wait, struct instance_run *run);

int verb_mount(int argc, char **argv);
int verb_umount(int argc, char **argv);
int verb_purge(int argc, char **argv);
int verb_status(int argc, char **argv);
int verb_probe(int argc, char **argv);
