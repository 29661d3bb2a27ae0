/* cmd_umount.c: the umount and purge verbs. */
#include <fcntl.h>

#include "instance.h"
#include "log.h"
#include "mounttab.h"
#include "overlay.h"
#include "saferm.h"
#include "util.h"
#include "verbs.h"

int parse_instance_args(int argc, char **argv, double *ret_wait, const char **ret_name);

/* Someone may have mounted the instance twice on Merged; unmount every copy
 * of ours that is stacked there, and nothing that is not ours.
 * Returns: EXIT_OK when no overlay of the instance is left at Merged (*ret_n
 * counts the unmounts), else the exit status to stop with. */
static int unmount_instance(const overlay_config *cfg, int *ret_n)
{
        *ret_n = 0;
        for (int round = 0; round < 64; round++) {
                _cleanup_mount_entry_ mount_entry *m = NULL;
                int r = mount_at(cfg->merged, &m);

                if (r == -ENOENT)
                        return EXIT_OK;
                if (r < 0)
                        return log_error_errno(r, "looking up the mount at %s failed: %m",
                                               cfg->merged), EXIT_FAILED;
                if (!overlay_is_instance(m, cfg)) {
                        log_error("%s has %s '%s' mounted on it, which is not %s's overlay "
                                  "(options %s); leaving it alone",
                                  cfg->merged, m->fstype, m->source, cfg->instance, m->fs_options);
                        return EXIT_FAILED;
                }
                r = overlay_umount(cfg->merged);
                if (r == -EBUSY) {
                        log_error_id(MSGID_BUSY,
                                     "cannot unmount %s from %s: target is busy (a process has its "
                                     "cwd, root or an open file inside it, or a mount sits beneath "
                                     "it); not unmounting lazily. Run 'overlay-helper probe %s' to "
                                     "name the holders", cfg->instance, cfg->merged, cfg->instance);
                        return EXIT_BUSY;
                }
                if (r == -EINVAL) /* unmounted under us: look again */
                        continue;
                if (r < 0)
                        return log_error_errno(r, "umount2(%s) failed: %m", cfg->merged), EXIT_FAILED;
                log_notice_id(MSGID_UNMOUNTED, "unmounted %s from %s", cfg->instance, cfg->merged);
                (*ret_n)++;
        }
        log_error("%s: still mounted after 64 unmounts; giving up", cfg->merged);
        return EXIT_FAILED;
}

/* Overlayfs leaves its scratch dir Work/work (mode 000) behind; it is the one
 * thing umount removes. */
static int clean_work(const overlay_config *cfg)
{
        _cleanup_free_ char *where = NULL;
        _cleanup_close_ int fd = safe_open_dir(cfg->work);
        int r;

        if (fd == -ENOENT)
                return EXIT_OK;
        if (fd < 0)
                return log_error_errno(fd, "opening Work dir %s failed: %m", cfg->work), EXIT_FAILED;
        if (faccessat(fd, "work", F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return EXIT_OK;
        r = safe_remove_entry(fd, "work", &where);
        if (r < 0)
                return log_error_errno(r, "removing %s/%s failed: %m", cfg->work,
                                       where ? where : "work"), EXIT_FAILED;
        log_info("removed overlayfs's leftover %s/work", cfg->work);
        return EXIT_OK;
}

int verb_umount(int argc, char **argv)
{
        instance_run run;
        const char *name;
        double wait;
        int r, n;

        r = parse_instance_args(argc, argv, &wait, &name);
        if (r != EXIT_OK)
                return r < 0 ? EXIT_OK : r;
        r = instance_begin(name, wait, true, &run);
        if (r != EXIT_OK)
                return r;

        r = unmount_instance(run.cfg, &n);
        if (r == EXIT_OK)
                r = clean_work(run.cfg);
        if (r == EXIT_OK && n == 0)
                log_info("%s is not mounted on %s; nothing to unmount", name, run.cfg->merged);
        instance_end(&run, r == EXIT_OK);
        return r;
}

static int empty_dir(const char *what, const char *path)
{
        _cleanup_free_ char *where = NULL;
        _cleanup_close_ int fd = safe_open_dir(path);
        int r;

        if (fd == -ENOENT)
                return EXIT_OK;
        if (fd < 0)
                return log_error_errno(fd, "opening %s dir %s failed: %m%s", what, path,
                                       fd == -ELOOP ? " (it is a symlink; refusing to follow it)" : ""),
                       EXIT_FAILED;
        r = safe_empty_dir(fd, &where);
        if (r == -EXDEV) {
                log_error_id(MSGID_BUSY, "not emptying %s dir %s: %s/%s is a mount point; "
                             "unmount it first", what, path, path, where ? where : "?");
                return EXIT_BUSY;
        }
        if (r < 0)
                return log_error_errno(r, "emptying %s dir %s failed at %s/%s: %m", what, path,
                                       path, where ? where : "?"), EXIT_FAILED;
        return EXIT_OK;
}

int verb_purge(int argc, char **argv)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;
        instance_run run;
        const char *name;
        double wait;
        int r, n;

        r = parse_instance_args(argc, argv, &wait, &name);
        if (r != EXIT_OK)
                return r < 0 ? EXIT_OK : r;
        r = instance_begin(name, wait, true, &run);
        if (r != EXIT_OK)
                return r;
        const overlay_config *cfg = run.cfg;

        /* Deleting through a live overlay writes whiteouts into Upper that
         * hide the lower layers from every later mount: remove nothing
         * unless Merged is provably not mounted. */
        r = unmount_instance(cfg, &n);
        if (r == EXIT_OK && mount_at(cfg->merged, &m) != -ENOENT) {
                log_error_id(MSGID_BUSY, "%s is still a mount point after unmounting; removing nothing",
                             cfg->merged);
                r = EXIT_BUSY;
        }
        /* A mount point anywhere beneath would stop the removal half-way,
         * after Upper is gone: refuse before removing anything. */
        const char *dirs[] = { cfg->upper, cfg->work, cfg->merged };
        for (size_t i = 0; r == EXIT_OK && i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *where = NULL;
                int b = mount_beneath(dirs[i], &where);
                if (b < 0) {
                        log_error_errno(b, "looking for mounts beneath %s failed: %m", dirs[i]);
                        r = EXIT_FAILED;
                } else if (b > 0) {
                        log_error_id(MSGID_BUSY, "not purging %s: %s is a mount point; unmount it "
                                     "first. Nothing was removed", name, where);
                        r = EXIT_BUSY;
                }
        }
        if (r == EXIT_OK)
                test_stall("purging");
        if (r == EXIT_OK)
                r = empty_dir("Upper", cfg->upper);
        if (r == EXIT_OK)
                r = empty_dir("Work", cfg->work);
        if (r == EXIT_OK)
                r = empty_dir("Merged", cfg->merged);
        if (r == EXIT_OK)
                log_notice_id(MSGID_PURGED, "purged %s: emptied %s, %s and %s", name, cfg->upper,
                              cfg->work, cfg->merged);
        instance_end(&run, r == EXIT_OK);
        return r;
}
