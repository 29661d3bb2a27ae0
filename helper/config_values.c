/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config_values.c: what the value of each [Overlay] key means (see config_internal.h).
 *
 * Promises: one parser a key, each turning one value (%i already expanded)
 * into its fields of overlay_config: normalised absolute paths, allow-listed
 * Options=, MountFlags= as MOUNT_ATTR_* bits, Mode=, User= and Group= as ids
 * (names looked up through NSS). A parser sets its fields and returns 0, or
 * returns -EINVAL with the complaint made through fail(), or -ENOMEM; none
 * of them logs. */
#include "config_internal.h"

#include <grp.h>
#include <limits.h>
#include <linux/mount.h>
#include <pwd.h>

const char *const key_names[_KEY_MAX] = {
        "Lower", "Upper", "Work", "Merged", "Options", "MountFlags", "User", "Group", "Mode",
};

static int parse_path(parser *p, int key, const char *value, char **ret)
{
        const char *problem = NULL;
        int r;

        r = path_normalize(value, ret, &problem);
        if (r == -EINVAL) /* a path too long to be one is shown cut short */
                return fail(p, p->line, "%s=%.*s %s", key_names[key],
                            strlen(value) < PATH_MAX ? PATH_MAX : 64, value, problem);
        return r;
}

static int parse_lower(parser *p, int key, const char *value)
{
        _cleanup_free_ char *path = NULL;
        overlay_config *c = p->c;
        unsigned *lines;
        char **lowers;
        int r;

        r = parse_path(p, key, value, &path);
        if (r < 0)
                return r;
        lowers = reallocarray(c->lowers, c->n_lowers + 2, sizeof(char *));
        if (!lowers)
                return -ENOMEM;
        c->lowers = lowers;
        lines = reallocarray(p->lower_lines, c->n_lowers + 1, sizeof(unsigned));
        if (!lines)
                return -ENOMEM;
        p->lower_lines = lines;
        p->lower_lines[c->n_lowers] = p->line;
        c->lowers[c->n_lowers++] = TAKE_PTR(path);
        c->lowers[c->n_lowers] = NULL;
        return 0;
}

static int parse_dir(parser *p, int key, const char *value)
{
        return parse_path(p, key, value, dir_of(p->c, key));
}

/* Layers come only from Lower=, Upper= and Work=, so no option may name a
 * dir (lowerdir, upperdir, workdir, datadir); these are safe for an admin. */
static const char allowed_options[] =
        "redirect_dir=on|redirect_dir=off|redirect_dir=follow|redirect_dir=nofollow|index=on|index=off|"
        "xino=on|xino=off|xino=auto|metacopy=on|metacopy=off|nfs_export=on|nfs_export=off|"
        "uuid=on|uuid=off|uuid=null|uuid=auto|volatile|userxattr";

static bool word_in_list(const char *word, const char *list)
{
        size_t n = strlen(word);

        for (const char *s = list; s; s = strchr(s, '|'), s = s ? s + 1 : NULL)
                if (strncmp(s, word, n) == 0 && (s[n] == '|' || s[n] == 0))
                        return true;
        return false;
}

static int parse_options(parser *p, int key _unused_, const char *value)
{
        _cleanup_free_ char *copy = strdup(value);
        size_t n = 0;

        if (!copy)
                return -ENOMEM;
        for (char *s = copy, *item; (item = strsep(&s, ","));) {
                char **options;

                item = trim(item);
                if (!*item)
                        return fail(p, p->line, "Options=%s has an empty item", value);
                if (!word_in_list(item, allowed_options))
                        return fail(p, p->line, "Options=: '%s' is not allowed (only "
                                    "redirect_dir=on|off|follow|nofollow, index=on|off, xino=on|off|auto, "
                                    "metacopy=on|off, nfs_export=on|off, uuid=on|off|null|auto, volatile, "
                                    "userxattr; layers come from Lower=, Upper=, Work=)", item);
                for (size_t i = 0; i < n; i++)
                        /* compares "name=", or "name\0" for a bare flag */
                        if (strncmp(p->c->options[i], item, strcspn(item, "=") + 1) == 0)
                                return fail(p, p->line, "Options=: '%.*s' is given twice",
                                            (int) strcspn(item, "="), item);
                options = reallocarray(p->c->options, n + 2, sizeof(char *));
                if (!options)
                        return -ENOMEM;
                p->c->options = options;
                options[n + 1] = NULL;
                options[n] = strdup(item);
                if (!options[n++])
                        return -ENOMEM;
        }
        return 0;
}

