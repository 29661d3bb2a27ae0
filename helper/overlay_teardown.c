/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overlay_teardown.c: the overlay kind's umount and purge: never lazy,
 * waiting for holders by event, confirming that no copy survives anywhere
 * before Work (or, for purge, anything) is touched. */
#include <fcntl.h>
#include <signal.h>

#include "dlib.h"
#include "image_layer.h"
#include "kind_overlay.h"
#include "procfs.h"
#include "safedir.h"
#include "saferm.h"
#include "state.h"
#include "strv.h"
#include "util.h"
#include "watch.h"

/* Our own unit's name, if systemd runs us: an ExecStopPost= line runs in the
 * service's cgroup. */
static char *own_unit(void)
{
        const sd_syms *sd;
        char *unit = NULL;

        if (dlib_systemd(&sd) < 0 || sd->pid_get_unit(0, &unit) < 0)
                return NULL;
        return unit;
}

static bool ignores_sigterm(pid_t pid)
{
        char path[64], line[256];
        _cleanup_fclose_ FILE *f = NULL;
        unsigned long long mask;

        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "SigIgn: %llx", &mask) == 1)
                        return mask & (1ULL << (SIGTERM - 1));
        return false;
}

/* A holder in our own unit is a leftover service process that systemd only
 * kills after ExecStopPost= returns (KillMode=process or mixed): waiting for
 * it would wait for ourselves. Returns: the first such holder, or NULL. */
static const holder *own_unit_holder(const probe_result *r, const char *unit)
{
        if (!unit)
                return NULL;
        for (size_t i = 0; i < r->n_copies; i++)
                for (size_t j = 0; j < r->copies[i].n_processes; j++) {
                        const holder *h = &r->copies[i].processes[j];
                        if (h->unit && streq(h->unit, unit) && h->pid != getpid())
                                return h;
                }
        return NULL;
}

/* A process of our own unit may still be on its way out when systemd
 * starts ExecStopPost= (its SIGTERM not yet acted on, on a loaded
 * machine): give it OWN_UNIT_GRACE_SEC, woken by its exit, before calling
 * it a leftover we must not wait for. Returns: 0 if PID is gone, 1 if not. */
#define OWN_UNIT_GRACE_SEC 0.5

static int own_unit_grace(const probe_result *held, pid_t pid, double left)
{
        char state = 0;
        int r;

        (void)watch_wait(held, left < OWN_UNIT_GRACE_SEC ? left : OWN_UNIT_GRACE_SEC);
        r = procfs_stat(pid, &state, NULL);
        /* a zombie holds nothing: its parent just has not reaped it yet */
        return r == -ENOENT || r == -ESRCH || state == 'Z' || state == 'X' ? 0 : 1;
}

/* While something holds the overlay: with --wait time left, sleep until a
 * holder exits or a mount table changes (never a blind retry) and return 0
 * to look again; else fill F (STEP, with the holders) and return -EBUSY.
 * HELD is taken over either way. */
static int wait_or_busy(const inst_run *run, probe_result *held, inst_step step,
                        inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        _cleanup_free_ char *unit = own_unit();
        const holder *own = own_unit_holder(held, unit);
        double left = run->deadline - now_sec();
        int r;

        if (own && left > 0 && own_unit_grace(held, own->pid, left) == 0) {
                probe_result_done(held);
                return 0; /* it went: look again */
        }
        if (own) {
                /* systemd runs ExecStopPost= once the main process is gone:
                 * a child that ignores SIGTERM outlives it even under
                 * KillMode=control-group, until the final SIGKILL. */
                inst_fail(f, STEP_OWN_UNIT, -EBUSY, step == STEP_GHOST ? "ghost" : NULL,
                          cfg->merged, NULL);
                f->pid = own->pid;
                f->comm = own->comm ? strdup(own->comm) : NULL;
                f->unit = TAKE_PTR(unit);
                f->ignores_sigterm = ignores_sigterm(own->pid);
                probe_result_done(held);
                return -EBUSY;
        }
        if (left > 0) {
                inst_emit(run, IEV_WAITING, step == STEP_GHOST ? "a surviving copy" : "holders",
                             cfg->merged);
                /* Holders' exits and our own mount table wake us at once; an
                 * unmount inside another namespace signals nothing here, so
                 * look again at least every second. */
                r = watch_wait(held, left < 1.0 ? left : 1.0);
                probe_result_done(held);
                return r < 0 ? inst_fail(f, STEP_WAIT, r, NULL, cfg->merged, NULL) : 0;
        }
        inst_fail(f, step, -EBUSY, NULL, cfg->merged, NULL);
        f->waited = run->env->wait_sec;
        f->holders = *held;
        *held = (probe_result){ 0 };
        return -EBUSY;
}

