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
#include "strv.h"
#include "util.h"

/* fsconfig() string values are capped by the kernel at 256 bytes. */
#define FSCONFIG_STRING_MAX 256

void overlay_layers_done(overlay_layers *l)
{
        strv_free(l->lowers);
        free(l->upper);
        free(l->work);
        *l = (overlay_layers){ 0 };
}

/* The legacy form separates lowers with ':' and escapes a literal one as
 * "\:" (unescaped in place); the octal escapes were already undone. */
static int split_lowerdir(char *value, overlay_layers *l)
{
        char *d = value, *start = value;

        for (char *p = value;; p++) {
                if (*p == '\\' && p[1]) {
                        *d++ = *++p;
                } else if (*p == ':' || !*p) {
                        if (strv_add_len(&l->lowers, start, (size_t)(d - start)) < 0)
                                return -ENOMEM;
                        l->n_lowers++;
                        if (!*p)
                                return 0;
                        start = d;
                } else
                        *d++ = *p;
        }
}

/* option_next_value(), but a ',' after a '\' is the value's, as overlayfs
 * splits them (ovl_next_opt()): libmount undoes the octal escapes, not ours. */
char *overlay_layer_value(const char *options, const char *key, const char **ret_next)
{
        size_t klen = strlen(key);

        for (const char *p = options, *end; p && *p; p = *end ? end + 1 : NULL) {
                for (end = p; *end && *end != ',';)
                        end += *end == '\\' && end[1] ? 2 : 1;
                if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
                        char *v = strndup(p + klen + 1, (size_t)(end - p) - klen - 1);
                        if (v)
                                unescape_octal(v);
                        if (ret_next)
                                *ret_next = end + (*end != '\0');
                        return v;
                }
        }
        if (ret_next)
                *ret_next = NULL;
        return NULL;
}

int overlay_layers_parse(const char *fs_options, overlay_layers *ret)
{
        overlay_layers l = { 0 };
        const char *next = fs_options;
        int r = 0;
        char *v;

        while (r >= 0 && next && (v = overlay_layer_value(next, "lowerdir+", &next))) {
                r = strv_add(&l.lowers, v);
                l.n_lowers += r >= 0;
                free(v);
        }
        v = r >= 0 ? overlay_layer_value(fs_options, "lowerdir", NULL) : NULL;
        if (v) {
                r = split_lowerdir(v, &l);
                free(v);
        }
        l.upper = overlay_layer_value(fs_options, "upperdir", NULL);
        l.work = overlay_layer_value(fs_options, "workdir", NULL);
        if (r < 0)
                overlay_layers_done(&l);
        else
                *ret = l;
        return r;
}

/* overlayfs drops a '\' and keeps the next char in upperdir=, workdir= and
 * each lowerdir= entry, on every kernel (ovl_unescape()); lowerdir+ and fds
 * are taken as they are. Returns: PATH, '\' before each char in SPECIAL. */
static char *escape_path(const char *path, const char *special)
{
        char *out = malloc(2 * strlen(path) + 1), *d = out;

        if (!out)
                return NULL;
        for (const char *s = path; *s; s++) {
                if (strchr(special, *s))
                        *d++ = '\\';
                *d++ = *s;
        }
        *d = '\0';
        return out;
}

void overlay_unescape_path(char *s)
{
        char *d = s;

        for (; *s; s++) {
                if (*s == '\\' && s[1])
                        s++;
                *d++ = *s;
        }
        *d = '\0';
}

/* The kernel shows layers as given: compare with the config's path, also with
 * its parents' symlinks (e.g. /var/run -> /run) resolved. An Upper or Work
 * string shows escaped (escape_path()), one given by fd (6.13+) raw, and
 * which it was is not shown: a match only unescaped differs only in '\'s. */
static bool same_path(const char *shown, const char *configured)
{
        _cleanup_free_ char *unescaped = shown ? strdup(shown) : NULL;
        char canon[PATH_MAX];

        if (!unescaped)
                return false;
        overlay_unescape_path(unescaped);
        if (streq(shown, configured) || streq(unescaped, configured))
                return true;
        return realpath(configured, canon) && (streq(shown, canon) || streq(unescaped, canon));
}

