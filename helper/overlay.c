/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* overlay.c: see overlay.h. */
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "overlay.h"
#include "env.h"
#include "fallback.h"
#include "saferm.h"
#include "util.h"

/* fsconfig() string values are capped by the kernel at 256 bytes. */
#define FSCONFIG_STRING_MAX 256

static int strv_push(char ***v, size_t *n, char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

void overlay_layers_done(overlay_layers *l)
{
        for (size_t i = 0; i < l->n_lowers; i++)
                free(l->lowers[i]);
        free(l->lowers);
        free(l->upper);
        free(l->work);
        *l = (overlay_layers){ 0 };
}

/* The legacy form separates lowers with ':' and escapes a literal one as
 * "\:"; the octal escapes were already undone. */
static int split_lowerdir(const char *value, overlay_layers *l)
{
        _cleanup_free_ char *cur = malloc(strlen(value) + 1);
        size_t len = 0;

        if (!cur)
                return -ENOMEM;
        for (const char *p = value;; p++) {
                if (*p == '\\' && p[1]) {
                        cur[len++] = *++p;
                        continue;
                }
                if (*p == ':' || *p == '\0') {
                        cur[len] = '\0';
                        char *s = strdup(cur);
                        if (!s || strv_push(&l->lowers, &l->n_lowers, s) < 0)
                                return -ENOMEM;
                        len = 0;
                        if (*p == '\0')
                                return 0;
                        continue;
                }
                cur[len++] = *p;
        }
}

int overlay_layers_parse(const char *fs_options, overlay_layers *ret)
{
        overlay_layers l = { 0 };
        const char *next = fs_options;
        char *v;

        while (next && (v = option_next_value(next, "lowerdir+", &next)))
                if (strv_push(&l.lowers, &l.n_lowers, v) < 0)
                        goto oom;
        v = option_next_value(fs_options, "lowerdir", NULL);
        if (v) {
                int r = split_lowerdir(v, &l);
                free(v);
                if (r < 0)
                        goto oom;
        }
        l.upper = option_next_value(fs_options, "upperdir", NULL);
        l.work = option_next_value(fs_options, "workdir", NULL);
        *ret = l;
        return 0;
oom:
        overlay_layers_done(&l);
        return -ENOMEM;
}

/* The kernel shows layers as resolved paths; compare against the config's
 * path with its parents' symlinks (e.g. /var/run -> /run) resolved too. */
static bool same_path(const char *shown, const char *configured)
{
        char canon[PATH_MAX];

        if (!shown)
                return false;
        if (streq(shown, configured))
                return true;
        return realpath(configured, canon) && streq(shown, canon);
}

bool overlay_is_instance(const mount_entry *m, const overlay_spec *cfg)
{
        _cleanup_free_ char *upper = NULL;

        if (!streq(m->fstype, "overlay"))
                return false;
        upper = option_next_value(m->fs_options, "upperdir", NULL);
        return same_path(upper, cfg->upper);
}

bool overlay_same_layers(const mount_entry *m, const overlay_spec *cfg)
{
        overlay_layers l;
        bool same;

        if (!streq(m->fstype, "overlay") || overlay_layers_parse(m->fs_options, &l) < 0)
                return false;
        same = l.n_lowers == cfg->n_lowers && same_path(l.upper, cfg->upper) &&
               same_path(l.work, cfg->work);
        for (size_t i = 0; same && i < l.n_lowers; i++)
                same = same_path(l.lowers[i], cfg->lowers[i]);
        overlay_layers_done(&l);
        return same;
}

static int fs_config(int fs_fd, unsigned cmd, const char *key, const char *value, int aux)
{
        return syscall(SYS_fsconfig, fs_fd, cmd, key, value, aux) < 0 ? negative_errno() : 0;
}

/* The fs context keeps the kernel's own explanation ("e overlayfs: ...");
 * it is worth more to an operator than a bare EINVAL. */
static char *read_fs_log(int fs_fd)
{
        char line[512], *out = NULL;
        ssize_t n;

        while ((n = read(fs_fd, line, sizeof line - 1)) > 0) {
                char *prev = out;
                line[n] = '\0';
                if (asprintf(&out, "%s%s%s", prev ? prev : "", prev ? "; " : "",
                             n > 2 && line[1] == ' ' ? line + 2 : line) < 0)
                        out = NULL;
                free(prev);
                if (!out)
                        break;
        }
        return out;
}

static int set_string(int fs_fd, const char *key, const char *value)
{
        if (strlen(value) >= FSCONFIG_STRING_MAX)
                return -ENAMETOOLONG;
        return fs_config(fs_fd, FSCONFIG_SET_STRING, key, value, 0);
}

/* Passes a layer by fd where the kernel allows it (no escaping, no path
 * lookup race), else by path string. */
static int set_layer(int fs_fd, const char *key, const char *path, int dir_fd, bool *by_fd)
{
        int r;

        if (*by_fd) {
                r = fs_config(fs_fd, FSCONFIG_SET_FD, key, NULL, dir_fd);
                if (r != -EINVAL && r != -EOPNOTSUPP && r != -EBADF)
                        return r;
                fallback_note("FSCONFIG_SET_FD", r);
                /* before 6.13: the refusal went to the context's log, where
                 * it would be mistaken for the reason of a later failure */
                free(read_fs_log(fs_fd));
                *by_fd = false;
        }
        return set_string(fs_fd, key, path);
}

/* "source", shown in mountinfo, names the instance. */
static int set_source(int fs_fd, const char *name)
{
        _cleanup_free_ char *source = NULL;

        if (asprintf(&source, OVERLAY_SOURCE_PREFIX "%s", name) < 0)
                return -ENOMEM;
        return fs_config(fs_fd, FSCONFIG_SET_STRING, "source", source, 0);
}

/* OPTIONS ("key" or "key=value", NULL-terminated), each as fsconfig takes it. */
static int set_options(int fs_fd, char *const *options)
{
        int r = 0;

        for (char *const *o = options; r >= 0 && *o; o++) {
                _cleanup_free_ char *key = strdup(*o);
                char *eq;
                if (!key)
                        return -ENOMEM;
                eq = strchr(key, '=');
                if (eq) {
                        *eq = '\0';
                        r = fs_config(fs_fd, FSCONFIG_SET_STRING, key, eq + 1, 0);
                } else
                        r = fs_config(fs_fd, FSCONFIG_SET_FLAG, key, NULL, 0);
        }
        return r;
}

static int configure_fs(int fs_fd, const overlay_spec *cfg, int upper_fd, int work_fd)
{
        bool by_fd = !env_flag(ENV_NO_LAYER_FDS);
        int r;

        r = set_source(fs_fd, cfg->name);
        for (size_t i = 0; r >= 0 && i < cfg->n_lowers; i++) {
                _cleanup_close_ int lower_fd =
                        open(cfg->lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (lower_fd < 0)
                        return negative_errno();
                r = set_layer(fs_fd, "lowerdir+", cfg->lowers[i], lower_fd, &by_fd);
        }
        if (r >= 0)
                r = set_layer(fs_fd, "upperdir", cfg->upper, upper_fd, &by_fd);
        if (r >= 0)
                r = set_layer(fs_fd, "workdir", cfg->work, work_fd, &by_fd);
        if (r >= 0)
                r = set_options(fs_fd, cfg->options);
        return r;
}

static int mount_new_api(const overlay_spec *cfg, int upper_fd, int work_fd, int merged_fd,
                         char **ret_detail)
{
        _cleanup_close_ int fs_fd = -EBADF, mnt_fd = -EBADF;
        int r;

        fs_fd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs_fd < 0)
                return negative_errno();
        r = configure_fs(fs_fd, cfg, upper_fd, work_fd);
        if (r >= 0)
                r = fs_config(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
        if (r < 0) {
                if (r != -ENAMETOOLONG && r != -ENOMEM)
                        *ret_detail = read_fs_log(fs_fd);
                return r;
        }
        mnt_fd = (int)syscall(SYS_fsmount, fs_fd, FSMOUNT_CLOEXEC, (unsigned)cfg->mount_attr);
        if (mnt_fd < 0)
                return negative_errno();
        if (syscall(SYS_move_mount, mnt_fd, "", merged_fd, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

static unsigned long attr_to_ms(uint64_t attr)
{
        unsigned long ms = 0;

        if (attr & MOUNT_ATTR_RDONLY)
                ms |= MS_RDONLY;
        if (attr & MOUNT_ATTR_NOSUID)
                ms |= MS_NOSUID;
        if (attr & MOUNT_ATTR_NODEV)
                ms |= MS_NODEV;
        if (attr & MOUNT_ATTR_NOEXEC)
                ms |= MS_NOEXEC;
        if (attr & MOUNT_ATTR_NODIRATIME)
                ms |= MS_NODIRATIME;
        if (attr & MOUNT_ATTR_NOSYMFOLLOW)
                ms |= MS_NOSYMFOLLOW;
        if ((attr & MOUNT_ATTR__ATIME) == MOUNT_ATTR_NOATIME)
                ms |= MS_NOATIME;
        if ((attr & MOUNT_ATTR__ATIME) == MOUNT_ATTR_STRICTATIME)
                ms |= MS_STRICTATIME;
        return ms;
}

/* mount(2) takes one option string: a ',' ':' or '\' in a path would be
 * split differently by different kernels, so such paths are refused. */
static bool legacy_safe(const char *path)
{
        return !strpbrk(path, ",:\\\n");
}

static int mount_legacy(const overlay_spec *cfg, int merged_fd, char **ret_detail)
{
        _cleanup_free_ char *data = NULL, *source = NULL;
        char target[64];
        FILE *f;
        size_t len = 0;

        static const char refusal[] =
                "this kernel has no lowerdir+ (6.7+), and mount(2) cannot be given "
                "a path containing ',', ':', '\\' or a newline without ambiguity";

        if (!legacy_safe(cfg->upper) || !legacy_safe(cfg->work)) {
                *ret_detail = strdup(refusal);
                return -EINVAL;
        }
        f = open_memstream(&data, &len);
        if (!f)
                return -ENOMEM;
        fputs("lowerdir=", f);
        for (size_t i = 0; i < cfg->n_lowers; i++) {
                if (!legacy_safe(cfg->lowers[i])) {
                        fclose(f);
                        *ret_detail = strdup(refusal);
                        return -EINVAL;
                }
                fprintf(f, "%s%s", i ? ":" : "", cfg->lowers[i]);
        }
        fprintf(f, ",upperdir=%s,workdir=%s", cfg->upper, cfg->work);
        for (char *const *o = cfg->options; *o; o++)
                fprintf(f, ",%s", *o);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (len >= 4096) /* one page of mount data */
                return -ENAMETOOLONG;
        if (asprintf(&source, OVERLAY_SOURCE_PREFIX "%s", cfg->name) < 0)
                return -ENOMEM;
        /* The magic link pins the dir we opened without following symlinks. */
        snprintf(target, sizeof target, "/proc/self/fd/%d", merged_fd);
        if (mount(source, target, "overlay", attr_to_ms(cfg->mount_attr), data) < 0)
                return negative_errno();
        return 0;
}

/* What this kernel's new mount API takes for overlayfs. */
enum {
        FS_API_NONE,          /* no fsopen("overlay") for us: mount(2) only */
        FS_API_ADAPTER,       /* the VFS's legacy adapter (before 6.5) */
        FS_API_LOWERDIR,      /* overlayfs's own parser, but no lowerdir+ (6.5, 6.6) */
        FS_API_LOWERDIR_PLUS, /* 6.7+ */
};

/* fsopen("overlay") exists since 5.2, but "lowerdir+" only since 6.7, and
 * before 6.5 overlayfs sat behind the VFS's legacy adapter, which accepts any
 * key and fails only at CMD_CREATE; so ask the kernel once, explicitly.
 * Returns: FS_API_*, or -errno. */
static int fs_api(void)
{
        static int cached = -1;
        _cleanup_close_ int fs_fd = -EBADF;
        int r;

        if (cached >= 0)
                return cached;
        fs_fd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs_fd < 0) {
                /* EPERM: a seccomp filter, or no CAP_SYS_ADMIN, which
                 * mount(2) then reports as well */
                if (errno != ENOSYS && errno != ENODEV && errno != EPERM && errno != EOPNOTSUPP)
                        return negative_errno();
                fallback_note("fsopen", errno);
                return cached = FS_API_NONE;
        }
        if (fs_config(fs_fd, FSCONFIG_SET_FLAG, "overlay-helper-probe", NULL, 0) == 0) {
                fallback_note("fsconfig (the VFS's legacy adapter)", EOPNOTSUPP);
                return cached = FS_API_ADAPTER; /* the legacy adapter takes anything */
        }
        r = fs_config(fs_fd, FSCONFIG_SET_STRING, "lowerdir+", "/", 0);
        if (r < 0) {
                fallback_note("fsconfig lowerdir+", r);
                return cached = FS_API_LOWERDIR;
        }
        return cached = FS_API_LOWERDIR_PLUS;
}

/* Returns: 1 the new API with lowerdir+, 0 not, -errno. */
static int have_lowerdir_plus(void)
{
        static int cached = -1;
        int r;

        if (cached >= 0)
                return cached;
        r = fs_api();
        if (r < 0)
                return r;
        if (r != FS_API_LOWERDIR_PLUS)
                return cached = 0;
        /* A filter may let fsopen() through and refuse the later calls
         * (EPERM, ENOSYS); a kernel that lets us make them answers a bad fd
         * with EBADF. Found out only at mount time, they would leave a
         * superblock made for nothing and the mount failed. */
        if (syscall(SYS_fsmount, -EBADF, FSMOUNT_CLOEXEC, 0) < 0 &&
            (errno == EPERM || errno == ENOSYS)) {
                fallback_note("fsmount", errno);
                return cached = 0;
        }
        if (syscall(SYS_move_mount, -EBADF, "", -EBADF, "",
                    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 &&
            (errno == EPERM || errno == ENOSYS)) {
                fallback_note("move_mount", errno);
                return cached = 0;
        }
        return cached = 1;
}

int overlay_mount(const overlay_spec *cfg, int upper_fd, int work_fd, int merged_fd,
                  char **ret_detail)
{
        *ret_detail = NULL;
        if (env_flag(ENV_NO_NEW_MOUNT_API)) {
                fallback_note("fsopen", 0);
                return mount_legacy(cfg, merged_fd, ret_detail);
        }
        int r = have_lowerdir_plus();
        if (r < 0)
                return r;
        if (r > 0)
                return mount_new_api(cfg, upper_fd, work_fd, merged_fd, ret_detail);
        return mount_legacy(cfg, merged_fd, ret_detail);
}

int overlay_umount(const char *merged)
{
        return umount2(merged, UMOUNT_NOFOLLOW) < 0 ? negative_errno() : 0;
}

/* The check's superblock takes Work as its only lower: overlayfs then
 * refuses it as a conflicting layer (ELOOP), but only after it has tried
 * to mark Upper and Work in use (EBUSY while a live superblock holds them)
 * and before it writes anything to Upper: ovl_fill_super() runs
 * ovl_get_upper() and ovl_get_workdir() (the marks; then Work/work is made)
 * before ovl_get_lowerstack(), whose trap on Work fails ("conflicting
 * lowerdir path"), and the index and uuid xattrs come later still. The
 * same order on 6.1 (behind the VFS's legacy adapter), 6.12 and 6.18,
 * checked under each. All it may leave is Work/work, which it made. */
static const char *const check_options[] = { "index=on", NULL };

/* Before lowerdir+ (6.1 to 6.6) the check names Work in a "lowerdir="
 * string, which overlayfs splits on ':' and unescapes ("\:" is ':') on
 * every kernel. What it does with a backslash in an upperdir= or workdir=
 * string differs between kernels (unescaped before 6.13, taken as is
 * since), and the VFS's legacy adapter (before 6.5) refuses any ',' in a
 * value: a path like that is not asked about, rather than the wrong dir.
 * Returns: 0, -EOPNOTSUPP for a path this kernel cannot be given, -errno. */
static int configure_check_lowerdir(int fs_fd, const overlay_spec *check, bool adapter)
{
        _cleanup_free_ char *lower = malloc(2 * strlen(check->work) + 1);
        char *d = lower;
        int r;

        if (!lower)
                return -ENOMEM;
        if (strchr(check->upper, '\\') || strchr(check->work, '\\') ||
            (adapter && (strchr(check->upper, ',') || strchr(check->work, ',')))) {
                fallback_note(adapter ? "index=on in-use check (a ',' or '\\' in Upper or Work, "
                                        "and the VFS's legacy adapter)"
                                      : "index=on in-use check (a '\\' in Upper or Work, and "
                                        "no lowerdir+)",
                              EINVAL);
                return -EOPNOTSUPP;
        }
        for (const char *s = check->work; *s; s++) {
                if (*s == ':')
                        *d++ = '\\';
                *d++ = *s;
        }
        *d = '\0';
        r = set_source(fs_fd, check->name);
        if (r >= 0)
                r = set_string(fs_fd, "lowerdir", lower);
        if (r >= 0)
                r = set_string(fs_fd, "upperdir", check->upper);
        if (r >= 0)
                r = set_string(fs_fd, "workdir", check->work);
        if (r >= 0)
                r = set_options(fs_fd, check->options);
        return r;
}

/* The kernel resolved PATH itself: its answer is about the dir we hold
 * open (FD) only if PATH still names it. A dir swapped in meanwhile, or a
 * symlink loop (ELOOP before any in-use mark), would make a "not marked"
 * about some other dir. */
static bool path_names_fd(const char *path, int fd)
{
        struct stat a, b;

        return stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

int overlay_in_use(const overlay_spec *spec, int upper_fd, int work_fd)
{
        _cleanup_close_ int fs_fd = -EBADF;
        char *const lowers[] = { (char *)spec->work, NULL };
        overlay_spec check = {
                .name = spec->name, .lowers = lowers, .n_lowers = 1,
                .upper = spec->upper, .work = spec->work, .options = (char *const *)check_options,
        };
        bool had_work = faccessat(work_fd, "work", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        int api, r;

        if (env_flag(ENV_NO_NEW_MOUNT_API))
                return -EOPNOTSUPP;
        api = fs_api();
        if (api < 0)
                return api;
        if (api == FS_API_NONE)
                return -EOPNOTSUPP;
        fs_fd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs_fd < 0) {
                r = negative_errno();
                fallback_note("index=on in-use check (fsopen)", r);
                return r == -ENOSYS || r == -EPERM || r == -ENODEV ? -EOPNOTSUPP : r;
        }
        r = api == FS_API_LOWERDIR_PLUS
                    ? configure_fs(fs_fd, &check, upper_fd, work_fd)
                    : configure_check_lowerdir(fs_fd, &check, api == FS_API_ADAPTER);
        if (r >= 0)
                r = fs_config(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
        /* A superblock that was made anyway dies with its context. */
        close(TAKE_FD(fs_fd));
        if (r != -EBUSY && !had_work)
                (void)safe_remove_entry(work_fd, "work", NULL);
        if (r == -EBUSY)
                return 1;
        if (r == -ELOOP) {
                if (path_names_fd(spec->upper, upper_fd) && path_names_fd(spec->work, work_fd))
                        return 0;
                r = -ESTALE;
        }
        if (r == -EOPNOTSUPP)
                return r;
        fallback_note("index=on in-use check", r < 0 ? r : -EPROTO);
        return r < 0 ? r : -EPROTO;
}