/* A "successful" unmount in PID 1's namespace can leave a live copy in a
 * namespace that did not receive it (private propagation, a pinned
 * namespace); that copy still writes to Upper, so Work must not be touched. */
static int confirm_no_ghost(const inst_run *run, dev_t devnum, uint64_t min_mnt_id,
                            inst_failure *f)
{
        bool rechecked = false;

        for (;;) {
                probe_result ghosts;
                /* The kernel's "in use" decides; its "not marked" does not
                 * on its own (the mark is a flag, not a count: overlay.h),
                 * so the scan runs whatever it says. */
                int in_use = ovl_kernel_in_use_locked(run->env, run->cfg);
                int r;

                r = ovl_scan(run->cfg, devnum, in_use > 0 ? 0 : min_mnt_id, &ghosts);
                if (r < 0)
                        return inst_fail(f, STEP_SCAN, r, "copies of", run->cfg->merged, NULL);
                /* the kernel alone says busy and --wait is over: it may be
                 * a superblock on its way out (ovl_kernel_recheck); a
                 * second answer that is unknown leaves the first standing */
                if (ghosts.n_copies == 0 && in_use > 0 && !rechecked &&
                    run->deadline - now_sec() <= 0) {
                        rechecked = true;
                        if (ovl_kernel_recheck(run->env, run->cfg, false) == 0)
                                in_use = 0;
                }
                if (ghosts.n_copies == 0 && in_use <= 0) {
                        probe_result_done(&ghosts);
                        return 0;
                }
                ghosts.kernel_asked = in_use >= 0;
                ghosts.kernel_in_use = in_use > 0;
                r = wait_or_busy(run, &ghosts, STEP_GHOST, f);
                if (r < 0)
                        return r;
        }
}

enum { TOP_NONE, TOP_UNMOUNTED, TOP_AGAIN };

/* Takes the topmost overlay off Merged. Returns: TOP_UNMOUNTED (*ret_devnum,
 * *ret_min_id set), TOP_NONE when nothing is mounted there, TOP_AGAIN to
 * look again (waited for holders, or the mount changed under us), -errno
 * with F filled. */
