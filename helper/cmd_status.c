/* cmd_status.c: the status verb (and, until it lands, the probe placeholder). */
#include <dirent.h>
#include <getopt.h>

#include "caps.h"
#include "config.h"
#include "instance.h"
#include "json.h"
#include "log.h"
#include "mounttab.h"
#include "ns.h"
#include "overlay.h"
#include "probe.h"
#include "probe_output.h"
#include "util.h"
#include "verbs.h"

static void print_human(const overlay_config *cfg, const mount_entry *m, bool ours,
                        const probe_result *copies)
{
        _cleanup_free_ char *who = NULL;

        printf("%s: %s\n", cfg->instance,
               !m ? "not mounted" : ours ? "mounted" : "something else is mounted on Merged");
        if (m)
                printf("  mount:  %s %s (%s)\n", m->fstype, m->source, m->fs_options);
        for (size_t i = 0; i < cfg->n_lowers; i++)
                printf("  %s %s\n", i == 0 ? "lower: " : "       ", cfg->lowers[i]);
        printf("  upper:  %s\n  work:   %s\n  merged: %s\n", cfg->upper, cfg->work, cfg->merged);
        if (copies->n_copies > (size_t)(m && ours) || copies->n_holders) {
                who = probe_describe(copies);
                printf("  held:   %s\n", who ? who : "?");
        }
}

static void print_json(const overlay_config *cfg, const mount_entry *m, bool ours,
                       const probe_result *copies)
{
        bool mounted = m && ours;

        fputc('{', stdout);
        json_kv_string(stdout, true, "target", cfg->merged);
        json_kv_string(stdout, false, "instance", cfg->instance);
        json_kv_bool(stdout, false, "mounted", mounted);
        json_kv_bool(stdout, false, "free", !m && probe_free(copies));
        fputs(",\"copies\":", stdout);
        probe_json_copies(stdout, copies);
        fputs(",\"lowers\":[", stdout);
        for (size_t i = 0; i < cfg->n_lowers; i++) {
                if (i)
                        fputc(',', stdout);
                json_string(stdout, cfg->lowers[i]);
        }
        fputc(']', stdout);
        json_kv_string(stdout, false, "upper", cfg->upper);
        json_kv_string(stdout, false, "work", cfg->work);
        json_kv_string(stdout, false, "merged", cfg->merged);
        json_kv_string(stdout, false, "config", cfg->path);
        fputs(",\"mount\":", stdout);
        if (m) {
                fputc('{', stdout);
                json_kv_u64(stdout, true, "mnt_id", m->mnt_id);
                json_kv_string(stdout, false, "fstype", m->fstype);
                json_kv_string(stdout, false, "source", m->source);
                json_kv_string(stdout, false, "options", m->fs_options);
                json_kv_bool(stdout, false, "same_layers", overlay_same_layers(m, cfg));
                fputc('}', stdout);
        } else
                fputs("null", stdout);
        fputc('}', stdout);
}

/* Returns: an exit status for this one instance; *printed is set once
 * something is written (the JSON list needs its commas right). */
static int status_one(const char *name, bool *printed)
{
        _cleanup_config_ overlay_config *cfg = NULL;
        _cleanup_mount_entry_ mount_entry *m = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        log_set_instance(name);
        if (instance_name_check(name) < 0)
                return log_bad_name(name);
        r = config_load(arg.config_dir, arg.state_dir, name, &cfg, &error);
        if (r < 0)
                return log_config_error(r, error);
        r = mount_at(cfg->merged, &m);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "looking up the mount at %s failed: %m", cfg->merged),
                       EXIT_FAILED;
        bool ours = m && overlay_is_instance(m, cfg);
        probe_result copies;
        uint64_t recorded = 0;
        (void)instance_record_read(cfg->instance, &recorded);
        r = probe_instance(cfg, ours ? m->devnum : 0, recorded, &copies);
        if (r < 0)
                return log_error_errno(r, "scanning mount namespaces for %s failed: %m",
                                       cfg->merged), EXIT_FAILED;
        if (arg.json) {
                if (*printed)
                        fputc(',', stdout);
                print_json(cfg, m, ours, &copies);
        } else
                print_human(cfg, m, ours, &copies);
        *printed = true;
        probe_result_done(&copies);
        return EXIT_OK;
}

static int list_instances(char ***ret, size_t *ret_n)
{
        _cleanup_(closedirp) DIR *dir = NULL;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;

        dir = opendir(arg.config_dir);
        if (!dir)
                return negative_errno();
        while ((de = readdir(dir))) {
                size_t len = strlen(de->d_name);
                /* templates (PREFIX@.conf) are not instances */
                if (len <= 5 || !streq(de->d_name + len - 5, ".conf") || de->d_name[len - 6] == '@')
                        continue;
                char **nv = realloc(names, (n + 2) * sizeof(char *));
                if (!nv)
                        break;
                names = nv;
                names[n] = strndup(de->d_name, len - 5);
                if (names[n])
                        names[++n] = NULL;
        }
        *ret = names;
        *ret_n = n;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int verb_status(int argc, char **argv)
{
        static const struct option options[] = { COMMON_LONG_OPTIONS, {} };
        char **names = NULL;
        size_t n = 0;
        int c, r, worst = EXIT_OK;

        while ((c = getopt_long(argc, argv, ":qvh", options, NULL)) >= 0) {
                r = parse_common_option(c, optarg);
                if (r < 0)
                        return usage_error("status", "invalid value for %s", argv[optind - 1]);
                if (r > 0)
                        continue;
                if (c == 'h') {
                        printf("Usage: overlay-helper status [--json] [INSTANCE...]\n");
                        return EXIT_OK;
                }
                return usage_error("status", "unknown option '%s'", argv[optind - 1]);
        }
        log_setup(arg.verbosity);
        r = caps_drop(CAPS_READ);
        if (r < 0)
                return log_error_errno(r, "dropping capabilities failed: %m"), EXIT_FAILED;
        /* Report PID 1's view; unprivileged callers report their own. */
        if (ns_enter_pid1_mnt() < 0)
                log_debug("cannot join PID 1's mount namespace; showing this one");

        if (optind < argc) {
                names = argv + optind;
                n = (size_t)(argc - optind);
        } else if (list_instances(&names, &n) < 0) {
                return log_error_errno(negative_errno(), "reading config dir %s failed: %m",
                                       arg.config_dir), EXIT_FAILED;
        } else
                qsort(names, n, sizeof(char *), cmp_str);

        bool many = arg.json && (optind >= argc || n != 1);
        if (many)
                fputs("{\"instances\":[", stdout);
        bool printed = false;
        for (size_t i = 0; i < n; i++) {
                r = status_one(names[i], &printed);
                if (r > worst)
                        worst = r;
        }
        if (many)
                fputs("]}", stdout);
        if (arg.json)
                fputc('\n', stdout);
        if (optind >= argc) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
        }
        return worst;
}

