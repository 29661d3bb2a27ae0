/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cli.c: see cli.h. */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>

#include "cli.h"
#include "util.h"

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

static const struct option options[] = {
        { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
        { "state-dir", required_argument, NULL, ARG_STATE_DIR },
        { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
        { "json", no_argument, NULL, ARG_JSON },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        { "wait", required_argument, NULL, ARG_WAIT },
        { "watch", no_argument, NULL, ARG_WATCH },
        { "interval", required_argument, NULL, ARG_INTERVAL },
        { "timeout", required_argument, NULL, ARG_TIMEOUT },
        {},
};

/* Prints "overlay-helper: VERB: WHAT" and a pointer to --help.
 * Returns: -EINVAL. */
static int _printf_(2, 3) cli_usage_error(const char *verb, const char *fmt, ...)
{
        va_list ap;

        fputs("overlay-helper: ", stderr);
        if (verb)
                fprintf(stderr, "%s: ", verb);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'overlay-helper --help'.\n", stderr);
        return -EINVAL;
}

char *cli_absolute(const char *path)
{
        char cwd[PATH_MAX];
        char *p = NULL;

        if (path[0] == '/')
                return strdup(path);
        if (!getcwd(cwd, sizeof cwd) || asprintf(&p, "%s/%s", cwd, path) < 0)
                return NULL;
        return p;
}

/* A --wait/--timeout/--interval value: seconds, fractional allowed. */
static int parse_seconds(const char *s, double min, double *ret)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v) || v < min || v > 1e6)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int set_dir(char **slot, const char *verb, const char *option, const char *value)
{
        char *p;

        if (strempty(value))
                return cli_usage_error(verb, "%s needs a directory, not ''", option);
        p = cli_absolute(value);
        if (!p)
                return cli_usage_error(verb, "%s '%s': cannot make it absolute: %m", option, value);
        free(*slot);
        *slot = p;
        return 0;
}

static unsigned option_needs(int c)
{
        return c == ARG_WAIT ? CLI_WAIT : c == ARG_WATCH || c == ARG_INTERVAL || c == ARG_TIMEOUT ? CLI_WATCH : 0;
}

/* The long name of option C, for messages whatever form was typed. */
static const char *option_name(int c)
{
        for (const struct option *o = options; o->name; o++)
                if (o->val == c)
                        return o->name;
        return "?";
}

static void print_verb_usage(const verb_spec *v)
{
        printf("Usage: overlay-helper [OPTIONS] %s %s\n%s\n", v->name, v->usage, v->summary);
}

/* One option C with VALUE for VERB (NULL: before the verb, where every
 * verb's options are allowed and kept for it).
 * Returns: 0, 1 after --help/--version, -EINVAL after a message. */
static int apply_option(int c, const char *value, const char *typed, const verb_spec *verb,
                        void (*help)(void), cli_args *a)
{
        const char *vname = verb ? verb->name : NULL;
        double *secs;

        if (verb && (option_needs(c) & ~verb->options))
                return cli_usage_error(vname, "%s does not take --%s", vname, option_name(c));
        /* Before the verb, a verb's own option is kept until the verb is
         * known, then checked the same way (cli_parse). */
        if (!verb && option_needs(c) && !a->early_option)
                a->early_option = c;
        switch (c) {
        case ARG_CONFIG_DIR:
                return set_dir(&a->config_dir, vname, "--config-dir", value);
        case ARG_STATE_DIR:
                return set_dir(&a->state_dir, vname, "--state-dir", value);
        case ARG_RUNTIME_DIR:
                return set_dir(&a->runtime_dir, vname, "--runtime-dir", value);
        case ARG_JSON:
                a->json = true;
                return 0;
        case 'q':
                a->verbosity = -1;
                return 0;
        case 'v':
                a->verbosity = 1;
                return 0;
        case ARG_WATCH:
                a->watch = true;
                return 0;
        case ARG_WAIT:
        case ARG_INTERVAL:
        case ARG_TIMEOUT:
                secs = c == ARG_WAIT ? &a->wait_sec : c == ARG_INTERVAL ? &a->interval : &a->timeout;
                if (parse_seconds(value, c == ARG_INTERVAL ? 0.01 : 0, secs) < 0)
                        return cli_usage_error(vname, "--%s takes seconds from %s to 1000000, not '%s'",
                                               option_name(c), c == ARG_INTERVAL ? "0.01" : "0", value);
                return 0;
        case 'h':
                if (verb)
                        print_verb_usage(verb);
                else
                        help();
                return 1;
        case ARG_VERSION:
                printf("overlay-helper %s\n", OVERLAY_HELPER_VERSION);
                return 1;
        case ':':
                return cli_usage_error(vname, "option '%s' needs a value", typed);
        default:
                return cli_usage_error(vname, "unknown option '%s'", typed);
        }
}