static int unmount_top(const inst_run *run, uint64_t *last_seen, dev_t *ret_devnum,
                       uint64_t *ret_min_id, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        _cleanup_mount_entry_ mount_entry *m = NULL;
        overlay_spec spec = ovl_spec(cfg);
        probe_result held;
        uint64_t recorded;
        int r = mount_at(cfg->merged, &m);

        if (r == -ENOENT)
                return TOP_NONE;
        if (r < 0)
                return inst_fail(f, STEP_LOOKUP, r, NULL, cfg->merged, NULL);
        if (!overlay_is_instance(m, &spec))
                return ovl_fail_foreign(f, cfg, m);
        r = overlay_umount(cfg->merged);
        if (r == -EINVAL) {
                /* Gone under us is progress; the same mount still there
                 * while umount2() finds none is a lookup that disagrees with
                 * the kernel: looking again would spin. */
                if (*last_seen == m->mnt_id)
                        return inst_fail(f, STEP_NO_PROGRESS, -EINVAL, NULL, cfg->merged, NULL);
                *last_seen = m->mnt_id;
                return TOP_AGAIN;
        }
        if (r == -EBUSY) {
                r = ovl_scan(cfg, m->devnum, 0, &held);
                if (r < 0)
                        return inst_fail(f, STEP_SCAN, r, "holders of", cfg->merged, NULL);
                r = wait_or_busy(run, &held, STEP_BUSY, f);
                return r < 0 ? r : TOP_AGAIN;
        }
        if (r < 0)
                return inst_fail(f, STEP_UMOUNT, r, NULL, cfg->merged, NULL);
        inst_emit(run, IEV_UNMOUNTED, NULL, cfg->merged);
        /* Copies of a mount always get later unique ids than it; but only
         * the mount we made ourselves (the record) rules out an older
         * overlay on the same Upper: for any other, scan all. */
        *ret_devnum = m->devnum;
        *ret_min_id = mounttab_have_statmount() &&
                                      state_mount_read(run->env->runtime_dir, run->name, &recorded) == 0 &&
                                      recorded == m->mnt_id
                              ? m->mnt_id
                              : 0;
        *last_seen = 0;
        return TOP_UNMOUNTED;
}

/* Unmounts every copy of the instance stacked on Merged (and nothing that is
 * not ours), then confirms that no copy survives in any other namespace.
 * Every round unmounts one, or waits for an event within --wait, or sees
 * the mount change: a round that does none of these stops the loop.
 * Returns: 0 when the instance is mounted nowhere (*ret_n counts the
 * unmounts), or -errno with F filled. */
static int unmount_all(const inst_run *run, int *ret_n, inst_failure *f)
{
        uint64_t min_mnt_id = 0, last_seen = 0;
        dev_t devnum = 0;
        int r;

        *ret_n = 0;
        for (;;) {
                r = unmount_top(run, &last_seen, &devnum, &min_mnt_id, f);
                if (r < 0)
                        return r;
                if (r == TOP_NONE)
                        break;
                if (r == TOP_UNMOUNTED)
                        (*ret_n)++;
        }
        return confirm_no_ghost(run, devnum, min_mnt_id, f);
}

/* Overlayfs leaves its scratch dir Work/work (mode 000) behind; it is the one
 * thing umount removes. */
