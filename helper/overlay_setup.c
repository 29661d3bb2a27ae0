/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overlay_setup.c: the overlay kind's mount: refuse what would share a live
 * Upper, make the dirs, mount, and undo exactly what it made on failure. */
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "image_layer.h"
#include "kind_overlay.h"
#include "safedir.h"
#include "saferm.h"
#include "state.h"
#include "util.h"

enum { DIR_UPPER, DIR_WORK, DIR_MERGED, _DIR_MAX };

typedef struct made_dirs {
        int fd[_DIR_MAX];
        int created[_DIR_MAX];
        char *top_missing[_DIR_MAX]; /* the highest ancestor that did not exist */
} made_dirs;

static const char *const dir_what[_DIR_MAX] = { "Upper", "Work", "Merged" };

static const char *dir_path(const overlay_config *cfg, int i)
{
        return i == DIR_UPPER ? cfg->upper : i == DIR_WORK ? cfg->work : cfg->merged;
}

/* A failed mount must not leave dirs that we made behind: remove exactly
 * those, and only while they are still empty (Work may hold the kernel's
 * Work/work from a half-made superblock). */
static void undo_dirs(const overlay_config *cfg, made_dirs *d)
{
        if (d->created[DIR_MERGED])
                (void)rmdir(cfg->merged);
        if (d->created[DIR_WORK]) {
                _cleanup_close_ int fd = safe_open_dir(cfg->work);
                if (fd >= 0)
                        (void)safe_remove_entry(fd, "work", NULL);
                (void)rmdir(cfg->work);
        }
        if (d->created[DIR_UPPER])
                (void)rmdir(cfg->upper);
        for (int i = _DIR_MAX - 1; i >= 0; i--)
                safe_rmdir_parents(dir_path(cfg, i), d->top_missing[i]);
}

static void made_dirs_done(made_dirs *d)
{
        for (int i = 0; i < _DIR_MAX; i++) {
                closep(&d->fd[i]);
                free(d->top_missing[i]);
        }
}

/* A missing or unreadable Lower is the config's fault, not the kernel's:
 * name it before any dir is made. A regular file is an image (its own
 * checks come with its device: image_layer.h). */
static int check_lowers(const overlay_config *cfg, inst_failure *f)
{
        for (size_t i = 0; i < cfg->n_lowers; i++) {
                struct stat st;
                if (stat(cfg->lowers[i], &st) < 0)
                        return inst_fail(f, STEP_LOWER, negative_errno(), NULL, cfg->lowers[i], NULL);
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                        return inst_fail(f, STEP_LOWER, -ENOTDIR, NULL, cfg->lowers[i], NULL);
        }
        return 0;
}

static int make_dirs(const inst_run *run, made_dirs *d, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        struct stat upper_st, work_st;

        for (int i = 0; i < _DIR_MAX; i++)
                d->top_missing[i] = safe_missing_parent(dir_path(cfg, i));
        for (int i = 0; i < _DIR_MAX; i++) {
                /* Work is the kernel's scratch space: nobody else's business */
                bool work = i == DIR_WORK;
                int fd = safe_mkdir_path(dir_path(cfg, i), work ? 0 : cfg->uid, work ? 0 : cfg->gid,
                                         work ? 0700 : cfg->mode, &d->created[i]);
                if (fd < 0)
                        return inst_fail(f, STEP_MKDIR, fd, dir_what[i], dir_path(cfg, i), NULL);
                d->fd[i] = fd;
                if (d->created[i])
                        inst_emit(run, IEV_DIR_CREATED, dir_what[i], dir_path(cfg, i));
        }
        if (fstat(d->fd[DIR_UPPER], &upper_st) < 0 || fstat(d->fd[DIR_WORK], &work_st) < 0)
                return inst_fail(f, STEP_MKDIR, negative_errno(), "Upper", cfg->upper, NULL);
        if (upper_st.st_dev != work_st.st_dev)
                return inst_fail(f, STEP_SPLIT_FS, -EXDEV, NULL, cfg->upper, cfg->work);
        return 0;
}

