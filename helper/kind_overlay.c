/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kind_overlay.c: the [Overlay] instance kind's table, and what its setup,
 * teardown and status share. */
#include <sys/stat.h>

#include "image.h"
#include "image_layer.h"
#include "kind_overlay.h"
#include "mountsrc.h"
#include "state.h"
#include "strv.h"
#include "util.h"

static int status_one(const char *lower, inst_image *img)
{
        _cleanup_free_ loopdev_info *devs = NULL;
        _cleanup_close_ int fd = -EBADF;
        const loopdev_info *dev;
        const char *why;
        struct stat st;
        size_t n = 0;

        img->path = strdup(lower);
        if (!img->path)
                return -ENOMEM;
        fd = image_open(lower, &st);
        if (fd < 0) {
                img->error = fd;
                return 0;
        }
        img->error = loopdev_find_backing(st.st_dev, st.st_ino, &devs, &n);
        if (img->error < 0)
                return 0;
        dev = img_device_to_share(devs, n);
        if (!dev && n > 0)
                dev = &devs[0];
        if (!dev)
                return 0;
        if (asprintf(&img->device, "/dev/loop%d", dev->nr) < 0) {
                img->device = NULL;
                return -ENOMEM;
        }
        img->diskseq = dev->diskseq;
        img->read_only = dev->flags & LO_FLAGS_READ_ONLY;
        img->stale = image_tag_fresh(dev->tag, dev->size, &st, &why) == 0;
        return 0;
}

static int img_status(inst_status *s)
{
        const overlay_config *cfg = s->cfg;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < cfg->n_lowers; i++) {
                struct stat st;
                inst_image *v;
                if (stat(cfg->lowers[i], &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                v = reallocarray(s->images, s->n_images + 1, sizeof(inst_image));
                if (!v)
                        return -ENOMEM;
                s->images = v;
                v[s->n_images] = (inst_image){ 0 };
                r = status_one(cfg->lowers[i], &v[s->n_images++]);
        }
        return r;
}

/* Copies of the mount the helper made, and any overlay made on its layers
 * since, have later unique ids than the record: older tables need no
 * reading (state.h). */
static int ovl_status_target(const engine_env *env, inst_status *s, probe_target *ret)
{
        const overlay_config *cfg = s->cfg;
        overlay_spec spec;
        uint64_t recorded = 0;
        int r = img_resolve_lowers(env, s->cfg);

        if (r < 0)
                return inst_fail(&s->failure, STEP_SCAN, r, NULL, cfg->merged, NULL);
        if (r >= 0)
                r = img_status(s);
        if (r < 0)
                return inst_fail(&s->failure, STEP_SCAN, r, NULL, cfg->merged, NULL);
        spec = ovl_spec(cfg);
        r = mount_at(cfg->merged, &s->mount);

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
