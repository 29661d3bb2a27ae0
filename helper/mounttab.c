/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mounttab.c: see mounttab.h. */
#include <fcntl.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "dlib.h"
#include "kapi.h"
#include "mounttab.h"
#include "env.h"
#include "fallback.h"
#include "util.h"

void mount_entry_free(mount_entry *m)
{
        free(m->fstype);
        free(m->source);
        free(m->target);
        free(m->fs_options);
        free(m);
}

/* 0 not yet probed, 1 works, -1 not to be used for the rest of the run */
static int statmount_state, listmount_state;

/* What a call on our own namespace fails with when the kernel will not give
 * us the call at all: it has none (ENOSYS), it does not know the request
 * (EINVAL, E2BIG, EOPNOTSUPP), or a seccomp filter refuses it (EPERM:
 * systemd 252's SystemCallFilter= and the container runtimes answer the
 * syscalls newer than their tables so). */
static bool kernel_refuses(int e)
{
        return e == ENOSYS || e == EPERM || e == EINVAL || e == E2BIG || e == EOPNOTSUPP;
}

/* Under a seccomp filter a call the filter has no name for may kill us
 * rather than fail: systemd 252's SystemCallFilter= without
 * SystemCallErrorNumber= sends SIGSYS for statmount() and listmount(). So a
 * child, which inherits the filter, asks first (not allowed to dump core);
 * only then do we. Without a filter (PR_GET_SECCOMP 0) nothing can kill us
 * for asking, and no child is needed.
 * Returns: true if the child died of it, or we could not tell. */
static bool filter_kills_new_calls(void)
{
        int status;
        pid_t child;

        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 0)
                return false;
        child = fork();
        if (child < 0)
                return true;
        if (child == 0) {
                struct oh_statmount sm;
                __u64 id;

                /* A filter looks at the call, not at its arguments. */
                (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
                (void)oh_statmount(0, 0, OH_STATMOUNT_MNT_BASIC, &sm, sizeof(sm));
                (void)oh_listmount(OH_LSMT_ROOT, 0, 0, &id, 1);
                _exit(0);
        }
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return true;
        return !WIFEXITED(status);
}

/* statmount() of the mount our own root is on: any caller may ask for that
 * one (it is reachable from our root), so a refusal here is the kernel's or
 * a filter's, never a foreign namespace's (EPERM there only means we lack
 * privilege over it). A failure of any kind means the mountinfo path, which
 * is always right, only slower. */
static int probe_statmount(void)
{
        struct oh_statmount sm;
        struct statx stx;

        if (env_flag(ENV_NO_STATMOUNT)) {
                fallback_note("statmount", 0);
                return -1;
        }
        if (filter_kills_new_calls()) {
                fallback_note("statmount (a seccomp filter kills its callers)", EPERM);
                return -1;
        }
        if (statx(AT_FDCWD, "/", AT_NO_AUTOMOUNT, STATX_MNT_ID_UNIQUE, &stx) < 0) {
                fallback_note("statx", errno);
                return -1;
        }
        if (!(stx.stx_mask & STATX_MNT_ID_UNIQUE)) {
                fallback_note("STATX_MNT_ID_UNIQUE", EOPNOTSUPP); /* before 6.8 */
                return -1;
        }
        if (oh_statmount(stx.stx_mnt_id, 0, OH_STATMOUNT_MNT_BASIC, &sm, sizeof(sm)) < 0) {
                fallback_note("statmount", errno);
                return -1;
        }
        return 1;
}

/* listmount() of our own namespace, from our own root: as above. */
static int probe_listmount(void)
{
        __u64 id;

        if (!mounttab_have_statmount())
                return -1;
        if (oh_listmount(OH_LSMT_ROOT, 0, 0, &id, 1) < 0) {
                fallback_note("listmount", errno);
                return -1;
        }
        return 1;
}

bool mounttab_have_statmount(void)
{
        if (statmount_state == 0)
                statmount_state = probe_statmount();
        return statmount_state > 0;
}

