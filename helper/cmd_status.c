/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_status.c: the status verb: every instance asked for (or every one
 * there is), from one scan shared by all. */
#include "caps.h"
#include "json.h"
#include "log.h"
#include "mounttab.h"
#include "ns.h"
#include "probe_output.h"
#include "report.h"
#include "strv.h"
#include "util.h"
#include "verbs.h"

static void print_human(const inst_status *s)
{
        const overlay_config *cfg = s->cfg;
        const mount_entry *m = s->mount;
        _cleanup_free_ char *who = NULL;

        printf("%s: %s\n", cfg->instance,
               s->lookup_error ? "unknown (Merged cannot be looked at)"
               : !m && s->copies.n_copies == 0 && s->copies.kernel_in_use
                               ? "not mounted here, but in use: the kernel reports its Upper or "
                                 "Work used by a live overlay"
               : !m            ? "not mounted"
               : s->ours       ? "mounted"
                               : "something else is mounted on Merged");
        if (m)
                printf("  mount:  %s %s (%s)\n", m->fstype, m->source, m->fs_options);
        else if (s->lookup_error)
                printf("  mount:  unknown: looking at %s failed: %s\n", cfg->merged,
                       strerror(-s->lookup_error));
        for (size_t i = 0; i < cfg->n_lowers; i++)
                printf("  %s %s\n", i == 0 ? "lower: " : "       ", cfg->lowers[i]);
        for (size_t i = 0; i < s->n_images; i++) {
                const inst_image *img = &s->images[i];
                if (img->error)
                        printf("  image:  %s: cannot be looked at: %s\n", img->path,
                               strerror(-img->error));
                else if (!img->device)
                        printf("  image:  %s: no loop device attached\n", img->path);
                else
                        printf("  image:  %s on %s (%s, diskseq %llu)%s\n", img->path, img->device,
                               img->read_only ? "read-only" : "READ-WRITE",
                               (unsigned long long)img->diskseq,
                               img->stale ? ": STALE, the image changed since it was attached"
                                          : "");
        }
        printf("  upper:  %s\n  work:   %s\n  merged: %s\n", cfg->upper, cfg->work, cfg->merged);
        if (probe_holding_copies(&s->copies) > (size_t)(m && s->ours) || s->copies.n_holders) {
                who = probe_describe(&s->copies);
                printf("  held:   %s\n", who ? who : "?");
        } else if (!m && s->copies.kernel_in_use)
                printf("  held:   by a live overlay no scan can see (a nested overlay whose lower "
                       "is inside it, an alias, a lazily detached mount); 'overlay-helper probe "
                       "%s' for details\n", cfg->instance);
}

static void print_json_images(const inst_status *s)
{
        fputs(",\"images\":[", stdout);
        for (size_t i = 0; i < s->n_images; i++) {
                const inst_image *img = &s->images[i];
                fputs(i ? ",{" : "{", stdout);
                json_kv_string(stdout, true, "path", img->path);
                json_kv_string(stdout, false, "device", img->device);
                json_kv_u64(stdout, false, "diskseq", img->diskseq);
                json_kv_bool(stdout, false, "read_only", img->read_only);
                json_kv_bool(stdout, false, "stale", img->stale);
                json_kv_string(stdout, false, "error", img->error ? strerror(-img->error) : NULL);
                fputc('}', stdout);
        }
        fputc(']', stdout);
}

/* The mount on Merged, its options decoded like every other string: the
 * escapes are mountinfo's way of keeping fields apart, not the text. */
static void print_json_mount(const inst_status *s)
{
        const mount_entry *m = s->mount;
        _cleanup_free_ char *options = m ? strdup(m->fs_options) : NULL;

        fputs(",\"mount\":", stdout);
        if (!m) {
                fputs("null", stdout);
                return;
        }
        if (options)
                unescape_octal(options);
        fputc('{', stdout);
        json_kv_u64(stdout, true, "mnt_id", m->mountinfo_id);
        json_kv_id(stdout, false, "mnt_id_unique", m->unique_id);
        json_kv_string(stdout, false, "fstype", m->fstype);
        json_kv_string(stdout, false, "source", m->source);
        json_kv_string(stdout, false, "options", options ? options : m->fs_options);
        json_kv_bool(stdout, false, "same_layers", s->same_layers);
        fputc('}', stdout);
}

