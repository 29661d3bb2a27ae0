/* instance.c: see instance.h. */
#include <fcntl.h>

#include "caps.h"
#include "instance.h"
#include "lock.h"
#include "log.h"
#include "ns.h"
#include "util.h"
#include "probe.h"
#include "verbs.h"

int log_config_error(int r, const char *error)
{
        /* config_load()'s message already carries the file, line and error. */
        if (error)
                log_error("%s", error);
        else
                log_error_errno(r, "loading config failed: %m");
        return r == -EINVAL || r == -ENOENT ? EXIT_USAGE : EXIT_FAILED;
}

int log_bad_name(const char *name)
{
        _cleanup_free_ char *error = NULL;
        overlay_config *unused = NULL;

        /* config_load() checks the name first and says what is wrong with it,
         * touching nothing else when it is bad. */
        (void)config_load(arg.config_dir, arg.state_dir, name, &unused, &error);
        if (unused)
                config_free(unused);
        log_error("%s", error ? error : "invalid instance name");
        return EXIT_USAGE;
}

static int enter_pid1_namespace(void)
{
        int r = ns_enter_pid1_mnt();

        if (r == 1)
                log_warning_id(MSGID_NS_ESCAPE,
                               "started outside PID 1's mount namespace; joined it with setns(). "
                               "A copy of the overlay in the caller's namespace can keep it alive: "
                               "fix the unit's Exec line to "
                               "'+/usr/bin/nsenter --mount=/proc/1/ns/mnt -- overlay-helper ...'");
        else if (r < 0)
                log_error_errno(r, "setns() into PID 1's mount namespace (/proc/1/ns/mnt) failed: %m%s",
                                r == -EPERM ? " (needs root: CAP_SYS_ADMIN and CAP_SYS_CHROOT)" : "");
        return r;
}

int instance_begin(const char *name, double wait_sec, bool take_lock, instance_run *run)
{
        _cleanup_free_ char *error = NULL;
        pid_t lock_holder = 0;
        int r;

        *run = (instance_run){ .name = name, .lock_fd = -EBADF };
        log_set_instance(name);
        if (instance_name_check(name) < 0)
                return log_bad_name(name);
        r = caps_drop(CAPS_CHANGE);
        if (r < 0)
                return log_error_errno(r, "dropping capabilities failed: %m"), EXIT_FAILED;
        if (enter_pid1_namespace() < 0)
                return EXIT_FAILED;
        /* setns() moved cwd to /, but a unit without sandboxing runs its "+"
         * lines in PID 1's namespace already, with WorkingDirectory= perhaps
         * inside the very overlay we are asked to unmount. */
        if (chdir("/") < 0)
                return log_error_errno(negative_errno(), "chdir(\"/\") failed: %m"), EXIT_FAILED;

        r = config_load(arg.config_dir, arg.state_dir, name, &run->cfg, &error);
        if (r < 0)
                return log_config_error(r, error);
        if (!take_lock)
                return EXIT_OK;

        r = lock_instance(arg.runtime_dir, name, wait_sec, &lock_holder);
        if (r == -EBUSY) {
                if (lock_holder > 0)
                        log_error_id(MSGID_BUSY,
                                     "instance '%s' is locked by PID %d (another overlay-helper run "
                                     "on it) in %s/%s.lock; gave up after --wait %gs",
                                     name, (int)lock_holder, arg.runtime_dir, name, wait_sec);
                else
                        log_error_id(MSGID_BUSY,
                                     "instance '%s' is locked by another overlay-helper run "
                                     "(%s/%s.lock); gave up after --wait %gs",
                                     name, arg.runtime_dir, name, wait_sec);
                instance_end(run, false);
                return EXIT_BUSY;
        }
        if (r < 0) {
                log_error_errno(r, "taking lock %s/%s.lock failed: %m", arg.runtime_dir, name);
                instance_end(run, false);
                return EXIT_FAILED;
        }
        run->lock_fd = r;
        test_stall("locked");
        return EXIT_OK;
}

void instance_end(instance_run *run, bool unlink_lock)
{
        lock_release(run->lock_fd, arg.runtime_dir, run->name, unlink_lock);
        run->lock_fd = -EBADF;
        if (run->cfg)
                config_free(TAKE_PTR(run->cfg));
}

static char *record_path(const char *name)
{
        char *path = NULL;
        return asprintf(&path, "%s/%s.mounted", arg.runtime_dir, name) < 0 ? NULL : path;
}

int instance_record_read(const char *name, uint64_t *ret_mnt_id)
{
        _cleanup_free_ char *path = record_path(name);
        _cleanup_fclose_ FILE *f = NULL;
        unsigned long long id;

        if (!path)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return -ENOENT;
        if (fscanf(f, "%llu", &id) != 1 || id == 0)
                return -ENOENT;
        *ret_mnt_id = id;
        return 0;
}

int instance_record_write(const char *name, uint64_t mnt_id)
{
        _cleanup_free_ char *path = record_path(name), *tmp = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        int fd;

        if (!path || asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "we");
        if (!f) {
                close(fd);
                return -ENOMEM;
        }
        fprintf(f, "%llu\n", (unsigned long long)mnt_id);
        if (fflush(f) != 0 || rename(tmp, path) < 0) {
                int r = negative_errno();
                (void)unlink(tmp);
                return r;
        }
        return 0;
}

void instance_record_remove(const char *name)
{
        _cleanup_free_ char *path = record_path(name);
        if (path)
                (void)unlink(path);
}

static char *canonical_or_copy(const char *path)
{
        char *c = realpath(path, NULL);
        return c ? c : strdup(path);
}

int probe_target_for_instance(const overlay_config *cfg, probe_target *ret)
{
        probe_target t = { 0 };

        t.input = strdup(cfg->instance);
        t.instance = strdup(cfg->instance);
        t.path = strdup(cfg->merged);
        /* the kernel shows layers as resolved paths */
        t.upper = canonical_or_copy(cfg->upper);
        t.work = canonical_or_copy(cfg->work);
        if (!t.input || !t.instance || !t.path || !t.upper || !t.work) {
                probe_target_done(&t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

/* Scans every mount namespace for the instance's overlay: by superblock when
 * DEVNUM is known, and always by its Upper and Work dirs. */
int probe_instance(const overlay_config *cfg, dev_t devnum, uint64_t min_mnt_id,
                         probe_result *ret)
{
        probe_target t;
        int r = probe_target_for_instance(cfg, &t);

        if (r < 0)
                return r;
        t.devnum = devnum;
        t.min_mnt_id = min_mnt_id;
        r = probe_scan(&t, ret);
        probe_target_done(&t);
        return r;
}
