/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* engine.c: see engine.h. The frame every state-changing run goes through;
 * what happens inside it is the instance kind's (kind.h). */
#include <stdarg.h>

#include "caps.h"
#include "engine.h"
#include "kind.h"
#include "lock.h"
#include "ns.h"
#include "state.h"
#include "util.h"

/* config_load() checks the name first; its message says what is wrong. */
static int load_config(const engine_env *env, const char *name, overlay_config **ret,
                       inst_failure *f)
{
        _cleanup_free_ char *error = NULL;
        int r = config_load(env->config_dir, env->state_dir, name, ret, &error);

        if (r >= 0)
                return 0;
        inst_fail(f, STEP_CONFIG, r, NULL, env->config_dir, error);
        return r;
}

static int check_name(const engine_env *env, const char *name, inst_failure *f)
{
        _cleanup_free_ char *error = NULL;
        overlay_config *unused = NULL;

        if (instance_name_check(name) == 0)
                return 0;
        (void)config_load(env->config_dir, env->state_dir, name, &unused, &error);
        if (unused)
                config_free(unused);
        return inst_fail(f, STEP_NAME, -EINVAL, NULL, NULL, error ? error : "invalid instance name");
}

/* Root's work only: say so, rather than let setns() answer EPERM. */
static int check_privilege(inst_failure *f)
{
        if (geteuid() != 0)
                return inst_fail(f, STEP_PRIVILEGE, -EPERM, NULL, NULL, NULL);
        return 0;
}

static int enter_frame(const engine_env *env, inst_run *run, inst_failure *f)
{
        int r = caps_drop(CAPS_CHANGE);

        if (r < 0)
                return inst_fail(f, STEP_CAPS, r, NULL, NULL, NULL);
        r = ns_enter_pid1_mnt();
        if (r < 0)
                return inst_fail(f, STEP_SETNS, r, NULL, "/proc/1/ns/mnt", NULL);
        if (r > 0)
                inst_emit(run, IEV_NS_JOINED, NULL, NULL);
        /* setns() moved cwd to /, but a unit without sandboxing runs its "+"
         * lines in PID 1's namespace already, with WorkingDirectory= perhaps
         * inside the very overlay we are asked to unmount. */
        if (chdir("/") < 0)
                return inst_fail(f, STEP_CHDIR, negative_errno(), NULL, "/", NULL);
        (void)env;
        return 0;
}

static int take_lock(const engine_env *env, inst_run *run, inst_failure *f)
{
        _cleanup_free_ char *path = NULL;
        pid_t holder_pid = 0;
        int r;

        r = lock_instance(env->runtime_dir, run->name, env->wait_sec, &holder_pid);
        if (r >= 0) {
                run->lock_fd = r;
                return 0;
        }
        if (asprintf(&path, "%s/%s.lock", env->runtime_dir, run->name) < 0)
                path = NULL;
        inst_fail(f, STEP_LOCK, r, NULL, path, NULL);
        f->pid = holder_pid;
        f->waited = env->wait_sec;
        return r;
}

const inst_kind *const engine_kinds[] = { &overlay_kind, NULL };

const inst_kind *engine_kind_of(const overlay_config *cfg)
{
        (void)cfg; /* one kind today: [Overlay] */
        return &overlay_kind;
}

int engine_run(const engine_env *env, inst_action action, const char *name, inst_failure *f)
{
        inst_run run = { .env = env, .name = name, .lock_fd = -EBADF };
        const inst_kind *kind;
        int r;

        *f = (inst_failure){ 0 };
        r = check_name(env, name, f);
        if (r >= 0)
                r = check_privilege(f);
        if (r >= 0)
                r = enter_frame(env, &run, f);
        if (r >= 0)
                r = load_config(env, name, &run.cfg, f);
        if (r >= 0)
                r = take_lock(env, &run, f);
        if (r < 0) {
                f->cfg = run.cfg;
                return r;
        }
        run.deadline = now_sec() + env->wait_sec;
        kind = engine_kind_of(run.cfg);
        switch (action) {
        case INST_MOUNT:
                r = kind->mount(&run, f);
                break;
        case INST_UMOUNT:
                r = kind->umount(&run, f);
                break;
        case INST_PURGE:
                r = kind->purge(&run, f);
                break;
        }
        /* The lock file goes once the instance is down: nothing to guard. */
        lock_release(run.lock_fd, env->runtime_dir, name, r >= 0 && action != INST_MOUNT);
        if (r < 0)
                f->cfg = TAKE_PTR(run.cfg);
        config_free(run.cfg);
        return r;
}

int engine_probe_target(const engine_env *env, const char *name, probe_target *ret,
                        inst_failure *f)
{
        inst_status s = { 0 };
        int r;

        *f = (inst_failure){ 0 };
        if (instance_name_check(name) < 0)
                return -ENOENT;
        r = load_config(env, name, &s.cfg, f);
        if (r == -ENOENT) {
                inst_failure_done(f);
                return r;
        }
        if (r >= 0)
                r = engine_kind_of(s.cfg)->status_target(env, &s, ret);
        if (r < 0 && s.failure.step != STEP_NONE) {
                *f = s.failure;
                s.failure = (inst_failure){ 0 };
        }
        inst_status_done(&s);
        return r;
}

int engine_kernel_in_use_cfg(const engine_env *env, const overlay_config *cfg)
{
        uint64_t raised = 0;
        int r;

        /* The read-only verbs keep what the check needs permitted only: the
         * scans around it run with the least (caps.h). */
        r = caps_raise_check(&raised);
        if (r < 0)
                return r;
        r = engine_kind_of(cfg)->kernel_in_use(env, cfg);
        caps_lower_check(raised);
        return r;
}

int engine_kernel_in_use_dirs(const engine_env *env, const char *upper, const char *work)
{
        /* the check takes nothing else from a config: Work is its only lower */
        const overlay_config cfg = {
                .instance = (char *)"probe",
                .upper = (char *)upper,
                .work = (char *)work,
        };

        return engine_kernel_in_use_cfg(env, &cfg);
}

int engine_kernel_in_use(const engine_env *env, const char *name)
{
        _cleanup_free_ char *error = NULL;
        overlay_config *cfg = NULL;
        int r;

        r = config_load(env->config_dir, env->state_dir, name, &cfg, &error);
        if (r < 0)
                return r;
        r = engine_kernel_in_use_cfg(env, cfg);
        config_free(cfg);
        return r;
}
