/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_lifecycle.c: the mount, umount and purge verbs: the engine does the
 * work, the verb reports it. */
#include "log.h"
#include "report.h"
#include "verbs.h"

engine_env verb_engine_env(const cli_args *args)
{
        return (engine_env){
                .config_dir = args->config_dir,
                .state_dir = args->state_dir,
                .runtime_dir = args->runtime_dir,
                .wait_sec = args->wait_sec,
                .on_event = report_event,
        };
}

static int run_action(const cli_args *args, inst_action action, const char *verb)
{
        const engine_env env = verb_engine_env(args);
        const char *name = args->args[0];
        inst_failure f;
        int r, status;

        log_set_instance(name);
        r = engine_run(&env, action, name, &f);
        if (r < 0)
                report_failure(verb, name, &f);
        status = report_exit_status(r, &f);
        inst_failure_done(&f);
        return status;
}

int verb_mount(const cli_args *args)
{
        return run_action(args, INST_MOUNT, "mount");
}

int verb_umount(const cli_args *args)
{
        return run_action(args, INST_UMOUNT, "umount");
}

int verb_purge(const cli_args *args)
{
        return run_action(args, INST_PURGE, "purge");
}
