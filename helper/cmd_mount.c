/* cmd_mount.c: the mount verb, and the option parsing it shares with umount
 * and purge. */
#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

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

/* Returns: EXIT_OK with *ret_name set, or the exit status to stop with
 * (a --help prints and returns -1). */
int parse_instance_args(int argc, char **argv, double *ret_wait, const char **ret_name)
{
        static const struct option options[] = {
                COMMON_LONG_OPTIONS,
                { "wait", required_argument, NULL, ARG_WAIT },
                {},
        };
        const char *verb = argv[0];
        int c;

        *ret_wait = 0;
        while ((c = getopt_long(argc, argv, ":qvh", options, NULL)) >= 0) {
                int r = parse_common_option(c, optarg);
                if (r < 0)
                        return usage_error(verb, "invalid value for %s: '%s'", argv[optind - 1], optarg);
                if (r > 0)
                        continue;
                switch (c) {
                case 'h':
                        printf("Usage: overlay-helper %s INSTANCE [--wait SECONDS]\n", verb);
                        return -1;
                case ARG_WAIT:
                        if (parse_seconds(optarg, ret_wait) < 0)
                                return usage_error(verb, "--wait takes seconds from 0 to 1000000, not '%s'", optarg);
                        break;
                case ':':
                        return usage_error(verb, "option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage_error(verb, "unknown option '%s'", argv[optind - 1]);
                }
        }
        log_setup(arg.verbosity);
        if (optind >= argc)
                return usage_error(verb, "needs an INSTANCE");
        if (argc - optind > 1)
                return usage_error(verb, "takes one INSTANCE, got also '%s'", argv[optind + 1]);
        *ret_name = argv[optind];
        return EXIT_OK;
}

int instance_verb_start(int argc, char **argv, double *ret_wait, instance_run *run)
{
        const char *name;
        int r = parse_instance_args(argc, argv, ret_wait, &name);

        if (r != EXIT_OK)
                return r;
        return instance_begin(name, *ret_wait, true, run);
}

typedef struct made_dirs {
        int upper_fd, work_fd, merged_fd;
        int created_upper, created_work, created_merged;
        char *top_missing[3]; /* per dir: the highest ancestor that did not exist */
} made_dirs;

/* Returns: malloc'd highest missing ancestor of PATH (not PATH itself), NULL
 * if its parent exists. */
static char *highest_missing_parent(const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        char *top = NULL, *slash;
        struct stat st;

        while (p && (slash = strrchr(p, '/')) && slash != p) {
                *slash = '\0';
                if (lstat(p, &st) == 0)
                        break;
                free(top);
                top = strdup(p);
        }
        return top;
}

/* Removes the now empty parents of PATH up to and including TOP. */
static void undo_parents(const char *path, const char *top)
{
        _cleanup_free_ char *p = top ? strdup(path) : NULL;
        char *slash;

        while (p && (slash = strrchr(p, '/')) && slash != p) {
                *slash = '\0';
                if (rmdir(p) < 0 || streq(p, top))
                        break;
        }
}

/* A failed mount must not leave dirs that we made behind: remove exactly
 * those, and only while they are still empty. */
static void undo_dirs(const overlay_config *cfg, made_dirs *d)
{
        if (d->created_merged)
                (void)rmdir(cfg->merged);
        if (d->created_work) {
                _cleanup_close_ int fd = safe_open_dir(cfg->work);
                if (fd >= 0)
                        (void)safe_remove_entry(fd, "work", NULL);
                (void)rmdir(cfg->work);
        }
        if (d->created_upper)
                (void)rmdir(cfg->upper);
        undo_parents(cfg->merged, d->top_missing[2]);
        undo_parents(cfg->work, d->top_missing[1]);
        undo_parents(cfg->upper, d->top_missing[0]);
}

static void close_dirs(made_dirs *d)
{
        closep(&d->upper_fd);
        closep(&d->work_fd);
        closep(&d->merged_fd);
}

static void free_made_dirs(made_dirs *d)
{
        for (size_t i = 0; i < ELEMENTSOF(d->top_missing); i++)
                free(d->top_missing[i]);
}

/* A missing or unreadable Lower is the config's fault, not the kernel's:
 * name it before any dir is made. */
static int check_lowers(const overlay_config *cfg)
{
        for (size_t i = 0; i < cfg->n_lowers; i++) {
                struct stat st;
                if (stat(cfg->lowers[i], &st) < 0)
                        return log_error_errno(negative_errno(), "Lower dir %s of %s: %m",
                                               cfg->lowers[i], cfg->instance);
                if (!S_ISDIR(st.st_mode))
                        return log_error_errno(-ENOTDIR, "Lower dir %s of %s: %m",
                                               cfg->lowers[i], cfg->instance);
        }
        return 0;
}

static int make_dirs(const overlay_config *cfg, made_dirs *d)
{
        struct stat upper_st, work_st;
        struct {
                const char *what, *path;
                int *fd, *created;
                uid_t uid;
                gid_t gid;
                mode_t mode;
        } dirs[] = {
                { "Upper", cfg->upper, &d->upper_fd, &d->created_upper, cfg->uid, cfg->gid, cfg->mode },
                { "Work", cfg->work, &d->work_fd, &d->created_work, 0, 0, 0700 },
                { "Merged", cfg->merged, &d->merged_fd, &d->created_merged, cfg->uid, cfg->gid, cfg->mode },
        };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                d->top_missing[i] = highest_missing_parent(dirs[i].path);
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                int fd = safe_mkdir_path(dirs[i].path, dirs[i].uid, dirs[i].gid, dirs[i].mode,
                                         dirs[i].created);
                if (fd < 0)
                        return log_error_errno(fd, "making %s dir %s failed: %m%s", dirs[i].what,
                                               dirs[i].path,
                                               fd == -ELOOP ? " (it is a symlink; refusing to follow it)" : "");
                *dirs[i].fd = fd;
                if (*dirs[i].created)
                        log_info("created %s dir %s", dirs[i].what, dirs[i].path);
        }
        if (fstat(d->upper_fd, &upper_st) < 0 || fstat(d->work_fd, &work_st) < 0)
                return log_error_errno(negative_errno(), "fstat of %s failed: %m", cfg->upper);
        if (upper_st.st_dev != work_st.st_dev)
                return log_error_errno(-EXDEV, "Upper %s and Work %s are on different filesystems; "
                                       "overlayfs needs them on one", cfg->upper, cfg->work);
        return 0;
}

