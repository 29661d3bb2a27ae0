/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli.h: the one option loop every verb shares.
 *
 * Promises: the common options (--config-dir, --state-dir, --runtime-dir,
 * --json, -q, -v), -h/--help and --version are accepted before the verb and
 * after it, by every verb; each verb adds only the options its spec names.
 * Dir options are made absolute at once (setns() into PID 1's namespace
 * later moves the cwd). A usage error prints one line naming the option or
 * argument at fault, and a pointer to --help. Part of the commands layer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum {
        CLI_WAIT = 1 << 0,  /* --wait SECONDS */
        CLI_WATCH = 1 << 1, /* --watch, --interval SECONDS, --timeout SECONDS */
};

typedef struct cli_args {
        char *config_dir;   /* absolute, malloc'd */
        char *state_dir;
        char *runtime_dir;
        bool json;
        int verbosity;      /* -1 quiet, 0 normal, 1 verbose */
        double wait_sec;
        bool watch;
        double interval;
        double timeout;
        int early_option;   /* a verb's own option seen before the verb */
        char **args;        /* the verb's operands (into argv) */
        size_t n_args;
} cli_args;

typedef struct verb_spec {
        const char *name;
        const char *usage;   /* the operands and options after the verb */
        const char *summary; /* for --help */
        unsigned options;    /* CLI_* */
        size_t min_args;
        size_t max_args;     /* SIZE_MAX: any number */
        const char *operand; /* "INSTANCE", "TARGET": for messages */
        int (*run)(const cli_args *args);
} verb_spec;

/* Parses ARGV: global options, the verb (from VERBS), its options and
 * operands; HELP prints the whole tool's --help.
 * Returns: 0 with *ret_verb and ARGS filled, 1 when --help or --version was
 * printed (exit 0), -EINVAL after a usage message was printed (exit 2), or
 * -ENOMEM. */
int cli_parse(int argc, char **argv, const verb_spec *verbs, size_t n_verbs,
              void (*help)(void), const verb_spec **ret_verb, cli_args *args);

void cli_args_done(cli_args *args);

/* Returns: absolute PATH, relative to the cwd now (malloc'd), or NULL. */
char *cli_absolute(const char *path);