static const struct {
        const char *name;
        uint64_t mask, value;
} mount_flags[] = {
        { "nosuid", MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSUID }, { "suid", MOUNT_ATTR_NOSUID, 0 },
        { "nodev", MOUNT_ATTR_NODEV, MOUNT_ATTR_NODEV },    { "dev", MOUNT_ATTR_NODEV, 0 },
        { "noexec", MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOEXEC }, { "exec", MOUNT_ATTR_NOEXEC, 0 },
        { "ro", MOUNT_ATTR_RDONLY, MOUNT_ATTR_RDONLY },     { "rw", MOUNT_ATTR_RDONLY, 0 },
        { "rdonly", MOUNT_ATTR_RDONLY, MOUNT_ATTR_RDONLY },
        { "nosymfollow", MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
        { "noatime", MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME },
        { "relatime", MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME },
        { "strictatime", MOUNT_ATTR__ATIME, MOUNT_ATTR_STRICTATIME },
        { "nodiratime", MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NODIRATIME },
};

/* The list replaces the default rather than amending it, so what the file
 * says is all there is. Contradictions ("ro,rw") are refused instead of
 * letting the last one win, as they are almost surely a mistake. */
static int parse_mount_flags(parser *p, int key _unused_, const char *value)
{
        _cleanup_free_ char *copy = strdup(value);
        bool used[ELEMENTSOF(mount_flags)] = {};
        uint64_t attr = 0;

        if (!copy)
                return -ENOMEM;
        for (char *s = copy, *item; (item = strsep(&s, ","));) {
                size_t i;

                item = trim(item);
                for (i = 0; i < ELEMENTSOF(mount_flags) && !streq(mount_flags[i].name, item); i++)
                        ;
                if (i == ELEMENTSOF(mount_flags))
                        return fail(p, p->line, "MountFlags=: unknown flag '%s' (known: nosuid, nodev, "
                                    "noexec, ro, nosymfollow, noatime, relatime, strictatime, nodiratime, "
                                    "and suid, dev, exec, rw)", item);
                for (size_t j = 0; j < ELEMENTSOF(mount_flags); j++)
                        if (used[j] && mount_flags[j].mask == mount_flags[i].mask &&
                            mount_flags[j].value != mount_flags[i].value)
                                return fail(p, p->line, "MountFlags=: '%s' contradicts '%s'", item,
                                            mount_flags[j].name);
                used[i] = true;
                attr = (attr & ~mount_flags[i].mask) | mount_flags[i].value;
        }
        p->c->mount_attr = attr;
        return 0;
}

static int parse_mode(parser *p, int key _unused_, const char *value)
{
        unsigned long mode;

        if (strspn(value, "01234567") != strlen(value) || strlen(value) > 6 ||
            (mode = strtoul(value, NULL, 8)) > 07777)
                return fail(p, p->line, "Mode=%s is not an octal mode from 0 to 07777", value);
        p->c->mode = mode;
        return 0;
}

/* A decimal id; (uid_t) -1 is refused as chown() reads it as "unchanged". */
static bool parse_id(const char *s, uint32_t *ret)
{
        unsigned long long v;

        if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
                return false;
        v = strtoull(s, NULL, 10);
        if (v >= UINT32_MAX)
                return false;
        *ret = v;
        return true;
}

/* NSS backends (LDAP, sssd) may want more room than sysconf() suggests, hence
 * the loop on ERANGE. NAME NULL looks the user up by *ret_id. */
static int lookup_owner(int key, const char *name, uint32_t *ret_id, gid_t *ret_user_gid)
{
        for (size_t size = 1024; size <= 1024 * 1024; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                struct passwd pw, *found_pw = NULL;
                struct group gr, *found_gr = NULL;
                int r;

                if (!buf)
                        return -ENOMEM;
                r = key == KEY_GROUP ? getgrnam_r(name, &gr, buf, size, &found_gr)
                    : name          ? getpwnam_r(name, &pw, buf, size, &found_pw)
                                    : getpwuid_r(*ret_id, &pw, buf, size, &found_pw);
                if (r == ERANGE)
                        continue;
                if (r > 0 && r != ENOENT && r != ESRCH)
                        return -r;
                if (!found_pw && !found_gr)
                        return -ESRCH;
                *ret_id = found_pw ? pw.pw_uid : gr.gr_gid;
                if (found_pw)
                        *ret_user_gid = pw.pw_gid;
                return 0;
        }
        return -ERANGE;
}

static int parse_owner(parser *p, int key, const char *value)
{
        uint32_t id;
        int r;

        if (parse_id(value, &id)) {
                if (key == KEY_GROUP)
                        p->c->gid = id;
                else {
                        p->c->uid = id;
                        /* A bare uid need not be in passwd; then only Group= can name the group. */
                        p->user_gid_known = lookup_owner(key, NULL, &id, &p->user_gid) >= 0;
                }
                return 0;
        }
        r = lookup_owner(key, value, &id, &p->user_gid);
        if (r == -ESRCH)
                return fail(p, p->line, "%s=%s: no such %s", key_names[key], value,
                            key == KEY_USER ? "user" : "group");
        if (r < 0)
                return fail(p, p->line, "%s=%s: cannot look it up: %s", key_names[key], value, strerror(-r));
        if (key == KEY_GROUP)
                p->c->gid = id;
        else
                p->c->uid = id, p->user_gid_known = true;
        return 0;
}

const key_parser key_parsers[_KEY_MAX] = {
        [KEY_LOWER] = parse_lower,         [KEY_UPPER] = parse_dir,   [KEY_WORK] = parse_dir,
        [KEY_MERGED] = parse_dir,          [KEY_OPTIONS] = parse_options,
        [KEY_MOUNT_FLAGS] = parse_mount_flags, [KEY_USER] = parse_owner, [KEY_GROUP] = parse_owner,
        [KEY_MODE] = parse_mode,
};