/* Runs getopt_long over ARGV from OPTIND 1. Returns: as apply_option(). */
static int option_loop(int argc, char **argv, const char *shortopts, const verb_spec *verb,
                       void (*help)(void), cli_args *a)
{
        int c, r;

        opterr = 0;
        optind = 0; /* glibc: a full reset, so a second loop starts afresh */
        while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
                const char *typed = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
                char short_opt[3] = { '-', (char)optopt, '\0' };
                /* A bad short option may sit inside a cluster ("-qx"); for a
                 * long one given a value it takes none, optopt is its code. */
                if (c == '?' && optopt > 0 && optopt < 0x80 && isalnum(optopt))
                        typed = short_opt;
                r = apply_option(c, optarg, typed, verb, help, a);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int operands(const verb_spec *v, int argc, char **argv, cli_args *a)
{
        size_t n = (size_t)(argc - optind);

        if (n < v->min_args)
                return cli_usage_error(v->name, "needs %s %s",
                                       strchr("AEIOU", v->operand[0]) ? "an" : "a", v->operand);
        if (n > v->max_args)
                return cli_usage_error(v->name, "takes %s %s, got also '%s'",
                                       v->max_args == 0 ? "no" : "one", v->operand,
                                       argv[optind + v->max_args]);
        a->args = argv + optind;
        a->n_args = n;
        return 0;
}

static int set_defaults(cli_args *a)
{
        *a = (cli_args){ .interval = 1.0 };
        a->config_dir = strdup(OVERLAY_HELPER_CONFIG_DIR);
        a->state_dir = strdup(OVERLAY_HELPER_STATE_DIR);
        a->runtime_dir = strdup(OVERLAY_HELPER_RUNTIME_DIR);
        return a->config_dir && a->state_dir && a->runtime_dir ? 0 : -ENOMEM;
}

int cli_parse(int argc, char **argv, const verb_spec *verbs, size_t n_verbs,
              void (*help)(void), const verb_spec **ret_verb, cli_args *a)
{
        const verb_spec *verb = NULL;
        int r;

        r = set_defaults(a);
        if (r < 0)
                return r;
        /* '+': stop at the verb; the verb's own loop parses the rest. */
        r = option_loop(argc, argv, "+:qvh", NULL, help, a);
        if (r != 0)
                return r;
        if (optind >= argc) {
                _cleanup_free_ char *names = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&names, &len);
                for (size_t i = 0; f && i < n_verbs; i++)
                        fprintf(f, "%s%s", i ? ", " : "", verbs[i].name);
                if (f)
                        fclose(f);
                return cli_usage_error(NULL, "no command given (%s)", names ? names : "see --help");
        }
        for (size_t i = 0; i < n_verbs && !verb; i++)
                if (streq(argv[optind], verbs[i].name))
                        verb = &verbs[i];
        if (!verb)
                return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);
        if (a->early_option && (option_needs(a->early_option) & ~verb->options))
                return cli_usage_error(verb->name, "%s does not take --%s", verb->name,
                                       option_name(a->early_option));
        argc -= optind;
        argv += optind;
        r = option_loop(argc, argv, ":qvh", verb, help, a);
        if (r != 0)
                return r;
        r = operands(verb, argc, argv, a);
        if (r < 0)
                return r;
        *ret_verb = verb;
        return 0;
}

void cli_args_done(cli_args *a)
{
        free(a->config_dir);
        free(a->state_dir);
        free(a->runtime_dir);
        *a = (cli_args){ 0 };
}