bool mounttab_have_listmount(void)
{
        if (listmount_state == 0)
                listmount_state = probe_listmount();
        return listmount_state > 0;
}

void unescape_octal(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = '\0';
}

bool mountinfo_parse_line(char *line, mountinfo_line *ret)
{
        char *f[6], *p = line, *t;
        unsigned maj, min;

        line[strcspn(line, "\n")] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (!(f[i] = strsep(&p, " ")) || !p)
                        return false;
        ret->peer_group = ret->master = 0;
        for (;;) {
                if (!(t = strsep(&p, " ")))
                        return false;
                if (streq(t, "-"))
                        break;
                if (strncmp(t, "shared:", 7) == 0)
                        ret->peer_group = strtoull(t + 7, NULL, 10);
                else if (strncmp(t, "master:", 7) == 0)
                        ret->master = strtoull(t + 7, NULL, 10);
        }
        ret->fstype = strsep(&p, " ");
        ret->source = strsep(&p, " ");
        ret->fs_options = p;
        if (!ret->fstype || !ret->source || !p || sscanf(f[2], "%u:%u", &maj, &min) != 2)
                return false;
        ret->mnt_id = strtoull(f[0], NULL, 10);
        ret->parent_id = strtoull(f[1], NULL, 10);
        ret->devnum = makedev(maj, min);
        ret->root = f[3];
        ret->mountpoint = f[4];
        unescape_octal(ret->root);
        unescape_octal(ret->mountpoint);
        unescape_octal(ret->fstype);
        unescape_octal(ret->source);
        return true;
}

char *option_next_value(const char *options, const char *key, const char **ret_next)
{
        size_t klen = strlen(key);
        const char *p = options;

        while (p && *p) {
                const char *end = strchr(p, ',');
                size_t len = end ? (size_t)(end - p) : strlen(p);

                if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
                        char *v = strndup(p + klen + 1, len - klen - 1);
                        if (v)
                                unescape_octal(v);
                        if (ret_next)
                                *ret_next = end ? end + 1 : p + len;
                        return v;
                }
                p = end ? end + 1 : NULL;
        }
        if (ret_next)
                *ret_next = NULL;
        return NULL;
}

static char *dup_str(const struct oh_statmount *sm, uint64_t bit, __u32 off)
{
        return (sm->mask & bit) ? strdup(sm->str + off) : strdup("");
}

/* The source (or, with OPTIONS, the super options, escaped) of the line of
 * mountinfo with the old mount id OLD_ID: the source for statmount() before
 * 6.13, which names none, and the options for the libmount path (libmount
 * hands them back unescaped, and a ',' in a layer path would then split an
 * option). With MOUNTPOINT, the line must also have that mount point: an id
 * freed and taken again between two reads names another mount.
 * Returns: the field; "" if no such line; NULL for no memory. */
static char *mountinfo_field(uint32_t old_id, const char *mountpoint, bool options)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        mountinfo_line l;
        size_t size = 0;
        char *end;

        while (f && getline(&line, &size, f) > 0) {
                /* the id first: one line is wanted, the others are not parsed */
                if (strtoul(line, &end, 10) != old_id || *end != ' ' || !mountinfo_parse_line(line, &l))
                        continue;
                if (mountpoint && !streq(l.mountpoint, mountpoint))
                        break;
                return strdup(options ? l.fs_options : l.source);
        }
        return strdup("");
}

/* Returns 1 on success, 0 when statmount cannot answer (the mountinfo path
 * must), -errno. */
