/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.c: see report.h. Every message names the operation, the path and
 * the error, and where it helps, the fix. */
#include "log.h"
#include "probe_output.h"
#include "report.h"
#include "text.h"
#include "util.h"
#include "verbs.h"

void report_event(const inst_event *ev, void *userdata)
{
        const overlay_config *cfg = ev->cfg;
        (void)userdata;

        switch (ev->kind) {
        case IEV_NS_JOINED:
                log_warning_id(MSGID_NS_ESCAPE,
                               "started outside PID 1's mount namespace; joined it with setns(). "
                               "A copy of the overlay in the caller's namespace can keep it alive: "
                               "fix the unit's Exec line to "
                               "'+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- overlay-helper ...'");
                break;
        case IEV_DIR_CREATED:
                log_info("created %s dir %s", ev->what, ev->path);
                break;
        case IEV_ALREADY_MOUNTED:
                log_info("%s is already mounted on %s with the same layers", ev->instance, ev->path);
                break;
        case IEV_MOUNTED:
                log_notice_id(MSGID_MOUNTED, "mounted %s on %s (upper %s, %zu lower layer%s, top %s)",
                              ev->instance, cfg->merged, cfg->upper, cfg->n_lowers,
                              cfg->n_lowers == 1 ? "" : "s", cfg->lowers[0]);
                break;
        case IEV_UNMOUNTED:
                log_notice_id(MSGID_UNMOUNTED, "unmounted %s from %s", ev->instance, ev->path);
                break;
        case IEV_NOT_MOUNTED:
                log_info("%s is not mounted on %s; nothing to unmount", ev->instance, ev->path);
                break;
        case IEV_WORK_CLEANED:
                log_info("removed overlayfs's leftover %s", ev->path);
                break;
        case IEV_PURGED:
                log_notice_id(MSGID_PURGED, "purged %s: emptied %s, %s and %s", ev->instance,
                              cfg->upper, cfg->work, cfg->merged);
                break;
        case IEV_WAITING:
                log_debug("waiting for %s of %s to let go", ev->what, ev->path);
                break;
        case IEV_IMAGE_ATTACHED:
                log_info("attached image %s read-only as %s", ev->path, ev->what);
                break;
        case IEV_IMAGE_SHARED:
                log_info("%s (image %s) is still used by other overlays; left attached", ev->what,
                         ev->path);
                break;
        case IEV_IMAGE_RELEASED:
                if (ev->what)
                        log_info("%s (image %s) is released: its last overlay is gone", ev->what,
                                 ev->path);
                else
                        log_info("image %s is released: no loop device backs it", ev->path);
                break;
        case IEV_IMAGE_LEFT_OPEN:
                log_notice_id(MSGID_INFO, "%s (image %s) is used by no overlay or mount, but "
                              "open by %s; the kernel detaches it (autoclear) when that closes",
                              ev->what, ev->path, ev->detail ? ev->detail : "?");
                break;
        }
}

#define UNSEEN_HOLDER                                                                   \
        "the kernel reports its Upper or Work in use by a live overlay this scan cannot see "   \
        "(a nested overlay whose lower is inside it, a lazily detached mount, a loop device, "   \
        "an fd in flight)"

static const char *or_q(const char *s)
{
        return s ? s : "?";
}

static void report_own_unit(const char *action, const char *name, const inst_failure *f)
{
        log_error_id(f->what ? MSGID_GHOST : MSGID_BUSY, "%s %s: PID %d (%s) still holds it and runs in this very unit "
                     "%s, which systemd %s; not waiting for it. Fix the unit: %s"
                     "mount the overlay from overlay-helper@%s.service ordered after the service",
                     action, name, (int)f->pid, or_q(f->comm), or_q(f->unit),
                     f->ignores_sigterm ? "kills only after ExecStopPost= returns (it ignores "
                                          "SIGTERM)"
                                        : "stops only after ExecStopPost= returns",
                     f->ignores_sigterm ? "" : "KillMode=control-group, or ", name);
}

static void report_held(const char *name, const overlay_config *cfg, const inst_failure *f)
{
        _cleanup_free_ char *who = probe_describe(&f->holders);
        const char *merged = cfg ? cfg->merged : or_q(f->path);

        switch (f->step) {
        case STEP_LIVE_COPY:
                log_error_id(MSGID_GHOST, "refusing to mount %s: %s Upper %s or Work %s is in use by "
                             "a live overlay: %s. Unmount it (or end its namespace) first; "
                             "'overlay-helper probe %s' shows the details",
                             name, f->what ? "the kernel reports its" : "its", cfg->upper, cfg->work,
                             who && *who ? who
                                         : "one no mount table or process scan shows (a nested "
                                           "overlay whose lower is inside it, an overlay on an "
                                           "alias path, a lazily detached mount)",
                             name);
                break;
        case STEP_OTHER_SB:
                log_error_id(MSGID_GHOST, "%s is mounted on %s, but another overlay on the same "
                             "Upper %s is alive too: %s. Two overlays on one Upper corrupt it; end "
                             "the other one first", name, merged, cfg->upper, or_q(who));
                break;
        default: /* STEP_BUSY, STEP_GHOST */
                log_error_id(f->step == STEP_GHOST ? MSGID_GHOST : MSGID_BUSY,
                             "%s %s from %s: %s%s; not unmounting lazily, Work left as it is. "
                             "Run 'overlay-helper probe %s' for details",
                             f->step == STEP_GHOST ? "ghost: a copy survives the unmount of"
                                                   : "target is busy: cannot unmount",
                             name, merged,
                             who && *who ? "holders: " : f->holders.kernel_in_use ? UNSEEN_HOLDER
                                                        : "held by something this scan cannot see",
                             who ? who : "", name);
        }
}