/* Returns: EXIT_OK when nothing is there yet, or the exit status to stop with. */
static int check_merged(const overlay_config *cfg, bool *ret_already)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;
        int r = mount_at(cfg->merged, &m);

        *ret_already = false;
        if (r == -ENOENT)
                return EXIT_OK;
        if (r < 0)
                return log_error_errno(r, "looking up the mount at %s failed: %m", cfg->merged), EXIT_FAILED;
        if (overlay_same_layers(m, cfg)) {
                *ret_already = true;
                return EXIT_OK;
        }
        log_error("%s is already a mount point: %s '%s' (options %s); refusing to mount over it",
                  cfg->merged, m->fstype, m->source, m->fs_options);
        return EXIT_FAILED;
}

/* Two live overlays on one Upper dir corrupt it silently (the kernel only
 * warns "upperdir is in-use"): refuse while any copy lives anywhere. */
static int refuse_live_copies(const overlay_config *cfg)
{
        _cleanup_free_ char *who = NULL, *scratch = NULL;
        probe_result live;
        int r;

        /* Every live overlay on this Work dir keeps overlayfs's Work/work in
         * it, and umount removes that only once no copy is left anywhere; so
         * without it there is nothing to find, and the scan of every
         * namespace's table stays off the common path. */
        if (asprintf(&scratch, "%s/work", cfg->work) < 0)
                return log_error_errno(-ENOMEM, "out of memory"), EXIT_FAILED;
        uint64_t recorded = 0;
        bool have_record = instance_record_read(cfg->instance, &recorded) == 0;
        if (faccessat(AT_FDCWD, scratch, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
            !have_record)
                return EXIT_OK;
        /* The recorded mount passed this same check when it was made, so
         * only it, its copies and what came after can be alive. */
        r = probe_instance(cfg, 0, have_record ? recorded : 0, &live);

        if (r < 0)
                return log_error_errno(r, "scanning mount namespaces for overlays on %s failed: %m",
                                       cfg->upper), EXIT_FAILED;
        if (live.n_copies == 0) {
                probe_result_done(&live);
                return EXIT_OK;
        }
        who = probe_describe(&live);
        log_error_id(MSGID_GHOST, "refusing to mount %s: its Upper %s or Work %s is in use by a "
                     "live overlay: %s. Unmount it (or end its namespace) first; "
                     "'overlay-helper probe %s' shows the details",
                     cfg->instance, cfg->upper, cfg->work, who ? who : "?", cfg->instance);
        probe_result_done(&live);
        return EXIT_BUSY;
}

/* Remembers which mount is ours, so the unmount may bound its ghost scan. */
static void record_mount(const overlay_config *cfg)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;

        if (!mounttab_have_statmount() || mount_at(cfg->merged, &m) < 0 ||
            instance_record_write(cfg->instance, m->mnt_id) < 0)
                instance_record_remove(cfg->instance);
}

