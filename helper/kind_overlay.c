/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kind_overlay.c: the [Overlay] instance kind's table, and what its setup,
 * teardown and status share. */
#include "kind_overlay.h"
#include "mountsrc.h"
#include "state.h"
#include "strv.h"
#include "util.h"

/* Copies of the mount the helper made, and any overlay made on its layers
 * since, have later unique ids than the record: older tables need no
 * reading (state.h). */
static int ovl_status_target(const engine_env *env, inst_status *s, probe_target *ret)
{
        const overlay_config *cfg = s->cfg;
        overlay_spec spec = ovl_spec(cfg);
        uint64_t recorded = 0;
        int r = mount_at(cfg->merged, &s->mount);

        /* What sits on Merged is one fact among others (an unprivileged
         * caller may not look): copies are still found by the layers. */
        if (r < 0 && r != -ENOENT)
                s->lookup_error = r;
        if (s->mount) {
                s->ours = overlay_is_instance(s->mount, &spec);
                s->same_layers = overlay_same_layers(s->mount, &spec);
        }
        (void)state_mount_read(env->runtime_dir, cfg->instance, &recorded);
        r = ovl_probe_target(cfg, s->ours ? s->mount->devnum : 0, recorded, ret);
        return r < 0 ? inst_fail(&s->failure, STEP_SCAN, r, NULL, cfg->merged, NULL) : 0;
}

static int ovl_list_mounted(char ***names)
{
        char **found = NULL;
        int r = mountsrc_list("overlay", OVERLAY_SOURCE_PREFIX, &found);

        for (char **p = found; r >= 0 && p && *p; p++)
                r = strv_add(names, *p);
        strv_free(found);
        return r;
}

const inst_kind overlay_kind = {
        .name = "overlay",
        .mount = ovl_mount,
        .umount = ovl_umount,
        .purge = ovl_purge,
        .status_target = ovl_status_target,
        .list_mounted = ovl_list_mounted,
        .kernel_in_use = ovl_kernel_in_use_locked,
};
