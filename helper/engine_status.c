/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* engine_status.c: which instances exist, and what each looks like, from
 * one scan shared by all of them. See engine.h. */
#include <dirent.h>

#include "engine.h"
#include "kind.h"
#include "state.h"
#include "strv.h"
#include "util.h"

/* CONFIG_DIR/NAME.conf; templates (PREFIX@.conf) are not instances. */
static int list_configs(const char *config_dir, char ***names)
{
        _cleanup_(closedirp) DIR *dir = opendir(config_dir);
        struct dirent *de;

        if (!dir)
                return errno == ENOENT ? 0 : negative_errno();
        while ((de = readdir(dir))) {
                size_t len = strlen(de->d_name);
                if (len <= 5 || !streq(de->d_name + len - 5, ".conf") || de->d_name[len - 6] == '@')
                        continue;
                if (strv_add_len(names, de->d_name, len - 5) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int add_all(char ***names, char **more)
{
        int r = 0;

        for (char **p = more; r >= 0 && p && *p; p++)
                if (instance_name_check(*p) == 0)
                        r = strv_add(names, *p);
        strv_free(more);
        return r;
}

int engine_list_instances(const engine_env *env, char ***ret)
{
        char **names = NULL, **more = NULL;
        int r;

        r = list_configs(env->config_dir, &names);
        /* Mounted template instances (game@3 from game@.conf) have no file
         * of their own: the kinds' mounts and the records name them. */
        for (const inst_kind *const *k = engine_kinds; r >= 0 && *k; k++)
                r = (*k)->list_mounted(&more);
        if (r >= 0)
                r = add_all(&names, TAKE_PTR(more));
        if (r >= 0)
                r = state_list(env->runtime_dir, &more);
        if (r >= 0)
                r = add_all(&names, TAKE_PTR(more));
        strv_free(more);
        if (r >= 0 && !names)
                r = strv_new_empty(&names);
        if (r < 0) {
                strv_free(names);
                return r;
        }
        strv_sort_unique(names);
        *ret = names;
        return 0;
}

/* Loads S's config and fills what status shows without a scan. Per-instance
 * problems land in S->failure. Returns: 1 with *T to scan, 0 when there is
 * nothing to scan for S, -ENOMEM. */
static int prepare_one(const engine_env *env, inst_status *s, probe_target *t)
{
        _cleanup_free_ char *error = NULL;
        int r;

        if (instance_name_check(s->name) < 0) {
                (void)config_load(env->config_dir, env->state_dir, s->name, &s->cfg, &error);
                inst_fail(&s->failure, STEP_NAME, -EINVAL, NULL, NULL,
                            error ? error : "invalid instance name");
                return 0;
        }
        r = config_load(env->config_dir, env->state_dir, s->name, &s->cfg, &error);
        if (r < 0) {
                inst_fail(&s->failure, STEP_CONFIG, r, NULL, env->config_dir, error);
                return r == -ENOMEM ? r : 0;
        }
        r = engine_kind_of(s->cfg)->status_target(env, s, t);
        if (r == -ENOMEM)
                return r;
        return r < 0 ? 0 : 1;
}

/* "free" needs the kernel's word (a nested overlay's clone, an alias, a
 * lazily detached tree are in no table): ask it for an instance mounted
 * nowhere the scan looked, and for no other, so that status of many mounted
 * instances pays nothing for it. */
static void ask_kernel(const engine_env *env, inst_status *s)
{
        int r;

        if (s->mount || s->lookup_error || s->copies.n_copies > 0 ||
            s->failure.step != STEP_NONE)
                return;
        r = engine_kernel_in_use_cfg(env, s->cfg);
        s->copies.kernel_asked = r >= 0;
        s->copies.kernel_in_use = r > 0;
        s->copies.kernel_error = r < 0 ? r : 0;
}

int engine_status(const engine_env *env, char *const *names, size_t n, inst_status *ret)
{
        probe_target *targets = calloc(n ? n : 1, sizeof(probe_target));
        probe_result *results = calloc(n ? n : 1, sizeof(probe_result));
        size_t *index = calloc(n ? n : 1, sizeof(size_t));
        size_t n_targets = 0;
        int r = targets && results && index ? 0 : -ENOMEM;

        for (size_t i = 0; i < n; i++)
                ret[i] = (inst_status){ 0 };
        for (size_t i = 0; r >= 0 && i < n; i++) {
                ret[i].name = strdup(names[i]);
                if (!ret[i].name) {
                        r = -ENOMEM;
                        break;
                }
                r = prepare_one(env, &ret[i], &targets[n_targets]);
                if (r > 0)
                        index[n_targets++] = i;
        }
        if (r >= 0)
                r = probe_scan_many(targets, n_targets, results);
        for (size_t k = 0; r >= 0 && k < n_targets; k++) {
                ret[index[k]].copies = results[k];
                results[k] = (probe_result){ 0 };
                ask_kernel(env, &ret[index[k]]);
        }
        for (size_t k = 0; k < n_targets; k++)
                probe_target_done(&targets[k]);
        free(targets);
        free(results);
        free(index);
        if (r < 0)
                for (size_t i = 0; i < n; i++)
                        inst_status_done(&ret[i]);
        return r < 0 ? r : 0;
}