/* Already mounted with our layers, but not by us as far as the record
 * knows (made by hand, or a record lost): then an older overlay on the same
 * Upper may still live elsewhere, and "already mounted" would hide it. */
static int check_already_mounted(const overlay_config *cfg)
{
        _cleanup_mount_entry_ mount_entry *m = NULL;
        _cleanup_free_ char *who = NULL;
        probe_result live;
        uint64_t recorded;
        bool other = false;
        int r;

        if (mount_at(cfg->merged, &m) < 0)
                return EXIT_OK;
        if (instance_record_read(cfg->instance, &recorded) == 0 && recorded == m->mnt_id)
                return EXIT_OK;
        r = probe_instance(cfg, m->devnum, 0, &live);
        if (r < 0)
                return log_error_errno(r, "scanning mount namespaces for overlays on %s failed: %m",
                                       cfg->upper), EXIT_FAILED;
        for (size_t i = 0; i < live.n_copies && !other; i++)
                other = live.copies[i].other_sb;
        if (other) {
                who = probe_describe(&live);
                log_error_id(MSGID_GHOST, "%s is mounted on %s, but another overlay on the same Upper "
                             "%s is alive too: %s. Two overlays on one Upper corrupt it; end the "
                             "other one first", cfg->instance, cfg->merged, cfg->upper,
                             who ? who : "?");
        } else
                record_mount(cfg);
        probe_result_done(&live);
        return other ? EXIT_BUSY : EXIT_OK;
}

int verb_mount(int argc, char **argv)
{
        made_dirs d = { -EBADF, -EBADF, -EBADF, 0, 0, 0, { NULL, NULL, NULL } };
        _cleanup_free_ char *detail = NULL;
        instance_run run;
        const char *name;
        double wait;
        bool already;
        int r;

        r = instance_verb_start(argc, argv, &wait, &run);
        if (r != EXIT_OK)
                return r < 0 ? EXIT_OK : r;
        name = run.name;
        const overlay_config *cfg = run.cfg;

        r = check_merged(cfg, &already);
        if (r == EXIT_OK && already)
                r = check_already_mounted(cfg);
        if (r != EXIT_OK || already) {
                if (r == EXIT_OK)
                        log_info("%s is already mounted on %s with the same layers", name, cfg->merged);
                instance_end(&run, false);
                return r;
        }
        r = refuse_live_copies(cfg);
        if (r != EXIT_OK) {
                instance_end(&run, false);
                return r;
        }
        if (check_lowers(cfg) < 0) {
                instance_end(&run, false);
                return EXIT_FAILED;
        }
        if (make_dirs(cfg, &d) < 0) {
                r = EXIT_FAILED;
                goto undo;
        }
        r = overlay_mount(cfg, d.upper_fd, d.work_fd, d.merged_fd, &detail);
        if (r < 0) {
                log_error_errno(r, "mounting overlay for %s on %s failed: %m%s%s%s", name,
                                cfg->merged, detail ? " (" : "", detail ? detail : "",
                                detail ? ")" : "");
                r = EXIT_FAILED;
                goto undo;
        }
        record_mount(cfg);
        log_notice_id(MSGID_MOUNTED, "mounted %s on %s (upper %s, %zu lower layer%s, top %s)", name,
                      cfg->merged, cfg->upper, cfg->n_lowers, cfg->n_lowers == 1 ? "" : "s",
                      cfg->lowers[0]);
        test_stall("mounted");
        close_dirs(&d);
        free_made_dirs(&d);
        instance_end(&run, false);
        return EXIT_OK;
undo:
        close_dirs(&d);
        undo_dirs(cfg, &d);
        free_made_dirs(&d);
        instance_end(&run, false);
        return r;
}