static void report_lock(const char *name, const inst_failure *f)
{
        if (f->error != -EBUSY)
                log_error_errno(f->error, "taking lock %s failed: %m", or_q(f->path));
        else if (f->pid > 0)
                log_error_id(MSGID_BUSY, "instance '%s' is locked by PID %d (another overlay-helper "
                             "run on it) in %s; gave up after --wait %gs",
                             name, (int)f->pid, or_q(f->path), f->waited);
        else
                log_error_id(MSGID_BUSY, "instance '%s' is locked by another overlay-helper run "
                             "(%s); gave up after --wait %gs", name, or_q(f->path), f->waited);
}

static void report_empty(const inst_failure *f)
{
        _cleanup_free_ char *where = f->detail ? text_shorten_path(f->detail, 512) : NULL;
        const char *at = where ? where : or_q(f->detail);

        if (!f->detail)
                log_error_errno(f->error, "opening %s dir %s failed: %m%s", f->what, or_q(f->path),
                                f->error == -ELOOP ? " (it is a symlink; refusing to follow it)" : "");
        else if (f->error == -EXDEV)
                log_error_id(MSGID_BUSY, "not emptying %s dir %s: %s/%s is a mount point; unmount "
                             "it first", f->what, or_q(f->path), or_q(f->path), at);
        else
                log_error_errno(f->error, "emptying %s dir %s failed at %s/%s: %m", f->what,
                                or_q(f->path), or_q(f->path), at);
}

/* An image lower: its filesystem, its writers, a stale view, its device. */
static void report_image(const char *action, const char *name, const inst_failure *f)
{
        _cleanup_free_ char *who = NULL;
        const char *path = or_q(f->path);
        int e = f->error;

        switch (f->step) {
        case STEP_IMAGE:
                if (e == -EMEDIUMTYPE)
                        log_error("image %s of %s holds %s, not a filesystem a lower layer may "
                                  "be (erofs, squashfs, ext4, ext3, ext2)", path, name,
                                  or_q(f->detail));
                else
                        log_error_errno(e, "looking at image %s of %s failed: %m%s", path, name,
                                        e == -EOPNOTSUPP ? " (libblkid.so.1 could not be loaded)"
                                                         : "");
                break;
        case STEP_IMAGE_WRITER:
                log_error_id(MSGID_BUSY, "refusing to %s %s: image %s is open for writing by %s. "
                             "A loop device caches the image's blocks and never sees writes to "
                             "the file: the overlays would read a mix of old and new data. Let "
                             "the writer finish (or stop it) first", action, name, path,
                             or_q(f->detail));
                break;
        case STEP_IMAGE_STALE:
                log_error_id(MSGID_BUSY, "refusing to %s %s: image %s is a stale view: %s. "
                             "To recover, unmount every instance using it (the device goes with "
                             "the last), then mount again", action, name, path, or_q(f->detail));
                break;
        case STEP_LOOP:
                log_error_errno(e, "%s image %s failed: %m",
                                f->what ? f->what : "attaching a loop device to", path);
                break;
        case STEP_IMAGE_LOCK:
                if (e != -EBUSY)
                        log_error_errno(e, "taking the lock of image %s failed: %m", path);
                else
                        log_error_id(MSGID_BUSY, "refusing to %s %s: image %s is being set up or "
                                     "released by another overlay-helper run (PID %d, for "
                                     "another instance using it); gave up after %gs", action,
                                     name, path, (int)f->pid, f->waited);
                break;
        case STEP_IMAGE_MOUNT:
                log_error_errno(e, "mounting image %s read-only failed: %m%s%s%s", path,
                                f->detail ? " (" : "", f->detail ? f->detail : "",
                                f->detail ? ")" : "");
                break;
        default: /* STEP_IMAGE_BUSY */
                who = probe_describe(&f->holders);
                log_error_id(MSGID_BUSY, "%s %s: its overlay is gone, but %s (image %s) is still "
                             "held: %s; a loop device is never detached from under its users. "
                             "Run 'overlay-helper probe %s' for details", action, name,
                             or_q(f->detail), path,
                             who && *who ? who : "by something this scan cannot see (the kernel "
                                                 "reports it claimed)", or_q(f->detail));
        }
}