/* Returns: 0 with *ret_mount NULL when nothing is there, or the overlay with
 * our layers in *ret_mount; -errno with F filled otherwise. */
static int check_merged(const overlay_config *cfg, mount_entry **ret_mount, inst_failure *f)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;
        overlay_spec spec = ovl_spec(cfg);
        int r = mount_at(cfg->merged, &m);

        *ret_mount = NULL;
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return inst_fail(f, STEP_LOOKUP, r, NULL, cfg->merged, NULL);
        if (overlay_same_layers(m, &spec)) {
                *ret_mount = TAKE_PTR(m);
                return 0;
        }
        r = ovl_fail_foreign(f, cfg, m);
        /* ours on Upper, with other lowers: an image renamed over since, or
         * Lower= edited; never stacked on itself */
        if (overlay_is_instance(m, &spec)) {
                char *what = NULL;
                if (asprintf(&what, "%s, this instance's own overlay with other lower layers "
                             "(Lower= edited, or an image replaced, since it was mounted): "
                             "umount it first", f->detail ? f->detail : "an overlay") >= 0) {
                        free(f->detail);
                        f->detail = what;
                }
        }
        return r;
}

/* Fills F with the copies in LIVE as holders of a refusal at STEP. */
static int fail_live(inst_failure *f, inst_step step, const overlay_config *cfg, probe_result *live)
{
        inst_fail(f, step, -EBUSY, NULL, cfg->merged, NULL);
        f->holders = *live;
        *live = (probe_result){ 0 };
        return -EBUSY;
}

/* Two live overlays on one Upper dir corrupt it silently (the kernel only
 * warns "upperdir is in-use"): refuse while any copy lives anywhere. The
 * kernel decides; the scan names what it can. */
static int refuse_live_copies(const inst_run *run, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        _cleanup_free_ char *scratch = NULL;
        uint64_t recorded = 0;
        bool have_record;
        probe_result live;
        int r, in_use = ovl_kernel_in_use(cfg);

        /* The kernel's "in use" is the verdict, whatever the scan finds;
         * when it finds nothing, the kernel is asked once more, in case it
         * was a superblock on its way out (ovl_kernel_recheck); only a
         * clear "not marked" then overrides the first answer. */
        if (in_use > 0) {
                r = ovl_scan(cfg, 0, 0, &live);
                if (r < 0)
                        return inst_fail(f, STEP_SCAN, r, "overlays on", cfg->upper, NULL);
                if (live.n_copies > 0 || ovl_kernel_recheck(run->env, cfg, true) != 0) {
                        r = fail_live(f, STEP_LIVE_COPY, cfg, &live);
                        f->what = "kernel";
                        return r;
                }
                probe_result_done(&live);
        }
        /* Its "not marked" is not enough (the mark is a flag: an overlay
         * mounted over another's warning holds none). Every live overlay on
         * this Work dir keeps overlayfs's Work/work in it, and umount
         * removes that only once no copy is left anywhere; so
         * without it (and without a record) there is nothing to find, and
         * the scan of every namespace's table stays off the common path. */
        if (asprintf(&scratch, "%s/work", cfg->work) < 0)
                return inst_fail(f, STEP_SCAN, -ENOMEM, NULL, cfg->upper, NULL);
        have_record = state_mount_read(run->env->runtime_dir, cfg->instance, &recorded) == 0;
        if (faccessat(AT_FDCWD, scratch, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
            !have_record)
                return 0;
        /* The recorded mount passed this same check when it was made, so
         * only it, its copies and what came after can be alive. */
        r = ovl_scan(cfg, 0, have_record ? recorded : 0, &live);
        if (r < 0)
                return inst_fail(f, STEP_SCAN, r, "overlays on", cfg->upper, NULL);
        if (live.n_copies == 0) {
                probe_result_done(&live);
                return 0;
        }
        return fail_live(f, STEP_LIVE_COPY, cfg, &live);
}

/* Remembers which mount is ours, so the unmount may bound its ghost scan. */
static void record_mount(const inst_run *run)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;
        const char *runtime_dir = run->env->runtime_dir;

        if (!mounttab_have_statmount() || mount_at(run->cfg->merged, &m) < 0 ||
            state_mount_write(runtime_dir, run->name, m->mnt_id) < 0)
                state_mount_remove(runtime_dir, run->name);
}