static int mount_at_statmount(const char *path, mount_entry **ret)
{
        const uint64_t mask = OH_STATMOUNT_SB_BASIC | OH_STATMOUNT_MNT_BASIC |
                              OH_STATMOUNT_FS_TYPE | OH_STATMOUNT_MNT_POINT |
                              OH_STATMOUNT_MNT_OPTS | OH_STATMOUNT_SB_SOURCE;
        _cleanup_free_ struct oh_statmount *sm = NULL;
        struct statx stx;
        size_t size = 4096;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                  STATX_MNT_ID_UNIQUE, &stx) < 0)
                return negative_errno();
        if (!(stx.stx_mask & STATX_MNT_ID_UNIQUE) ||
            !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return 0;
        if (!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return -ENOENT;

        for (;;) {
                sm = malloc(size);
                if (!sm)
                        return -ENOMEM;
                if (oh_statmount(stx.stx_mnt_id, 0, mask, sm, size) == 0)
                        break;
                /* The probe of our own root passed, so an EPERM concerns
                 * this one mount; mountinfo still shows it to us. */
                if (errno == EPERM)
                        return 0;
                if (kernel_refuses(errno)) {
                        fallback_note("statmount", errno);
                        statmount_state = -1;
                        return 0;
                }
                if (errno != EOVERFLOW || size >= (1u << 24))
                        return negative_errno();
                free(TAKE_PTR(sm));
                size *= 4;
        }
        /* Kernels before 6.11 ignore MNT_OPTS; an overlay's layers are then
         * unknown to us and the mountinfo path must answer. */
        if (!(sm->mask & OH_STATMOUNT_MNT_OPTS)) {
                fallback_note("STATMOUNT_MNT_OPTS", EOPNOTSUPP);
                statmount_state = -1;
                return 0;
        }

        mount_entry *m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->mnt_id = sm->mnt_id;
        m->mountinfo_id = sm->mnt_id_old;
        m->unique_id = sm->mnt_id;
        m->devnum = makedev(sm->sb_dev_major, sm->sb_dev_minor);
        m->fstype = dup_str(sm, OH_STATMOUNT_FS_TYPE, sm->fs_type);
        m->source = (sm->mask & OH_STATMOUNT_SB_SOURCE) ? dup_str(sm, OH_STATMOUNT_SB_SOURCE, sm->sb_source)
                                                        : mountinfo_field(sm->mnt_id_old, NULL, false);
        m->target = dup_str(sm, OH_STATMOUNT_MNT_POINT, sm->mnt_point);
        m->fs_options = dup_str(sm, OH_STATMOUNT_MNT_OPTS, sm->mnt_opts);
        if (!m->fstype || !m->source || !m->target || !m->fs_options) {
                mount_entry_free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 1;
}

/* PATH with its parent resolved and its last component kept as it is, for
 * kernels whose statx() names no mount (before 5.8). */
static int resolve_parent(const char *path, char canon[PATH_MAX])
{
        _cleanup_free_ char *dir = strdup(path);
        const char *parent;
        char *slash, *name;

        if (!dir)
                return -ENOMEM;
        while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
                dir[strlen(dir) - 1] = '\0';
        slash = strrchr(dir, '/');
        name = slash ? slash + 1 : dir;
        if (!*name || streq(name, ".") || streq(name, ".."))
                return realpath(path, canon) ? 0 : negative_errno();
        parent = !slash ? "." : slash == dir ? "/" : dir;
        if (slash)
                *slash = '\0';
        if (!realpath(parent, canon))
                return negative_errno();
        if (strlen(canon) + 1 + strlen(name) >= PATH_MAX)
                return -ENAMETOOLONG;
        if (!streq(canon, "/"))
                strcat(canon, "/");
        strcat(canon, name);
        return 0;
}

/* One try of mountinfo_find(): -EAGAIN when the mount changed between
 * libmount's read of mountinfo and ours (for the escaped super options). */
static int mountinfo_find_once(uint64_t mnt_id, const char *canon, mount_entry **ret)
{
        const mnt_syms *mnt;
        struct libmnt_iter *itr;
        struct libmnt_table *tb;
        struct libmnt_fs *fs;
        int r = -ENOENT;

        if (dlib_mount(&mnt) < 0)
                return -EOPNOTSUPP;
        tb = mnt->new_table_from_file("/proc/self/mountinfo");
        if (!tb)
                return -EIO;
        itr = mnt->new_iter(1 /* MNT_ITER_BACKWARD: the topmost mount comes last */);
        if (!itr) {
                mnt->unref_table(tb);
                return -ENOMEM;
        }
        while (mnt->table_next_fs(tb, itr, &fs) == 0) {
                const char *target = mnt->fs_get_target(fs);
                if (!target || (mnt_id ? (uint64_t)(unsigned)mnt->fs_get_id(fs) != mnt_id
                                       : !streq(target, canon)))
                        continue;
                mount_entry *m = calloc(1, sizeof *m);
                const char *s = mnt->fs_get_source(fs);
                r = -ENOMEM;
                if (!m)
                        break;
                m->mnt_id = (uint64_t)mnt->fs_get_id(fs);
                m->mountinfo_id = (uint32_t)mnt->fs_get_id(fs);
                m->devnum = mnt->fs_get_devno(fs);
                m->fstype = strdup(mnt->fs_get_fstype(fs) ?: "");
                m->source = strdup(s ?: "");
                m->target = strdup(target);
                m->fs_options = mountinfo_field(m->mountinfo_id, target, true);
                if (!m->fstype || !m->source || !m->target || !m->fs_options) {
                        mount_entry_free(m);
                        break;
                }
                if (!m->fs_options[0]) { /* every superblock has "rw" or "ro" */
                        mount_entry_free(m);
                        r = -EAGAIN;
                        break;
                }
                *ret = m;
                r = 0;
                break;
        }
        mnt->free_iter(itr);
        mnt->unref_table(tb);
        return r;
}

/* The topmost entry of our mountinfo with id MNT_ID, or (MNT_ID 0) with
 * mount point CANON. Returns: 0 and *ret, -ENOENT, -EAGAIN (the mount
 * table kept changing under three reads), -errno. */
static int mountinfo_find(uint64_t mnt_id, const char *canon, mount_entry **ret)
{
        int r = -EAGAIN;

        for (unsigned tries = 0; r == -EAGAIN && tries < 3; tries++)
                r = mountinfo_find_once(mnt_id, canon, ret);
        return r;
}

/* The unique id of the mount at PATH (statx() with FLAGS), for M found in
 * mountinfo by its id: kept only while PATH's mountinfo id is still M's, so
 * that both name one mount; 0 before 6.8. */
static void add_unique_id(const char *path, int flags, mount_entry *m)
{
        struct statx unique, again;

        if (statx(AT_FDCWD, path, flags, STATX_MNT_ID_UNIQUE, &unique) < 0 ||
            !(unique.stx_mask & STATX_MNT_ID_UNIQUE))
                return;
        if (statx(AT_FDCWD, path, flags, STATX_MNT_ID, &again) < 0 ||
            !(again.stx_mask & STATX_MNT_ID) || again.stx_mnt_id != m->mountinfo_id)
                return;
        m->unique_id = unique.stx_mnt_id;
}

/* PATH itself, never what a symlink there points to: umount2() with
 * UMOUNT_NOFOLLOW acts on PATH, and an answer for the target would have a
 * caller unmount in vain, forever. statx() without following the last
 * component names the topmost mount there by the id mountinfo shows. */
static int mount_at_mountinfo(const char *path, mount_entry **ret)
{
        char canon[PATH_MAX];
        struct statx stx;
        int r;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                  STATX_TYPE | STATX_MNT_ID, &stx) < 0)
                return negative_errno();
        if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
                if (!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                        return -ENOENT;
        } else if (S_ISLNK(stx.stx_mode))
                return -ENOENT;
        if (stx.stx_mask & STATX_MNT_ID) {
                r = mountinfo_find(stx.stx_mnt_id, NULL, ret);
                if (r == 0)
                        add_unique_id(path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, *ret);
                return r;
        }
        r = resolve_parent(path, canon);
        return r < 0 ? r : mountinfo_find(0, canon, ret);
}

