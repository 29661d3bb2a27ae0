/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.c: see report.h. Every message names the operation, the path and
 * the error, and where it helps, the fix. */
#include "log.h"
#include "probe_output.h"
#include "report.h"
#include "text.h"
#include "util.h"
#include "verbs.h"

/* The journal fields of a failure: its paths and who holds them. */
#define HOLDER_FIELDS_MAX PROBE_LINE_HOLDERS_MAX
typedef struct fields {
        log_field f[8 + 5 * HOLDER_FIELDS_MAX + 1];
        size_t n;
        char pid[HOLDER_FIELDS_MAX][16];
        char *line[HOLDER_FIELDS_MAX];
        size_t n_holders;
        char count[24];
} fields;

static void fields_done(fields *fs)
{
        for (size_t i = 0; i < fs->n_holders; i++)
                free(fs->line[i]);
}

static void field_add(fields *fs, const char *name, const char *value)
{
        if (value && fs->n < ELEMENTSOF(fs->f) - 1)
                fs->f[fs->n++] = (log_field){ name, value };
        fs->f[fs->n] = (log_field){ NULL, NULL };
}

/* One holder as OVERLAY_HELPER_HOLDER_PID=, _COMM=, _UNIT=, and the three
 * on one line in OVERLAY_HELPER_HOLDER=: journald keeps each distinct value
 * of a field once, so only that line pairs a PID with its unit. */
static void field_holder(fields *fs, pid_t pid, const char *comm, const char *unit)
{
        size_t k = fs->n_holders;

        if (k >= HOLDER_FIELDS_MAX || pid <= 0)
                return;
        snprintf(fs->pid[k], sizeof fs->pid[k], "%d", (int)pid);
        if (asprintf(&fs->line[k], "%d %s %s", (int)pid, comm ? comm : "?", unit ? unit : "-") < 0)
                fs->line[k] = NULL;
        fs->n_holders++;
        field_add(fs, "OVERLAY_HELPER_HOLDER_PID", fs->pid[k]);
        field_add(fs, "OVERLAY_HELPER_HOLDER_COMM", comm);
        field_add(fs, "OVERLAY_HELPER_HOLDER_UNIT", unit);
        field_add(fs, "OVERLAY_HELPER_HOLDER", fs->line[k]);
}

/* The first HOLDER_FIELDS_MAX of every copy's processes (each one holds:
 * probe.h), and OVERLAY_HELPER_HOLDERS=, how many in all. */
static void field_holders(fields *fs, const probe_result *r)
{
        size_t total = 0;

        for (size_t i = 0; i < r->n_copies; i++)
                for (size_t j = 0; j < r->copies[i].n_processes; j++, total++) {
                        const holder *h = &r->copies[i].processes[j];
                        field_holder(fs, h->pid, h->comm, h->unit);
                }
        snprintf(fs->count, sizeof fs->count, "%zu", total);
        field_add(fs, "OVERLAY_HELPER_HOLDERS", fs->count);
}

static bool step_is_image(inst_step step)
{
        switch (step) {
        case STEP_IMAGE:
        case STEP_IMAGE_WRITER:
        case STEP_IMAGE_STALE:
        case STEP_LOOP:
        case STEP_IMAGE_MOUNT:
        case STEP_IMAGE_BUSY:
        case STEP_IMAGE_LOCK:
                return true;
        default:
                return false;
        }
}

static void failure_fields(fields *fs, const inst_failure *f)
{
        const overlay_config *cfg = f->cfg;

        field_add(fs, NULL, NULL);
        switch (f->step) {
        case STEP_LIVE_COPY:
        case STEP_OTHER_SB:
        case STEP_BUSY:
        case STEP_GHOST:
                field_add(fs, "OVERLAY_HELPER_PATH", cfg ? cfg->merged : f->path);
                field_holders(fs, &f->holders);
                break;
        case STEP_OWN_UNIT:
                field_add(fs, "OVERLAY_HELPER_PATH", cfg ? cfg->merged : f->path);
                field_holder(fs, f->pid, f->comm, f->unit);
                break;
        case STEP_LOCK:
                field_add(fs, "OVERLAY_HELPER_LOCK", f->path);
                field_holder(fs, f->pid, NULL, NULL);
                break;
        default:
                if (!step_is_image(f->step)) {
                        field_add(fs, "OVERLAY_HELPER_PATH", f->path);
                        break;
                }
                field_add(fs, "OVERLAY_HELPER_IMAGE", f->path);
                if (f->step == STEP_IMAGE_BUSY) {
                        field_add(fs, "OVERLAY_HELPER_DEVICE", f->detail);
                        field_holders(fs, &f->holders);
                } else if (f->step == STEP_IMAGE_LOCK)
                        field_holder(fs, f->pid, NULL, NULL);
        }
        if (cfg) {
                field_add(fs, "OVERLAY_HELPER_UPPER", cfg->upper);
                field_add(fs, "OVERLAY_HELPER_WORK", cfg->work);
        }
}