/* Already mounted with our layers, but not by us as far as the record
 * knows (made by hand, or a record lost): then an older overlay on the same
 * Upper may still live elsewhere, and "already mounted" would hide it. */
static int check_already_mounted(const inst_run *run, const mount_entry *m, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        probe_result live;
        uint64_t recorded;
        bool other = false;
        int r;

        if (state_mount_read(run->env->runtime_dir, run->name, &recorded) == 0 &&
            recorded == m->mnt_id)
                return 0;
        r = ovl_scan(cfg, m->devnum, 0, &live);
        if (r < 0)
                return inst_fail(f, STEP_SCAN, r, "overlays on", cfg->upper, NULL);
        for (size_t i = 0; i < live.n_copies && !other; i++)
                other = live.copies[i].other_sb;
        if (other)
                return fail_live(f, STEP_OTHER_SB, cfg, &live);
        probe_result_done(&live);
        record_mount(run);
        return 0;
}

/* Why overlayfs could not set up Work, as far as Upper's filesystem shows:
 * the kernel itself only says so in its log. Returns: malloc'd, or NULL. */
static char *readonly_cause(const overlay_config *cfg)
{
        _cleanup_close_ int fd = safe_open_dir(cfg->upper);
        struct statvfs sv;
        char *s = NULL;
        int r;

        if (fd < 0 || fstatvfs(fd, &sv) < 0)
                r = asprintf(&s, "Upper's filesystem could not be looked at (%s): 'dmesg' names "
                             "the reason", strerror(fd < 0 ? -fd : errno));
        else if (sv.f_flag & ST_RDONLY)
                r = asprintf(&s, "Upper's filesystem is read-only");
        else if (sv.f_files > 0 && sv.f_ffree == 0)
                r = asprintf(&s, "Upper's filesystem has no free inodes (0 of %llu free)",
                             (unsigned long long)sv.f_files);
        else if (sv.f_blocks > 0 && sv.f_bavail == 0)
                r = asprintf(&s, "Upper's filesystem has no free blocks (0 of %llu available, "
                             "%llu free for root, %lu bytes each)",
                             (unsigned long long)sv.f_blocks, (unsigned long long)sv.f_bfree,
                             (unsigned long)sv.f_frsize);
        else
                r = asprintf(&s, "Upper's filesystem has %llu free inodes and %llu of %llu blocks "
                             "available, so the cause is elsewhere (no tmpfile or xattr "
                             "support?): 'dmesg' names it",
                             (unsigned long long)sv.f_ffree, (unsigned long long)sv.f_bavail,
                             (unsigned long long)sv.f_blocks);
        return r < 0 ? NULL : s;
}

/* When overlayfs cannot make its work dir (Upper's filesystem out of space
 * or inodes, no tmpfile or xattr support), it mounts read-only and only
 * says so in the kernel log: a read-write instance would then fail its
 * service's first write, so undo the mount and say why. */