/* The steps that need nothing but the path and the error. */
static bool report_simple(const char *name, const inst_failure *f)
{
        const char *path = or_q(f->path);
        int e = f->error;

        switch (f->step) {
        case STEP_CAPS:
                log_error_errno(e, "dropping capabilities failed: %m");
                return true;
        case STEP_SETNS:
                log_error_errno(e, "setns() into PID 1's mount namespace (%s) failed: %m%s", path,
                                e == -EPERM ? " (needs CAP_SYS_ADMIN and CAP_SYS_CHROOT)" : "");
                return true;
        case STEP_CHDIR:
                log_error_errno(e, "chdir(\"%s\") failed: %m", path);
                return true;
        case STEP_LOOKUP:
                log_error_errno(e, "looking up the mount at %s failed: %m", path);
                return true;
        case STEP_LOWER:
                log_error_errno(e, "Lower dir %s of %s: %m", path, name);
                return true;
        case STEP_SCAN:
                log_error_errno(e, "scanning mount namespaces for %s %s failed: %m",
                                f->what ? f->what : "copies of", path);
                return true;
        case STEP_WAIT:
                log_error_errno(e, "waiting for holders of %s failed: %m", path);
                return true;
        case STEP_UMOUNT:
                log_error_errno(e, "umount2(%s) failed: %m", path);
                return true;
        case STEP_NO_PROGRESS:
                log_error("%s looks mounted, but umount2(%s) finds no mount there (is Merged a "
                          "symlink now?); stopping rather than retrying", path, path);
                return true;
        case STEP_STILL_MOUNTED:
                log_error_id(MSGID_BUSY, "%s is still a mount point after unmounting; removing "
                             "nothing", path);
                return true;
        case STEP_SUBMOUNT:
                log_error_id(MSGID_BUSY, "not purging %s: %s is a mount point; unmount it first. "
                             "Nothing was removed", name, path);
                return true;
        default:
                return false;
        }
}

void report_failure(const char *action, const char *name, const inst_failure *f)
{
        const overlay_config *cfg = f->cfg;
        const char *path = or_q(f->path);
        int e = f->error;

        if (report_simple(name, f))
                return;
        switch (f->step) {
        case STEP_NAME:
        case STEP_CONFIG:
                if (f->detail)
                        log_error("%s", f->detail);
                else
                        log_error_errno(e, "loading the config of %s from %s failed: %m", name, path);
                break;
        case STEP_PRIVILEGE:
                log_error("%s must run as root: it mounts and unmounts in PID 1's mount "
                          "namespace (status and probe work unprivileged)", action);
                break;
        case STEP_LOCK:
                report_lock(name, f);
                break;
        case STEP_FOREIGN:
                if (streq(action, "mount"))
                        log_error("%s is already a mount point: %s; refusing to mount over it",
                                  path, or_q(f->detail));
                else
                        log_error("%s has %s mounted on it, which is not %s's overlay; leaving "
                                  "it alone", path, or_q(f->detail), name);
                break;
        case STEP_LIVE_COPY:
        case STEP_OTHER_SB:
        case STEP_BUSY:
        case STEP_GHOST:
                report_held(name, cfg, f);
                break;
        case STEP_OWN_UNIT:
                report_own_unit(f->what ? "ghost: a copy survives the unmount of"
                                        : "target is busy: cannot unmount", name, f);
                break;
        case STEP_MKDIR:
                log_error_errno(e, "making %s dir %s failed: %m%s", f->what, path,
                                e == -ELOOP ? " (it is a symlink; refusing to follow it)" : "");
                break;
        case STEP_SPLIT_FS:
                log_error_errno(e, "Upper %s and Work %s are on different filesystems; overlayfs "
                                "needs them on one", path, or_q(f->detail));
                break;
        case STEP_MOUNT:
                log_error_errno(e, "mounting overlay for %s on %s failed: %m%s%s%s", name, path,
                                f->detail ? " (" : "", f->detail ? f->detail : "",
                                f->detail ? ")" : "");
                break;
        case STEP_CLEAN_WORK:
                log_error_errno(e, "removing %s failed%s%s: %m", path, f->detail ? " at " : "",
                                f->detail ? f->detail : "");
                break;
        case STEP_EMPTY:
                report_empty(f);
                break;
        case STEP_IMAGE:
        case STEP_IMAGE_WRITER:
        case STEP_IMAGE_STALE:
        case STEP_LOOP:
        case STEP_IMAGE_MOUNT:
        case STEP_IMAGE_BUSY:
        case STEP_IMAGE_LOCK:
                report_image(action, name, f);
                break;
        default:
                log_error_errno(e, "%s %s failed: %m", action, name);
        }
}

int report_exit_status(int r, const inst_failure *f)
{
        if (r >= 0)
                return EXIT_OK;
        if (engine_step_is_usage(f->step, f->error))
                return EXIT_USAGE;
        if (engine_step_is_busy(f->step, f->error))
                return EXIT_BUSY;
        return EXIT_FAILED;
}