static bool event_is_image(inst_event_kind kind)
{
        return kind == IEV_IMAGE_ATTACHED || kind == IEV_IMAGE_SHARED ||
               kind == IEV_IMAGE_RELEASED || kind == IEV_IMAGE_LEFT_OPEN;
}

void report_event(const inst_event *ev, void *userdata)
{
        const overlay_config *cfg = ev->cfg;
        const bool image = event_is_image(ev->kind);
        const bool whole = ev->kind == IEV_MOUNTED || ev->kind == IEV_PURGED;
        const log_field fl[] = {
                { "OVERLAY_HELPER_PATH", image ? NULL : whole && cfg ? cfg->merged : ev->path },
                { "OVERLAY_HELPER_UPPER", !image && cfg ? cfg->upper : NULL },
                { "OVERLAY_HELPER_WORK", !image && cfg ? cfg->work : NULL },
                { "OVERLAY_HELPER_IMAGE", image ? ev->path : NULL },
                { "OVERLAY_HELPER_DEVICE", image ? ev->what : NULL },
                { NULL, NULL },
        };
        (void)userdata;

        switch (ev->kind) {
        case IEV_NS_JOINED:
                log_full(LOG_WARNING, 0, MSGID_NS_ESCAPE, fl,
                               "started outside PID 1's mount namespace; joined it with setns(). "
                               "A copy of the overlay in the caller's namespace can keep it alive: "
                               "fix the unit's Exec line to "
                               "'+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- overlay-helper ...'");
                break;
        case IEV_DIR_CREATED:
                log_full(LOG_INFO, 0, MSGID_DIR_CREATED, fl, "created %s dir %s", ev->what, ev->path);
                break;
        case IEV_ALREADY_MOUNTED:
                log_full(LOG_INFO, 0, MSGID_ALREADY_MOUNTED, fl, "%s is already mounted on %s with the same layers", ev->instance, ev->path);
                break;
        case IEV_MOUNTED:
                log_full(LOG_NOTICE, 0, MSGID_MOUNTED, fl, "mounted %s on %s (upper %s, %zu lower layer%s, top %s)",
                              ev->instance, cfg->merged, cfg->upper, cfg->n_lowers,
                              cfg->n_lowers == 1 ? "" : "s", cfg->lowers[0]);
                break;
        case IEV_UNMOUNTED:
                log_full(LOG_NOTICE, 0, MSGID_UNMOUNTED, fl, "unmounted %s from %s", ev->instance, ev->path);
                break;
        case IEV_NOT_MOUNTED:
                log_full(LOG_INFO, 0, MSGID_NOT_MOUNTED, fl, "%s is not mounted on %s; nothing to unmount", ev->instance, ev->path);
                break;
        case IEV_WORK_CLEANED:
                log_full(LOG_INFO, 0, MSGID_WORK_CLEANED, fl, "removed overlayfs's leftover %s", ev->path);
                break;
        case IEV_PURGED:
                log_full(LOG_NOTICE, 0, MSGID_PURGED, fl, "purged %s: emptied %s, %s and %s", ev->instance,
                              cfg->upper, cfg->work, cfg->merged);
                break;
        case IEV_WAITING:
                log_full(LOG_DEBUG, 0, MSGID_DEBUG, fl, "waiting for %s of %s to let go", ev->what, ev->path);
                break;
        case IEV_IMAGE_ATTACHED:
                log_full(LOG_INFO, 0, MSGID_IMAGE_ATTACHED, fl, "attached image %s read-only as %s", ev->path, ev->what);
                break;
        case IEV_IMAGE_SHARED:
                log_full(LOG_INFO, 0, MSGID_IMAGE_SHARED, fl, "%s (image %s) is still used by other overlays; left attached", ev->what,
                         ev->path);
                break;
        case IEV_IMAGE_RELEASED:
                if (ev->what)
                        log_full(LOG_INFO, 0, MSGID_IMAGE_RELEASED, fl, "%s (image %s) is released: its last overlay is gone", ev->what,
                                 ev->path);
                else
                        log_full(LOG_INFO, 0, MSGID_IMAGE_RELEASED, fl, "image %s is released: no loop device backs it", ev->path);
                break;
        case IEV_IMAGE_LEFT_OPEN:
                log_full(LOG_NOTICE, 0, MSGID_IMAGE_LEFT_OPEN, fl, "%s (image %s) is used by no overlay or mount, but "
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

static void report_own_unit(const char *action, const char *name, const inst_failure *f,
                            const log_field *fl)
{
        log_full(LOG_ERR, f->error, MSGID_OWN_UNIT, fl, "%s %s: PID %d (%s) still holds it and runs in this very unit "
                     "%s, which systemd %s; not waiting for it. Fix the unit: %s"
                     "mount the overlay from overlay-helper@%s.service ordered after the service",
                     action, name, (int)f->pid, or_q(f->comm), or_q(f->unit),
                     f->ignores_sigterm ? "kills only after ExecStopPost= returns (it ignores "
                                          "SIGTERM)"
                                        : "stops only after ExecStopPost= returns",
                     f->ignores_sigterm ? "" : "KillMode=control-group, or ", name);
}

static void report_held(const char *name, const overlay_config *cfg, const inst_failure *f,
                        const log_field *fl)
{
        _cleanup_free_ char *who = probe_describe(&f->holders);
        const char *merged = cfg ? cfg->merged : or_q(f->path);

        switch (f->step) {
        case STEP_LIVE_COPY:
                log_full(LOG_ERR, f->error, MSGID_GHOST, fl, "refusing to mount %s: %s Upper %s or Work %s is in use by "
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
                log_full(LOG_ERR, f->error, MSGID_SECOND_OVERLAY, fl, "%s is mounted on %s, but another overlay on the same "
                             "Upper %s is alive too: %s. Two overlays on one Upper corrupt it; end "
                             "the other one first", name, merged, cfg->upper, or_q(who));
                break;
        default: /* STEP_BUSY, STEP_GHOST */
                log_full(LOG_ERR, f->error, f->step == STEP_GHOST ? MSGID_GHOST : MSGID_BUSY, fl,
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

static void report_lock(const char *name, const inst_failure *f, const log_field *fl)
{
        if (f->error != -EBUSY)
                log_full(LOG_ERR, f->error, MSGID_FAILED, fl, "taking lock %s failed: %m", or_q(f->path));
        else if (f->pid > 0)
                log_full(LOG_ERR, f->error, MSGID_LOCK_BUSY, fl, "instance '%s' is locked by PID %d (another overlay-helper "
                             "run on it) in %s; gave up after --wait %gs",
                             name, (int)f->pid, or_q(f->path), f->waited);
        else
                log_full(LOG_ERR, f->error, MSGID_LOCK_BUSY, fl, "instance '%s' is locked by another overlay-helper run "
                             "(%s); gave up after --wait %gs", name, or_q(f->path), f->waited);
}

static void report_empty(const inst_failure *f, const log_field *fl)
{
        _cleanup_free_ char *where = f->detail ? text_shorten_path(f->detail, 512) : NULL;
        const char *at = where ? where : or_q(f->detail);

        if (!f->detail)
                log_full(LOG_ERR, f->error, MSGID_FAILED, fl, "opening %s dir %s failed: %m%s", f->what, or_q(f->path),
                                f->error == -ELOOP ? " (it is a symlink; refusing to follow it)" : "");
        else if (f->error == -EXDEV)
                log_full(LOG_ERR, f->error, MSGID_SUBMOUNT, fl, "not emptying %s dir %s: %s/%s is a mount point; unmount "
                             "it first", f->what, or_q(f->path), or_q(f->path), at);
        else
                log_full(LOG_ERR, f->error, MSGID_FAILED, fl, "emptying %s dir %s failed at %s/%s: %m", f->what,
                                or_q(f->path), or_q(f->path), at);
}

/* An image lower: its filesystem, its writers, a stale view, its device. */
static void report_image(const char *action, const char *name, const inst_failure *f,
                         const log_field *fl)
{
        _cleanup_free_ char *who = NULL;
        const char *path = or_q(f->path);
        int e = f->error;

        switch (f->step) {
        case STEP_IMAGE:
                if (e == -EMEDIUMTYPE)
                        log_full(LOG_ERR, e, MSGID_IMAGE_FORMAT, fl, "image %s of %s holds %s, not a filesystem a lower layer may "
                                  "be (erofs, squashfs, ext4, ext3, ext2)", path, name,
                                  or_q(f->detail));
                else
                        log_full(LOG_ERR, e, MSGID_FAILED, fl, "looking at image %s of %s failed: %m%s", path, name,
                                        e == -EOPNOTSUPP ? " (libblkid.so.1 could not be loaded)"
                                                         : "");
                break;
        case STEP_IMAGE_WRITER:
                log_full(LOG_ERR, e, MSGID_IMAGE_WRITER, fl, "refusing to %s %s: image %s is open for writing by %s. "
                             "A loop device caches the image's blocks and never sees writes to "
                             "the file: the overlays would read a mix of old and new data. Let "
                             "the writer finish (or stop it) first", action, name, path,
                             or_q(f->detail));
                break;
        case STEP_IMAGE_STALE:
                log_full(LOG_ERR, e, MSGID_IMAGE_STALE, fl, "refusing to %s %s: image %s is a stale view: %s. "
                             "To recover, unmount every instance using it (the device goes with "
                             "the last), then mount again", action, name, path, or_q(f->detail));
                break;
        case STEP_LOOP:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "%s image %s failed: %m",
                                f->what ? f->what : "attaching a loop device to", path);
                break;
        case STEP_IMAGE_LOCK:
                if (e != -EBUSY)
                        log_full(LOG_ERR, e, MSGID_FAILED, fl, "taking the lock of image %s failed: %m", path);
                else
                        log_full(LOG_ERR, e, MSGID_IMAGE_LOCK_BUSY, fl, "refusing to %s %s: image %s is being set up or "
                                     "released by another overlay-helper run (PID %d, for "
                                     "another instance using it); gave up after %gs", action,
                                     name, path, (int)f->pid, f->waited);
                break;
        case STEP_IMAGE_MOUNT:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "mounting image %s read-only failed: %m%s%s%s", path,
                                f->detail ? " (" : "", f->detail ? f->detail : "",
                                f->detail ? ")" : "");
                break;
        default: /* STEP_IMAGE_BUSY */
                who = probe_describe(&f->holders);
                log_full(LOG_ERR, e, MSGID_IMAGE_BUSY, fl, "%s %s: its overlay is gone, but %s (image %s) is still "
                             "held: %s; a loop device is never detached from under its users. "
                             "Run 'overlay-helper probe %s' for details", action, name,
                             or_q(f->detail), path,
                             who && *who ? who : "by something this scan cannot see (the kernel "
                                                 "reports it claimed)", or_q(f->detail));
        }
}

/* The steps that need nothing but the path and the error. */
static bool report_simple(const char *name, const inst_failure *f, const log_field *fl)
{
        const char *path = or_q(f->path);
        int e = f->error;

        switch (f->step) {
        case STEP_CAPS:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "dropping capabilities failed: %m");
                return true;
        case STEP_SETNS:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "setns() into PID 1's mount namespace (%s) failed: %m%s", path,
                                e == -EPERM ? " (needs CAP_SYS_ADMIN and CAP_SYS_CHROOT)" : "");
                return true;
        case STEP_CHDIR:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "chdir(\"%s\") failed: %m", path);
                return true;
        case STEP_LOOKUP:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "looking up the mount at %s failed: %m", path);
                return true;
        case STEP_LOWER:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "Lower dir %s of %s: %m", path, name);
                return true;
        case STEP_SCAN:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "scanning mount namespaces for %s %s failed: %m",
                                f->what ? f->what : "copies of", path);
                return true;
        case STEP_WAIT:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "waiting for holders of %s failed: %m", path);
                return true;
        case STEP_UMOUNT:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "umount2(%s) failed: %m", path);
                return true;
        case STEP_NO_PROGRESS:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "%s looks mounted, but umount2(%s) finds no mount there (is Merged a "
                          "symlink now?); stopping rather than retrying", path, path);
                return true;
        case STEP_STILL_MOUNTED:
                log_full(LOG_ERR, e, MSGID_SUBMOUNT, fl, "%s is still a mount point after unmounting; removing "
                             "nothing", path);
                return true;
        case STEP_SUBMOUNT:
                log_full(LOG_ERR, e, MSGID_SUBMOUNT, fl, "not purging %s: %s is a mount point; unmount it first. "
                             "Nothing was removed", name, path);
                return true;
        default:
                return false;
        }
}

