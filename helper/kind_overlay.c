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

/* IMG for image (DEV, INO): its device (ours, or the one a mount shares),
 * and whether that still shows the file as it is (when it can be opened). */
static int status_one(const overlay_config *cfg, const char *label, dev_t dev, ino_t ino,
                      inst_image *img)
{
        _cleanup_free_ loopdev_info *devs = NULL;
        const char *lower = img_lower_of(cfg, dev, ino), *why;
        const loopdev_info *d;
        struct stat st;
        size_t n = 0;

        img->path = strdup(lower ? lower : label);
        if (!img->path)
                return -ENOMEM;
        img->error = loopdev_find_backing(dev, ino, &devs, &n);
        if (img->error < 0)
                return 0;
        d = img_device_to_share(devs, n);
        if (!d && n > 0)
                d = &devs[0];
        if (!d)
                return 0;
        if (asprintf(&img->device, "/dev/loop%d", d->nr) < 0) {
                img->device = NULL;
                return -ENOMEM;
        }
        img->diskseq = d->diskseq;
        img->read_only = d->flags & LO_FLAGS_READ_ONLY;
        /* renamed over or gone: the device shows an image no Lower= names */
        img->stale = !lower || stat(lower, &st) < 0 ||
                     image_tag_fresh(d->tag, d->size, &st, &why) == 0;
        return 0;
}

static inst_image *add_image(inst_status *s)
{
        inst_image *v = reallocarray(s->images, s->n_images + 1, sizeof(inst_image));

        if (!v)
                return NULL;
        s->images = v;
        v[s->n_images] = (inst_image){ 0 };
        return &v[s->n_images++];
}

/* A mounted instance's images are the ones its overlay took (the kernel's
 * record, its options); an unmounted one's, those Lower= names. */
static int img_status(const engine_env *env, inst_status *s)
{
        const overlay_config *cfg = s->cfg;
        char **keys = NULL;
        int r = s->mount && s->ours ? img_keys_of_mount(env, s->mount, &keys) : 0;

        for (char **k = keys; r >= 0 && k && *k; k++) {
                img_layer l;
                inst_image *img;
                char label[IMAGE_KEY_MAX + 16];
                if (img_layer_from_key(env, *k, &l) < 0) {
                        img_layer_done(&l);
                        continue;
                }
                snprintf(label, sizeof label, "image %s", *k);
                img = add_image(s);
                r = img ? status_one(cfg, label, l.st.st_dev, l.st.st_ino, img) : -ENOMEM;
                img_layer_done(&l);
        }
        strv_free(keys);
        for (size_t i = 0; r >= 0 && !(s->mount && s->ours) && i < cfg->n_lowers; i++) {
                struct stat st;
                inst_image *img;
                if (stat(cfg->lowers[i], &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                img = add_image(s);
                r = img ? status_one(cfg, cfg->lowers[i], st.st_dev, st.st_ino, img) : -ENOMEM;
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
        r = img_status(env, s);
        if (r < 0)
                return inst_fail(&s->failure, STEP_SCAN, r, NULL, cfg->merged, NULL);
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