bool overlay_is_instance(const mount_entry *m, const overlay_spec *cfg)
{
        _cleanup_free_ char *upper = NULL;

        if (!streq(m->fstype, "overlay"))
                return false;
        upper = overlay_layer_value(m->fs_options, "upperdir", NULL);
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
        /* lowerdir= (one layer here) is also split on ':' */
        _cleanup_free_ char *escaped = escape_path(path, streq(key, "lowerdir+") ? ""
                                                         : streq(key, "lowerdir") ? "\\:"
                                                                                  : "\\");
        return escaped ? set_string(fs_fd, key, escaped) : -ENOMEM;
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

/* LOWER_KEY: "lowerdir+", or "lowerdir" (strings only) before lowerdir+.
 * *RET_BY_FD: the layers went in by fd (else the kernel looked them up). */
static int configure_fs(int fs_fd, const overlay_spec *cfg, int upper_fd, int work_fd,
                        const char *lower_key, bool *ret_by_fd)
{
        bool by_fd = !env_flag(ENV_NO_LAYER_FDS) && streq(lower_key, "lowerdir+");
        int r;

        r = set_source(fs_fd, cfg->name);
        for (size_t i = 0; r >= 0 && i < cfg->n_lowers; i++) {
                _cleanup_close_ int lower_fd =
                        open(cfg->lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (lower_fd < 0)
                        return negative_errno();
                r = set_layer(fs_fd, lower_key, cfg->lowers[i], lower_fd, &by_fd);
        }
        if (r >= 0)
                r = set_layer(fs_fd, "upperdir", cfg->upper, upper_fd, &by_fd);
        if (r >= 0)
                r = set_layer(fs_fd, "workdir", cfg->work, work_fd, &by_fd);
        if (r >= 0)
                r = set_options(fs_fd, cfg->options);
        *ret_by_fd = by_fd;
        return r;
}

static bool took_other_dirs(const overlay_spec *spec, int upper_fd, int work_fd);
static const char swapped[] = "the kernel looked the layer paths up itself (no layer fds "
                              "here) and did not get the Upper and Work dirs that were "
                              "checked: a symlink or another dir was put in place meanwhile";

static int mount_new_api(const overlay_spec *cfg, int upper_fd, int work_fd, int merged_fd,
                         char **ret_detail)
{
        _cleanup_close_ int fs_fd = -EBADF, mnt_fd = -EBADF;
        bool by_fd;
        int r;

        fs_fd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs_fd < 0)
                return negative_errno();
        r = configure_fs(fs_fd, cfg, upper_fd, work_fd, "lowerdir+", &by_fd);
        if (r >= 0)
                r = fs_config(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
        if (r < 0) {
                if (r != -ENAMETOOLONG && r != -ENOMEM)
                        *ret_detail = read_fs_log(fs_fd);
                return r;
        }
        /* it took other dirs than ours: it dies with fs_fd, never seen */
        if (!by_fd && took_other_dirs(cfg, upper_fd, work_fd)) {
                *ret_detail = strdup(swapped);
                return -ESTALE;
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
        static const struct { uint64_t attr; unsigned long ms; } flag[] = {
                { MOUNT_ATTR_RDONLY, MS_RDONLY }, { MOUNT_ATTR_NOSUID, MS_NOSUID },
                { MOUNT_ATTR_NODEV, MS_NODEV }, { MOUNT_ATTR_NOEXEC, MS_NOEXEC },
                { MOUNT_ATTR_NODIRATIME, MS_NODIRATIME }, { MOUNT_ATTR_NOSYMFOLLOW, MS_NOSYMFOLLOW },
        };
        unsigned long ms = 0;

        for (size_t i = 0; i < ELEMENTSOF(flag); i++)
                ms |= attr & flag[i].attr ? flag[i].ms : 0;
        if ((attr & MOUNT_ATTR__ATIME) == MOUNT_ATTR_NOATIME)
                ms |= MS_NOATIME;
        if ((attr & MOUNT_ATTR__ATIME) == MOUNT_ATTR_STRICTATIME)
                ms |= MS_STRICTATIME;
        return ms;
}

/* mount(2)'s one option string: overlayfs splits it on ',' and lowerdir= on
 * ':', unless escaped by a '\', and unescapes the paths (6.1: ovl_parse_opt(),
 * ovl_split_lowerdirs(); 6.5+: ovl_next_opt(), ovl_parse_param_split_lowerdirs()).
 * Returns: 0, -ENOMEM, -ENAMETOOLONG beyond the one page mount(2) takes. */
static int legacy_data(const overlay_spec *cfg, char **ret)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&data, &len);
        bool ok = true;

        if (!f)
                return -ENOMEM;
        fputs("lowerdir=", f);
        for (size_t i = 0; ok && i < cfg->n_lowers; i++) {
                _cleanup_free_ char *lower = escape_path(cfg->lowers[i], "\\,:");
                ok = lower && fprintf(f, "%s%s", i ? ":" : "", lower) >= 0;
        }
        const char *key[2] = { "upperdir", "workdir" }, *path[2] = { cfg->upper, cfg->work };
        for (size_t i = 0; ok && i < 2; i++) {
                _cleanup_free_ char *escaped = escape_path(path[i], "\\,");
                ok = escaped && fprintf(f, ",%s=%s", key[i], escaped) >= 0;
        }
        for (char *const *o = cfg->options; ok && *o; o++)
                ok = fprintf(f, ",%s", *o) >= 0;
        if (fclose(f) != 0 || !ok)
                return -ENOMEM;
        if (len >= 4096)
                return -ENAMETOOLONG;
        *ret = TAKE_PTR(data);
        return 0;
}

static int mount_legacy(const overlay_spec *cfg, int upper_fd, int work_fd, int merged_fd,
                        char **ret_detail)
{
        _cleanup_free_ char *data = NULL, *source = NULL;
        char target[64], path[PATH_MAX] = "";
        int r = legacy_data(cfg, &data);

        if (r < 0)
                return r;
        if (asprintf(&source, OVERLAY_SOURCE_PREFIX "%s", cfg->name) < 0)
                return -ENOMEM;
        /* The magic link pins the dir we opened without following symlinks. */
        snprintf(target, sizeof target, "/proc/self/fd/%d", merged_fd);
        if (mount(source, target, "overlay", attr_to_ms(cfg->mount_attr), data) < 0)
                return negative_errno();
        /* it looked Upper and Work up by path (unasked without fsopen()); undone
         * by Merged's path as the kernel names it now, not the configured one */
        if (took_other_dirs(cfg, upper_fd, work_fd)) {
                bool undone = readlink(target, path, sizeof path - 1) > 0 &&
                              umount2(path, UMOUNT_NOFOLLOW) == 0;
                r = undone ? 0 : negative_errno();
                if (asprintf(ret_detail, "%s%s%s", swapped, r ? "; unmounting it failed: " : "",
                             r ? strerror(-r) : "") < 0)
                        *ret_detail = NULL;
                return r ? -ENOTRECOVERABLE : -ESTALE;
        }
        return 0;
}

/* What this kernel's new mount API takes for overlayfs. */
enum {
        FS_API_NONE,          /* no fsopen("overlay") for us: mount(2) only */
        FS_API_ADAPTER,       /* the VFS's legacy adapter (before 6.5) */
        FS_API_LOWERDIR,      /* overlayfs's own parser, but no lowerdir+ (6.5, 6.6) */
        FS_API_LOWERDIR_PLUS, /* 6.7+ */
};

/* fsopen("overlay") exists since 5.2, "lowerdir+" since 6.7, and before 6.5
 * overlayfs sat behind the VFS's legacy adapter, which takes any key and fails
 * only at CMD_CREATE; so ask the kernel once. Returns: FS_API_*, or -errno. */
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
        /* A filter may let fsopen() through and refuse the later calls (EPERM,
         * ENOSYS; a kernel that lets us make them answers a bad fd with EBADF):
         * found at mount time, a superblock made for nothing, a failed mount. */
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
        int r = 0;

        *ret_detail = NULL;
        if (env_flag(ENV_NO_NEW_MOUNT_API))
                fallback_note("fsopen", 0);
        else if ((r = have_lowerdir_plus()) < 0)
                return r;
        return r > 0 ? mount_new_api(cfg, upper_fd, work_fd, merged_fd, ret_detail)
                     : mount_legacy(cfg, upper_fd, work_fd, merged_fd, ret_detail);
}