void report_failure(const char *action, const char *name, const inst_failure *f)
{
        _cleanup_(fields_done) fields fs = { .n = 0 };
        const overlay_config *cfg = f->cfg;
        const char *path = or_q(f->path);
        const log_field *fl = fs.f;
        int e = f->error;

        failure_fields(&fs, f);
        if (report_simple(name, f, fl))
                return;
        switch (f->step) {
        case STEP_NAME:
        case STEP_CONFIG:
                if (f->detail)
                        log_full(LOG_ERR, e, MSGID_CONFIG, fl, "%s", f->detail);
                else
                        log_full(LOG_ERR, e, MSGID_CONFIG, fl, "loading the config of %s from %s failed: %m", name, path);
                break;
        case STEP_PRIVILEGE:
                log_full(LOG_ERR, e, MSGID_PRIVILEGE, fl, "%s must run as root: it mounts and unmounts in PID 1's mount "
                          "namespace (status and probe work unprivileged)", action);
                break;
        case STEP_LOCK:
                report_lock(name, f, fl);
                break;
        case STEP_FOREIGN:
                if (streq(action, "mount"))
                        log_full(LOG_ERR, e, MSGID_FOREIGN_MOUNT, fl, "%s is already a mount point: %s; refusing to mount over it",
                                  path, or_q(f->detail));
                else
                        log_full(LOG_ERR, e, MSGID_FOREIGN_MOUNT, fl, "%s has %s mounted on it, which is not %s's overlay; leaving "
                                  "it alone", path, or_q(f->detail), name);
                break;
        case STEP_LIVE_COPY:
        case STEP_OTHER_SB:
        case STEP_BUSY:
        case STEP_GHOST:
                report_held(name, cfg, f, fl);
                break;
        case STEP_OWN_UNIT:
                report_own_unit(f->what ? "ghost: a copy survives the unmount of"
                                        : "target is busy: cannot unmount", name, f, fl);
                break;
        case STEP_MKDIR:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "making %s dir %s failed: %m%s", f->what, path,
                                e == -ELOOP ? " (it is a symlink; refusing to follow it)" : "");
                break;
        case STEP_SPLIT_FS:
                log_full(LOG_ERR, e, MSGID_CONFIG, fl, "Upper %s and Work %s are on different filesystems; overlayfs "
                                "needs them on one", path, or_q(f->detail));
                break;
        case STEP_MOUNT:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "mounting overlay for %s on %s failed: %m%s%s%s", name, path,
                                f->detail ? " (" : "", f->detail ? f->detail : "",
                                f->detail ? ")" : "");
                break;
        case STEP_CLEAN_WORK:
                log_full(LOG_ERR, e, MSGID_FAILED, fl, "removing %s failed%s%s: %m", path, f->detail ? " at " : "",
                                f->detail ? f->detail : "");
                break;
        case STEP_EMPTY:
                report_empty(f, fl);
                break;
        default:
                if (step_is_image(f->step))
                        report_image(action, name, f, fl);
                else
                        log_full(LOG_ERR, e, MSGID_FAILED, fl, "%s %s failed: %m", action, name);
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