static int clean_work(const inst_run *run, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        _cleanup_free_ char *where = NULL, *scratch = NULL;
        _cleanup_close_ int fd = safe_open_dir(cfg->work);
        int r;

        if (fd == -ENOENT)
                return 0;
        if (asprintf(&scratch, "%s/work", cfg->work) < 0)
                return inst_fail(f, STEP_CLEAN_WORK, -ENOMEM, NULL, cfg->work, NULL);
        if (fd < 0)
                return inst_fail(f, STEP_CLEAN_WORK, fd, NULL, cfg->work, NULL);
        if (faccessat(fd, "work", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        r = safe_remove_entry(fd, "work", &where);
        if (r < 0)
                return inst_fail(f, STEP_CLEAN_WORK, r, NULL, scratch, where ? where : "work");
        inst_emit(run, IEV_WORK_CLEANED, NULL, scratch);
        return 0;
}

/* The images the overlay on Merged took, by its own options: what it
 * used, whatever Lower= names by now. */
static int mounted_image_keys(const inst_run *run, char ***ret)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;
        overlay_spec spec = ovl_spec(run->cfg);

        *ret = NULL;
        if (mount_at(run->cfg->merged, &m) < 0 || !overlay_is_instance(m, &spec))
                return 0;
        return img_keys_of_mount(run->env, m, ret);
}

/* What umount and purge learn before they unmount: Lower= as the overlay
 * takes it, and the images the overlay on Merged took (its record). */
static int images_before_unmount(inst_run *run, char ***ret_keys, inst_failure *f)
{
        int r = img_resolve_lowers(run->env, run->cfg);

        if (r >= 0)
                r = mounted_image_keys(run, ret_keys);
        return r < 0 ? inst_fail(f, STEP_LOWER, r, NULL, run->cfg->lowers[0], NULL) : 0;
}

/* Each image's device goes with its last overlay: while something else
 * claims one, wait within --wait, then fail naming it. */
static int settle_images(const inst_run *run, char *const *keys, bool unmounted,
                         inst_failure *f)
{
        for (;;) {
                img_hold hold;
                int r = img_settle(run, keys, unmounted, &hold, f);
                if (r <= 0)
                        return r;
                /* a device waited for: its going is news */
                unmounted = true;
                r = wait_or_busy(run, &hold.held, STEP_IMAGE_BUSY, f);
                if (r < 0 && f->step == STEP_IMAGE_BUSY) {
                        free(f->path);
                        f->path = strdup(hold.label);
                        free(f->detail);
                        f->detail = strdup(hold.device);
                }
                if (r < 0)
                        return r;
        }
}

int ovl_umount(inst_run *run, inst_failure *f)
{
        char **keys = NULL;
        int n, r = images_before_unmount(run, &keys, f);

        if (r < 0)
                return r;
        r = unmount_all(run, &n, f);
        if (r >= 0)
                r = clean_work(run, f);
        /* its images' devices go with their last overlay */
        if (r >= 0)
                r = settle_images(run, keys, n > 0, f);
        strv_free(keys);
        if (r < 0)
                return r;
        state_mount_remove(run->env->runtime_dir, run->name);
        if (n == 0)
                inst_emit(run, IEV_NOT_MOUNTED, NULL, run->cfg->merged);
        return 0;
}

static int empty_dir(const char *what, const char *path, inst_failure *f)
{
        _cleanup_free_ char *where = NULL;
        _cleanup_close_ int fd = safe_open_dir(path);
        int r;

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return inst_fail(f, STEP_EMPTY, fd, what, path, NULL);
        r = safe_empty_dir(fd, &where);
        if (r < 0)
                return inst_fail(f, STEP_EMPTY, r, what, path, where ? where : "?");
        return 0;
}

/* A mount point anywhere beneath would stop the removal half-way, after
 * Upper is gone: refuse before removing anything. */
static int refuse_submounts(const overlay_config *cfg, inst_failure *f)
{
        const char *dirs[] = { cfg->upper, cfg->work, cfg->merged };
        _cleanup_mount_entry_ mount_entry *m = NULL;

        if (mount_at(cfg->merged, &m) != -ENOENT)
                return inst_fail(f, STEP_STILL_MOUNTED, -EBUSY, NULL, cfg->merged, NULL);
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *where = NULL;
                int b = mount_beneath(dirs[i], &where);
                if (b < 0)
                        return inst_fail(f, STEP_SCAN, b, "mounts beneath", dirs[i], NULL);
                if (b > 0)
                        return inst_fail(f, STEP_SUBMOUNT, -EBUSY, NULL, where, NULL);
        }
        return 0;
}

/* Deleting through a live overlay writes whiteouts into Upper that hide the
 * lower layers from every later mount: remove nothing unless Merged is
 * provably not mounted, here or anywhere. */
int ovl_purge(inst_run *run, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        char **keys = NULL;
        int n, r = images_before_unmount(run, &keys, f);

        if (r < 0)
                return r;
        r = unmount_all(run, &n, f);
        if (r >= 0)
                r = refuse_submounts(cfg, f);
        if (r >= 0)
                r = empty_dir("Upper", cfg->upper, f);
        if (r >= 0)
                r = empty_dir("Work", cfg->work, f);
        if (r >= 0)
                r = empty_dir("Merged", cfg->merged, f);
        /* after the emptying: what holds a device holds no overlay of ours */
        if (r >= 0)
                r = settle_images(run, keys, n > 0, f);
        strv_free(keys);
        if (r < 0)
                return r;
        state_mount_remove(run->env->runtime_dir, run->name);
        inst_emit(run, IEV_PURGED, NULL, cfg->merged);
        return 0;
}
