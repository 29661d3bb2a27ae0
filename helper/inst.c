/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inst.c: see inst.h: used by the engine's frame and by every kind alike,
 * so it depends on neither. */
#include "inst.h"
#include "util.h"

void inst_failure_done(inst_failure *f)
{
        free(f->path);
        free(f->detail);
        free(f->comm);
        free(f->unit);
        probe_result_done(&f->holders);
        config_free(f->cfg);
        *f = (inst_failure){ 0 };
}

int inst_fail(inst_failure *f, inst_step step, int error, const char *what, const char *path,
              const char *detail)
{
        free(f->path);
        free(f->detail);
        f->step = step;
        f->error = error;
        f->what = what;
        f->path = path ? strdup(path) : NULL;
        f->detail = detail ? strdup(detail) : NULL;
        /* a message missing its path is still better than none */
        return error < 0 ? error : -EIO;
}

void inst_emit_detail(const inst_run *run, inst_event_kind kind, const char *what,
                      const char *path, const char *detail)
{
        const inst_event ev = {
                .kind = kind, .instance = run->name, .cfg = run->cfg, .what = what, .path = path,
                .detail = detail,
        };

        if (run->env->on_event)
                run->env->on_event(&ev, run->env->userdata);
}

void inst_emit(const inst_run *run, inst_event_kind kind, const char *what, const char *path)
{
        inst_emit_detail(run, kind, what, path, NULL);
}

bool engine_step_is_usage(inst_step step, int error)
{
        /* A config that exists but cannot be read is a failure, not usage. */
        return step == STEP_NAME || (step == STEP_CONFIG && (error == -EINVAL || error == -ENOENT));
}

bool engine_step_is_busy(inst_step step, int error)
{
        switch (step) {
        case STEP_LOCK:
        case STEP_IMAGE_LOCK:
                return error == -EBUSY;
        case STEP_LIVE_COPY:
        case STEP_OTHER_SB:
        case STEP_BUSY:
        case STEP_OWN_UNIT:
        case STEP_GHOST:
        case STEP_STILL_MOUNTED:
        case STEP_SUBMOUNT:
        case STEP_IMAGE_WRITER:
        case STEP_IMAGE_STALE:
        case STEP_IMAGE_BUSY:
                return true;
        case STEP_EMPTY:
                return error == -EXDEV;
        default:
                return false;
        }
}

void inst_status_done(inst_status *s)
{
        free(s->name);
        config_free(s->cfg);
        inst_failure_done(&s->failure);
        if (s->mount)
                mount_entry_free(s->mount);
        probe_result_done(&s->copies);
        for (size_t i = 0; i < s->n_images; i++) {
                free(s->images[i].path);
                free(s->images[i].device);
        }
        free(s->images);
        *s = (inst_status){ 0 };
}
