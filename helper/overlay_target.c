/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overlay_target.c: how the overlay kind hands its layers to overlay.c and
 * recognises copies of its mount (kind_overlay.h). */
#include <time.h>

#include "kind_overlay.h"
#include "lock.h"
#include "safedir.h"
#include "util.h"

overlay_spec ovl_spec(const overlay_config *cfg)
{
        return (overlay_spec){
                .name = cfg->instance,
                .lowers = cfg->layer_lowers ? cfg->layer_lowers : cfg->lowers,
                .n_lowers = cfg->n_lowers,
                .upper = cfg->upper,
                .work = cfg->work,
                .options = cfg->options,
                .mount_attr = cfg->mount_attr,
        };
}

static char *canonical_or_copy(const char *path)
{
        char *c = realpath(path, NULL);
        return c ? c : strdup(path);
}

int ovl_probe_target(const overlay_config *cfg, dev_t devnum, uint64_t min_mnt_id,
                     probe_target *ret)
{
        probe_target t = { .devnum = devnum, .min_mnt_id = min_mnt_id };

        t.input = strdup(cfg->instance);
        t.instance = strdup(cfg->instance);
        t.path = strdup(cfg->merged);
        t.upper = canonical_or_copy(cfg->upper);
        t.work = canonical_or_copy(cfg->work);
        if (!t.input || !t.instance || !t.path || !t.upper || !t.work) {
                probe_target_done(&t);
                return -ENOMEM;
        }
        probe_target_layer_ids(&t);
        *ret = t;
        return 0;
}

int ovl_scan(const overlay_config *cfg, dev_t devnum, uint64_t min_mnt_id, probe_result *ret)
{
        probe_target t;
        int r = ovl_probe_target(cfg, devnum, min_mnt_id, &t);

        if (r < 0)
                return r;
        r = probe_scan(&t, ret);
        probe_target_done(&t);
        return r;
}

#define CHECK_LOCK ".kernel-check"

int ovl_check_lock(const char *runtime_dir, double wait_sec, pid_t *ret_holder)
{
        /* not an instance name (those never start with '.'): no clash */
        return lock_instance(runtime_dir, CHECK_LOCK, wait_sec, ret_holder);
}

void ovl_check_unlock(const char *runtime_dir, int fd)
{
        /* like an instance's lock file, it goes once released; a waiter
         * that finds its file unlinked takes a new one (lock.h) */
        lock_release(fd, runtime_dir, CHECK_LOCK, true);
}

int ovl_kernel_in_use(const overlay_config *cfg)
{
        _cleanup_close_ int upper_fd = safe_open_dir(cfg->upper);
        _cleanup_close_ int work_fd = safe_open_dir(cfg->work);
        overlay_spec spec = ovl_spec(cfg);

        if (upper_fd == -ENOENT && work_fd == -ENOENT)
                return 0;
        /* a ghost whose Upper was moved away still uses Work */
        if (upper_fd < 0)
                return upper_fd;
        if (work_fd < 0)
                return work_fd;
        return overlay_in_use(&spec, upper_fd, work_fd);
}

int ovl_kernel_in_use_locked(const engine_env *env, const overlay_config *cfg)
{
        pid_t holder_pid = 0;
        int fd = ovl_check_lock(env->runtime_dir, 1.0, &holder_pid), r;

        if (fd < 0)
                return fd == -EBUSY ? -EAGAIN : fd;
        r = ovl_kernel_in_use(cfg);
        ovl_check_unlock(env->runtime_dir, fd);
        return r;
}

/* Long enough for a superblock whose last mount just went to be torn down
 * (a task_work or the kernel's delayed mntput/fput worker), short next to
 * the exit 3 it may spare. */
#define RECHECK_PAUSE_NSEC (100 * 1000 * 1000)

int ovl_kernel_recheck(const engine_env *env, const overlay_config *cfg, bool have_lock)
{
        struct timespec pause = { .tv_nsec = RECHECK_PAUSE_NSEC };

        /* Nothing signals a superblock's end: a pause, not an event wait. */
        (void)nanosleep(&pause, NULL);
        return have_lock ? ovl_kernel_in_use(cfg) : ovl_kernel_in_use_locked(env, cfg);
}

int ovl_fail_foreign(inst_failure *f, const overlay_config *cfg, const mount_entry *m)
{
        _cleanup_free_ char *what = NULL;

        if (asprintf(&what, "%s '%s' (options %s)", m->fstype, m->source, m->fs_options) < 0)
                what = NULL;
        return inst_fail(f, STEP_FOREIGN, -EEXIST, NULL, cfg->merged, what);
}
