/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overlay_target.c: how the overlay kind hands its layers to overlay.c and
 * recognises copies of its mount (kind_overlay.h). */
#include "kind_overlay.h"
#include "safedir.h"
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

int ovl_kernel_in_use(const overlay_config *cfg)
{
        _cleanup_close_ int upper_fd = safe_open_dir(cfg->upper);
        _cleanup_close_ int work_fd = -EBADF;
        overlay_spec spec = ovl_spec(cfg);

        if (upper_fd == -ENOENT)
                return 0;
        if (upper_fd < 0)
                return upper_fd;
        /* overlayfs needs a Work to make the check on; without one the
         * answer is unknown, not "free" (Upper may be in use). */
        work_fd = safe_open_dir(cfg->work);
        if (work_fd < 0)
                return work_fd;
        return overlay_in_use(&spec, upper_fd, work_fd);
}