/* docs/json.md is the schema: every key is always there, null where unknown. */
static void print_json(const inst_status *s)
{
        const overlay_config *cfg = s->cfg;
        const mount_entry *m = s->mount;

        fputc('{', stdout);
        json_kv_string(stdout, true, "target", cfg->merged);
        json_kv_string(stdout, false, "instance", cfg->instance);
        json_kv_bool(stdout, false, "mounted", m && s->ours);
        /* Merged that could not be looked at leaves it unknown: never free */
        json_kv_bool(stdout, false, "free", !m && !s->lookup_error && probe_free(&s->copies));
        json_kv_tristate(stdout, false, "kernel_in_use", s->copies.kernel_asked,
                         s->copies.kernel_in_use);
        fputs(",\"copies\":", stdout);
        probe_json_copies(stdout, &s->copies);
        json_kv_strv(stdout, false, "lowers", cfg->lowers);
        print_json_images(s);
        json_kv_string(stdout, false, "upper", cfg->upper);
        json_kv_string(stdout, false, "work", cfg->work);
        json_kv_string(stdout, false, "merged", cfg->merged);
        json_kv_string(stdout, false, "config", cfg->path);
        print_json_mount(s);
        json_kv_string(stdout, false, "mount_error",
                       s->lookup_error ? strerror(-s->lookup_error) : NULL);
        json_kv_string(stdout, false, "error", NULL);
        fputc('}', stdout);
}

/* An instance status could not show: JSON still gets an entry for it, with
 * the same "instance" and "error" keys and nothing else. */
static void print_json_failed(const inst_status *s)
{
        const inst_failure *f = &s->failure;

        fputc('{', stdout);
        json_kv_string(stdout, true, "instance", s->name);
        json_kv_string(stdout, false, "error", f->detail ? f->detail : strerror(-f->error));
        fputc('}', stdout);
}

/* Returns: the exit status for a failure of an instance status shows. An
 * instance it found by itself (a record or a mount left after its config
 * was removed) is a failure to report, not bad usage. */
static int failed_status(const inst_status *s, bool named)
{
        int status = report_exit_status(s->failure.error < 0 ? s->failure.error : -EINVAL,
                                        &s->failure);

        log_set_instance(s->name);
        report_failure("status", s->name, &s->failure);
        return status == EXIT_USAGE && !named && s->failure.error == -ENOENT ? EXIT_FAILED : status;
}

/* Returns: the worst exit status of the instances shown. */
static int print_all(const cli_args *args, inst_status *st, size_t n)
{
        bool printed = false, named = args->n_args > 0;
        int worst = EXIT_OK;

        if (args->json)
                fputs("{\"instances\":[", stdout);
        for (size_t i = 0; i < n; i++) {
                bool failed = st[i].failure.step != STEP_NONE;
                if (failed) {
                        int status = failed_status(&st[i], named);
                        worst = status > worst ? status : worst;
                }
                if (args->json) {
                        if (printed)
                                fputc(',', stdout);
                        if (failed)
                                print_json_failed(&st[i]);
                        else
                                print_json(&st[i]);
                        printed = true;
                } else if (!failed)
                        print_human(&st[i]);
        }
        if (args->json)
                fputs("]}\n", stdout);
        return worst;
}

int verb_status(const cli_args *args)
{
        const engine_env env = verb_engine_env(args);
        char **listed = NULL;
        char *const *names = args->args;
        size_t n = args->n_args;
        inst_status *st;
        int r, worst;

        r = caps_drop(CAPS_READ);
        if (r < 0)
                return log_error_errno(r, "dropping capabilities failed: %m"), EXIT_FAILED;
        /* Report PID 1's view; unprivileged callers report their own. */
        if (ns_enter_pid1_mnt() < 0)
                log_debug("cannot join PID 1's mount namespace; showing this one");
        if (n == 0) {
                r = engine_list_instances(&env, &listed);
                if (r < 0)
                        return log_error_errno(r, "listing the instances in %s and %s failed: %m",
                                               args->config_dir, args->runtime_dir), EXIT_FAILED;
                names = listed;
                n = strv_length(listed);
        }
        st = calloc(n ? n : 1, sizeof(inst_status));
        r = st ? engine_status(&env, names, n, st) : -ENOMEM;
        if (r < 0) {
                free(st);
                strv_free(listed);
                return log_error_errno(r, "scanning mount namespaces for status failed: %m"),
                       EXIT_FAILED;
        }
        worst = print_all(args, st, n);
        for (size_t i = 0; i < n; i++)
                inst_status_done(&st[i]);
        free(st);
        strv_free(listed);
        return worst;
}