int overlay_umount(const char *merged)
{
        return umount2(merged, UMOUNT_NOFOLLOW) < 0 ? negative_errno() : 0;
}

/* The check's superblock takes Work as its only lower: overlayfs refuses it
 * as a conflicting layer (ELOOP), but only after it tried to mark Upper and
 * Work in use (EBUSY while a live superblock holds them) and before it writes
 * to Upper: ovl_fill_super() runs ovl_get_upper() and ovl_get_workdir() (the
 * marks; then Work/work is made) before ovl_get_lowerstack()'s trap on Work
 * ("conflicting lowerdir path"); the index and uuid xattrs come later. So on
 * 6.1 (the legacy adapter), 6.12 and 6.18, checked. It may leave Work/work. */
static const char *const check_options[] = { "index=on", NULL };

/* The kernel resolved PATH itself: its answer is about the dir we hold open
 * (FD) only if PATH still names it; a dir swapped in meanwhile, or a symlink
 * loop (ELOOP before any mark), would make "not marked" about another. */
static bool path_names_fd(const char *path, int fd)
{
        struct stat a, b;

        return stat(path, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

/* Makes the check's superblock on SPEC's Upper and Work (Work also as its
 * lower) and lets it die; with TIDY, removes the Work/work it made.
 * Returns: -EBUSY marked, -ELOOP not, -EOPNOTSUPP not askable, -errno. */
static int try_check_superblock(const overlay_spec *spec, int upper_fd, int work_fd, bool tidy)
{
        _cleanup_close_ int fs_fd = -EBADF;
        char *const lowers[] = { (char *)spec->work, NULL };
        overlay_spec check = {
                .name = spec->name, .lowers = lowers, .n_lowers = 1,
                .upper = spec->upper, .work = spec->work, .options = (char *const *)check_options,
        };
        bool had_work = faccessat(work_fd, "work", F_OK, AT_SYMLINK_NOFOLLOW) == 0, by_fd;
        int api, r;

        if (env_flag(ENV_NO_NEW_MOUNT_API))
                return -EOPNOTSUPP;
        api = fs_api();
        if (api < 0)
                return api;
        if (api == FS_API_NONE)
                return -EOPNOTSUPP;
        /* before lowerdir+ (6.1 to 6.6) Work goes in a "lowerdir=" string;
         * the VFS's legacy adapter (before 6.5) refuses a ',' in any value,
         * escaped or not: such a path is not asked about, not the wrong dir */
        if (api == FS_API_ADAPTER && (strchr(check.upper, ',') || strchr(check.work, ','))) {
                fallback_note("index=on in-use check (a ',' in Upper or Work, and the VFS's "
                              "legacy adapter)", EINVAL);
                return -EOPNOTSUPP;
        }
        fs_fd = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs_fd < 0) {
                r = negative_errno();
                fallback_note("index=on in-use check (fsopen)", r);
                return r == -ENOSYS || r == -EPERM || r == -ENODEV ? -EOPNOTSUPP : r;
        }
        r = configure_fs(fs_fd, &check, upper_fd, work_fd,
                         api == FS_API_LOWERDIR_PLUS ? "lowerdir+" : "lowerdir", &by_fd);
        if (r == -EINVAL) /* not the superblock's answer: EINVAL is one */
                r = -EPROTO;
        if (r >= 0)
                r = fs_config(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
        /* A superblock that was made anyway dies with its context. */
        close(TAKE_FD(fs_fd));
        if (tidy && r != -EBUSY && !had_work)
                (void)safe_remove_entry(work_fd, "work", NULL);
        return r < 0 ? r : -EPROTO;
}

static int check_answer(int r)
{
        if (r == -EBUSY || r == -ELOOP)
                return r == -EBUSY;
        if (r != -EOPNOTSUPP)
                fallback_note("index=on in-use check", r);
        return r;
}

int overlay_in_use(const overlay_spec *spec, int upper_fd, int work_fd)
{
        int r = try_check_superblock(spec, upper_fd, work_fd, true);

        if (r == -ELOOP && !(path_names_fd(spec->upper, upper_fd) &&
                             path_names_fd(spec->work, work_fd)))
                r = -ESTALE;
        return check_answer(r);
}

/* Whether the dir we hold as FD is marked in use, whatever its path names:
 * the kernel gets its magic link (never attached: no mount table shows it).
 * As Upper and Work: overlayfs tries the mark on Upper (EBUSY while held),
 * then refuses Work as the same dir (EINVAL, "workdir and upperdir must be
 * separate subtrees") before it makes anything, on 6.1 and 6.12 alike; one
 * mark serves both roles. Returns: 1 marked, 0 not, -errno unknown. */
static int held_in_use(const overlay_spec *spec, int fd)
{
        char path[64];
        overlay_spec held = *spec;
        int r;

        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        held.upper = held.work = path;
        r = try_check_superblock(&held, fd, fd, false);
        if (r == -EINVAL)
                return 0;
        return r == -ELOOP ? -EPROTO : check_answer(r);
}

/* Our new superblock marked the dirs it took: one held but unmarked is not */
static bool took_other_dirs(const overlay_spec *spec, int upper_fd, int work_fd)
{
        return spec->verify_layers &&
               (held_in_use(spec, upper_fd) == 0 || held_in_use(spec, work_fd) == 0);
}
