/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kind_overlay.c: the [Overlay] instance kind's table, and what its setup,
 * teardown and status share. */
#include "kind_overlay.h"
#include "state.h"
#include "util.h"

overlay_spec ovl_spec(const overlay_config *cfg)
{
        return (overlay_spec){
                .name = cfg->instance,
                .lowers = cfg->lowers,
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

/* Copies of the mount the helper made, and any overlay made on its layers
 * since, have later unique ids than the record: older tables need no
 * reading (state.h). */
static int ovl_status_target(const engine_env *env, inst_status *s, probe_target *ret)
{
        const overlay_config *cfg = s->cfg;
        overlay_spec spec = ovl_spec(cfg);
        uint64_t recorded = 0;
        int r = mount_at(cfg->merged, &s->mount);

        if (r < 0 && r != -ENOENT)
                return engine_fail(&s->failure, STEP_LOOKUP, r, NULL, cfg->merged, NULL);
        if (s->mount) {
                s->ours = overlay_is_instance(s->mount, &spec);
                s->same_layers = overlay_same_layers(s->mount, &spec);
        }
        (void)state_mount_read(env->runtime_dir, cfg->instance, &recorded);
        r = ovl_probe_target(cfg, s->ours ? s->mount->devnum : 0, recorded, ret);
        return r < 0 ? engine_fail(&s->failure, STEP_SCAN, r, NULL, cfg->merged, NULL) : 0;
}

const inst_kind overlay_kind = {
        .name = "overlay",
        .mount = ovl_mount,
        .umount = ovl_umount,
        .purge = ovl_purge,
        .status_target = ovl_status_target,
};
