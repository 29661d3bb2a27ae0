/* cmd_umount.c: the umount and purge verbs. */
#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include "dlib.h"
#include "instance.h"
#include "log.h"
#include "mounttab.h"
#include "overlay.h"
#include "probe.h"
#include "probe_output.h"
#include "safedir.h"
#include "saferm.h"
#include "util.h"
#include "verbs.h"
#include "watch.h"


/* While something holds the overlay: with time left, sleep until a holder
 * exits or a mount table changes (never a blind retry) and return 1; else
 * log who holds it and return EXIT_BUSY. */
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

/* While something holds the overlay: with time left, sleep until a holder
 * exits or a mount table changes (never a blind retry) and return 1; else
 * log who holds it and return EXIT_BUSY. */
static int wait_or_report(const overlay_config *cfg, const probe_result *r, double deadline,
                          const char *msgid, const char *what)
{
        double left = deadline - now_sec();
        _cleanup_free_ char *who = NULL, *unit = own_unit();
        const holder *own = own_unit_holder(r, unit);

        if (own) {
                /* systemd runs ExecStopPost= once the main process is gone:
                 * a child that ignores SIGTERM outlives it even under
                 * KillMode=control-group, until the final SIGKILL. */
                bool ignores_term = ignores_sigterm(own->pid);
                log_error_id(msgid, "%s %s: PID %d (%s) still holds it and runs in this very unit "
                             "%s, which systemd %s; not waiting for it. Fix the unit: %s"
                             "mount the overlay from overlay-helper@%s.service ordered after "
                             "the service",
                             what, cfg->instance, (int)own->pid, own->comm ? own->comm : "?", unit,
                             ignores_term ? "kills only after ExecStopPost= returns (it ignores "
                                            "SIGTERM)"
                                          : "stops only after ExecStopPost= returns",
                             ignores_term ? "" : "KillMode=control-group, or ", cfg->instance);
                return EXIT_BUSY;
        }
        if (left > 0) {
                /* Holders' exits and our own mount table wake us at once; an
                 * unmount inside another namespace signals nothing here, so
                 * look again at least every second. */
                int k = watch_wait(r, left < 1.0 ? left : 1.0);
                if (k < 0)
                        return log_error_errno(k, "waiting for holders of %s failed: %m",
                                               cfg->merged), EXIT_FAILED;
                return 1;
        }
        who = probe_describe(r);
        log_error_id(msgid, "%s %s from %s: %s%s; not unmounting lazily, Work left as it is. "
                     "Run 'overlay-helper probe %s' for details",
                     what, cfg->instance, cfg->merged,
                     who && *who ? "holders: " : "held by something this scan cannot see",
                     who ? who : "", cfg->instance);
        return EXIT_BUSY;
}

/* A "successful" unmount in PID 1's namespace can leave a live copy in a
 * namespace that did not receive it (private propagation, a pinned
 * namespace); that copy still writes to Upper, so Work must not be touched. */
static int confirm_no_ghost(const overlay_config *cfg, dev_t devnum, uint64_t min_mnt_id,
                            double deadline)
{
        for (;;) {
                probe_result ghosts;
                int r = probe_instance(cfg, devnum, min_mnt_id, &ghosts);

                if (r < 0)
                        return log_error_errno(r, "scanning mount namespaces for copies of %s "
                                               "failed: %m", cfg->merged), EXIT_FAILED;
                if (ghosts.n_copies == 0) {
                        probe_result_done(&ghosts);
                        return EXIT_OK;
                }
                r = wait_or_report(cfg, &ghosts, deadline, MSGID_GHOST,
                                   "ghost: a copy survives the unmount of");
                probe_result_done(&ghosts);
                if (r != 1)
                        return r;
        }
}

/* Unmounts every copy of the instance stacked on Merged (and nothing that is
 * not ours), then confirms that no copy survives in any other namespace.
 * Returns: EXIT_OK when the instance is mounted nowhere (*ret_n counts the
 * unmounts), else the exit status to stop with. */
static int unmount_instance(const overlay_config *cfg, double wait, int *ret_n)
{
        double deadline = now_sec() + wait;
        dev_t devnum = 0;
        uint64_t min_mnt_id = 0;

        *ret_n = 0;
        for (int round = 0; round < 10000; round++) {
                _cleanup_mount_entry_ mount_entry *m = NULL;
                probe_result held;
                int r = mount_at(cfg->merged, &m);

                if (r == -ENOENT)
                        break;
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
                if (r == -EINVAL) /* unmounted under us: look again */
                        continue;
                if (r == -EBUSY) {
                        r = probe_instance(cfg, m->devnum, 0, &held);
                        if (r < 0)
                                return log_error_errno(r, "scanning for holders of %s failed: %m",
                                                       cfg->merged), EXIT_FAILED;
                        r = wait_or_report(cfg, &held, deadline, MSGID_BUSY,
                                           "target is busy: cannot unmount");
                        probe_result_done(&held);
                        if (r == 1)
                                continue;
                        return r;
                }
                if (r < 0)
                        return log_error_errno(r, "umount2(%s) failed: %m", cfg->merged), EXIT_FAILED;
                log_notice_id(MSGID_UNMOUNTED, "unmounted %s from %s", cfg->instance, cfg->merged);
                /* Copies of a mount always get later unique ids than it; but
                 * only the mount we made ourselves (the record) rules out an
                 * older overlay on the same Upper: for any other, scan all. */
                uint64_t recorded;
                devnum = m->devnum;
                min_mnt_id = mounttab_have_statmount() &&
                                     instance_record_read(cfg->instance, &recorded) == 0 &&
                                     recorded == m->mnt_id ? m->mnt_id : 0;
                (*ret_n)++;
        }
        return confirm_no_ghost(cfg, devnum, min_mnt_id, deadline);
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

        r = instance_verb_start(argc, argv, &wait, &run);
        if (r != EXIT_OK)
                return r < 0 ? EXIT_OK : r;
        name = run.name;

        r = unmount_instance(run.cfg, wait, &n);
        if (r == EXIT_OK)
                r = clean_work(run.cfg);
        if (r == EXIT_OK)
                instance_record_remove(name);
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

        r = instance_verb_start(argc, argv, &wait, &run);
        if (r != EXIT_OK)
                return r < 0 ? EXIT_OK : r;
        name = run.name;
        const overlay_config *cfg = run.cfg;

        /* Deleting through a live overlay writes whiteouts into Upper that
         * hide the lower layers from every later mount: remove nothing
         * unless Merged is provably not mounted. */
        r = unmount_instance(cfg, wait, &n);
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
                instance_record_remove(name);
        if (r == EXIT_OK)
                log_notice_id(MSGID_PURGED, "purged %s: emptied %s, %s and %s", name, cfg->upper,
                              cfg->work, cfg->merged);
        instance_end(&run, r == EXIT_OK);
        return r;
}