static int refuse_readonly_fallback(const overlay_config *cfg, bool *mounted, inst_failure *f)
{
        _cleanup_close_ int fd = open(cfg->merged, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_free_ char *cause = NULL, *detail = NULL;
        struct statvfs sv;
        int r;

        if (cfg->mount_attr & MOUNT_ATTR_RDONLY)
                return 0;
        /* unknown is not read-only: the mount stands as the kernel made it */
        if (fd < 0 || fstatvfs(fd, &sv) < 0 || !(sv.f_flag & ST_RDONLY))
                return 0;
        close(TAKE_FD(fd)); /* an fd on the mount keeps it busy */
        cause = readonly_cause(cfg);
        r = overlay_umount(cfg->merged);
        if (r < 0)
                return inst_fail(f, STEP_UMOUNT, r, NULL, cfg->merged, NULL);
        *mounted = false;
        if (asprintf(&detail, "the kernel fell back to a read-only overlay: it could not set up "
                     "Work: %s; unmounted it again", cause ? cause : "the cause is unknown") < 0)
                detail = NULL;
        return inst_fail(f, STEP_MOUNT, -EROFS, NULL, cfg->merged,
                         detail ? detail : "the kernel fell back to a read-only overlay; "
                                           "unmounted it again");
}

static int mount_fresh(const inst_run *run, inst_failure *f)
{
        const overlay_config *cfg = run->cfg;
        made_dirs d = { .fd = { -EBADF, -EBADF, -EBADF } };
        _cleanup_free_ char *detail = NULL;
        overlay_spec spec = ovl_spec(cfg);
        img_layers images = { 0 };
        int r;

        int check_lock = -EBADF;
        pid_t holder_pid = 0;
        bool mounted = false;

        r = make_dirs(run, &d, f);
        /* the images' locks before the check lock, in every run */
        if (r >= 0)
                r = img_open(run, &images, f);
        if (r >= 0)
                r = img_prepare(run, &images, f);
        /* after make_dirs: the kernel's check needs Upper and Work to exist;
         * no other run's check may come between it and the mount */
        if (r >= 0) {
                check_lock = ovl_check_lock(run->env->runtime_dir, run->env->wait_sec + 2.0, &holder_pid);
                if (check_lock < 0) {
                        r = inst_fail(f, STEP_LOCK, check_lock, NULL, run->env->runtime_dir,
                                      NULL);
                        f->pid = holder_pid;
                }
        }
        if (r >= 0)
                r = refuse_live_copies(run, f);
        if (r >= 0) {
                spec.verify_layers = safe_entry_root_only(cfg->upper) != 1 ||
                                     safe_entry_root_only(cfg->work) != 1;
                r = overlay_mount(&spec, d.fd[DIR_UPPER], d.fd[DIR_WORK], d.fd[DIR_MERGED], &detail);
                if (r < 0)
                        inst_fail(f, STEP_MOUNT, r, NULL, cfg->merged, detail);
                mounted = r >= 0 || r == -ENOTRECOVERABLE;
        }
        if (r >= 0)
                r = refuse_readonly_fallback(cfg, &mounted, f);
        if (check_lock >= 0)
                ovl_check_unlock(run->env->runtime_dir, check_lock);
        img_release(run, &images, mounted);
        img_layers_done(&images);
        for (int i = 0; i < _DIR_MAX; i++)
                closep(&d.fd[i]);
        /* never take dirs away from under a mount that could not be undone */
        if (r < 0 && !mounted)
                undo_dirs(cfg, &d);
        made_dirs_done(&d);
        return r;
}

int ovl_mount(inst_run *run, inst_failure *f)
{
        _cleanup_mount_entry_ mount_entry *already = NULL;
        int r = img_resolve_lowers(run->env, run->cfg);

        if (r < 0)
                return inst_fail(f, STEP_LOWER, r, NULL, run->cfg->lowers[0], NULL);
        r = check_merged(run->cfg, &already, f);
        if (r < 0)
                return r;
        if (already) {
                r = check_already_mounted(run, already, f);
                if (r >= 0)
                        r = img_tidy(run, f);
                if (r >= 0)
                        inst_emit(run, IEV_ALREADY_MOUNTED, NULL, run->cfg->merged);
                return r;
        }
        r = check_lowers(run->cfg, f);
        if (r >= 0)
                r = mount_fresh(run, f);
        if (r < 0)
                return r;
        record_mount(run);
        inst_emit(run, IEV_MOUNTED, NULL, run->cfg->merged);
        return 0;
}