int mount_at(const char *path, mount_entry **ret)
{
        if (mounttab_have_statmount()) {
                int r = mount_at_statmount(path, ret);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return mount_at_mountinfo(path, ret);
}

int mount_containing(const char *path, mount_entry **ret)
{
        struct statx stx;
        int r;

        if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &stx) < 0)
                return negative_errno();
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        r = mountinfo_find(stx.stx_mnt_id, NULL, ret);
        if (r == 0)
                add_unique_id(path, AT_NO_AUTOMOUNT, *ret);
        return r;
}

static bool path_at_or_beneath(const char *path, const char *dir)
{
        size_t len = strlen(dir);

        if (streq(dir, "/"))
                return true;
        return strncmp(path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* Returns 1/0/-errno as mount_beneath(), or -ENOSYS to fall back. */
static int beneath_listmount(const char *canon, char **ret_mountpoint)
{
        _cleanup_free_ struct oh_statmount *sm = NULL;
        const size_t size = sizeof(*sm) + PATH_MAX + 64;
        __u64 ids[512], last = 0;
        long n;

        sm = malloc(size);
        if (!sm)
                return -ENOMEM;
        do {
                n = oh_listmount(OH_LSMT_ROOT, 0, last, ids, ELEMENTSOF(ids));
                if (n < 0 && kernel_refuses(errno)) {
                        /* an EPERM after the probe passed: this call only */
                        if (errno != EPERM) {
                                fallback_note("listmount", errno);
                                listmount_state = -1;
                        }
                        return -ENOSYS;
                }
                if (n < 0)
                        return negative_errno();
                for (long i = 0; i < n; i++) {
                        last = ids[i];
                        if (oh_statmount(ids[i], 0, OH_STATMOUNT_MNT_POINT, sm, size) < 0) {
                                if (errno == ENOENT || errno == EOVERFLOW)
                                        continue; /* gone meanwhile, or a path longer than any of ours */
                                return kernel_refuses(errno) ? -ENOSYS : negative_errno();
                        }
                        if (!(sm->mask & OH_STATMOUNT_MNT_POINT))
                                return -ENOSYS;
                        if (path_at_or_beneath(sm->str + sm->mnt_point, canon)) {
                                *ret_mountpoint = strdup(sm->str + sm->mnt_point);
                                return *ret_mountpoint ? 1 : -ENOMEM;
                        }
                }
        } while (n == (long)ELEMENTSOF(ids));
        return 0;
}

static int beneath_mountinfo(const char *canon, char **ret_mountpoint)
{
        const mnt_syms *mnt;
        struct libmnt_iter *itr;
        struct libmnt_table *tb;
        struct libmnt_fs *fs;
        int r = 0;

        if (dlib_mount(&mnt) < 0)
                return -EOPNOTSUPP;
        tb = mnt->new_table_from_file("/proc/self/mountinfo");
        if (!tb)
                return -EIO;
        itr = mnt->new_iter(0);
        if (!itr) {
                mnt->unref_table(tb);
                return -ENOMEM;
        }
        while (r == 0 && mnt->table_next_fs(tb, itr, &fs) == 0) {
                const char *target = mnt->fs_get_target(fs);
                if (target && path_at_or_beneath(target, canon)) {
                        *ret_mountpoint = strdup(target);
                        r = *ret_mountpoint ? 1 : -ENOMEM;
                }
        }
        mnt->free_iter(itr);
        mnt->unref_table(tb);
        return r;
}

int mount_beneath(const char *dir, char **ret_mountpoint)
{
        char canon[PATH_MAX];

        if (!realpath(dir, canon))
                return errno == ENOENT ? 0 : negative_errno();
        if (mounttab_have_listmount()) {
                int r = beneath_listmount(canon, ret_mountpoint);
                if (r != -ENOSYS)
                        return r;
        }
        return beneath_mountinfo(canon, ret_mountpoint);
}
