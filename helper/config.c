/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.c: instance names and their [Overlay] config files (see config.h).
 *
 * Promises: has config_file.c find and read the file (refusing one that
 * others could write); parses it line by line (comments, the one [Overlay]
 * section, KEY=VALUE, %i) and hands each value to its key's parser in
 * config_values.c; then checks the config as a whole: defaults from
 * STATE_DIR, no overlapping dirs, Upper and Work on one filesystem. Every
 * complaint about the file goes through fail(). */
#include "config_internal.h"

#include <ctype.h>
#include <linux/mount.h>
#include <sys/stat.h>

static void parser_done(parser *p)
{
        free(p->lower_lines);
        free(p->error);
}

static const char *instance_name_problem(const char *name)
{
        size_t n = strlen(name);

        if (n == 0)
                return "must not be empty";
        if (n > INSTANCE_NAME_MAX)
                return "must be at most 128 characters long";
        /* Checked before the leading '.', so "../x" is named for what it is. */
        if (strstr(name, ".."))
                return "must not contain '..'";
        for (const char *s = name; *s; s++)
                if (!isascii(*s) || !(isalnum(*s) || strchr("_.@-", *s)))
                        return "may only contain A-Z a-z 0-9 _ . @ -";
        if (name[0] == '.')
                return "must not start with '.'";
        if (name[0] == '-')
                return "must not start with '-'";
        return NULL;
}

int instance_name_check(const char *name)
{
        return name && !instance_name_problem(name) ? 0 : -EINVAL;
}

/* The name goes into a message for an operator, and control characters in
 * it would garble a terminal or the journal. */
static int check_instance(const char *name, char **error)
{
        const char *problem = instance_name_problem(name ?: "");
        _cleanup_free_ char *shown = NULL;

        if (!problem)
                return 0;
        shown = strdup(name ?: "");
        for (char *s = shown; s && *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        *s = '?';
        return config_errorf(error, -EINVAL, "invalid instance name '%s': %s", shown ?: "", problem);
}

/* systemd's specifiers, reduced to the two a path here can use. */
static int expand_specifiers(parser *p, const char *key, const char *value, char **ret)
{
        size_t n_arg = 0;
        char *out, *o;

        for (const char *s = strchr(value, '%'); s; s = strchr(s + 2, '%')) {
                if (s[1] != 'i' && s[1] != '%')
                        return fail(p, p->line, "%s=%s: unknown specifier '%%%.1s' (only %%i and %%%% are "
                                    "known)", key, value, s + 1);
                n_arg += s[1] == 'i';
        }
        out = o = malloc(strlen(value) + n_arg * strlen(p->arg) + 1);
        if (!out)
                return -ENOMEM;
        for (const char *s = value; *s; s++)
                if (*s != '%')
                        *o++ = *s;
                else if (*++s == 'i')
                        o = stpcpy(o, p->arg);
                else
                        *o++ = '%';
        *o = 0;
        *ret = out;
        return 0;
}

static int parse_assignment(parser *p, char *key, const char *raw)
{
        _cleanup_free_ char *value = NULL;
        int k, r;

        for (k = 0; k < _KEY_MAX && !streq(key_names[k], key); k++)
                ;
        if (k == _KEY_MAX) {
                for (k = 0; k < _KEY_MAX && strcasecmp(key_names[k], key) != 0; k++)
                        ;
                if (k < _KEY_MAX)
                        return fail(p, p->line, "unknown key '%s' (keys are case-sensitive: %s=)", key,
                                    key_names[k]);
                return fail(p, p->line, "unknown key '%s' (known: Lower, Upper, Work, Merged, Options, "
                            "MountFlags, User, Group, Mode)", key);
        }
        if (k != KEY_LOWER && p->key_line[k])
                return fail(p, p->line, "%s= is given twice (first at line %u)", key, p->key_line[k]);
        if (!*raw)
                return fail(p, p->line, "%s= has an empty value", key);
        r = expand_specifiers(p, key, raw, &value);
        if (r < 0)
                return r;
        r = key_parsers[k](p, k, value);
        if (r < 0)
                return r;
        if (!p->key_line[k])
                p->key_line[k] = p->line;
        return 0;
}

/* A comment is a line whose first non-blank is '#' or ';'. Paths may contain
 * '#' and ';', so after a value only a '#' or ';' preceded by a blank starts
 * a trailing comment ("Lower=/srv/a#1" keeps its '#'; "Lower=/srv/a # top"
 * does not); a path with " #" in it cannot be written here. */
static int parse_line(parser *p, char *line)
{
        char *s = line + strspn(line, " \t\r\f\v"), *eq;

        if (*s == '#' || *s == ';')
                return 0;
        for (char *c = s; (c = strpbrk(c, "#;")); c++)
                if (c > s && (c[-1] == ' ' || c[-1] == '\t')) {
                        *c = 0;
                        break;
                }
        s = trim(s);
        if (!*s)
                return 0;
        if (*s == '[') {
                if (!streq(s, "[Overlay]"))
                        return fail(p, p->line, "unknown section '%s' (the only section is [Overlay])", s);
                if (p->section_line)
                        return fail(p, p->line, "[Overlay] appears twice (first at line %u)",
                                    p->section_line);
                p->section_line = p->line;
                return 0;
        }
        if (!p->section_line)
                return fail(p, p->line, "'%s' is outside a section (start the file with [Overlay])", s);
        eq = strchr(s, '=');
        if (!eq || eq == s)
                return fail(p, p->line, "'%s' is not a KEY=VALUE line", s);
        *eq = 0;
        return parse_assignment(p, trim(s), trim(eq + 1));
}

/* TEXT (config_file.c read it whole, within CONFIG_SIZE_MAX) is cut into
 * lines in place. A byte order mark would otherwise surface as "unknown
 * section '\xef\xbb\xbf[Overlay]'", naming nothing an editor shows. */
static int parse_text(parser *p, char *text, size_t size)
{
        char *end = text + size, *line = text;
        int r;

        if (size >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                return fail(p, 1, "starts with a UTF-8 byte order mark (EF BB BF); save the file without it");
        if (size >= 2 && (memcmp(text, "\xff\xfe", 2) == 0 || memcmp(text, "\xfe\xff", 2) == 0))
                return fail(p, 1, "starts with a UTF-16 byte order mark (%02X %02X); save the file as UTF-8 "
                            "without it", (unsigned char) text[0], (unsigned char) text[1]);
        for (p->line = 1; line < end; p->line++) {
                char *nl = memchr(line, '\n', end - line) ?: end;

                if (nl - line > CONFIG_LINE_MAX)
                        return fail(p, p->line, "line is longer than %d bytes", CONFIG_LINE_MAX);
                *nl = 0;
                if (strlen(line) != (size_t) (nl - line))
                        return fail(p, p->line, "contains a NUL byte");
                r = parse_line(p, line);
                if (r < 0)
                        return r;
                line = nl + 1;
        }
        p->line = 0;
        if (!p->section_line)
                return fail(p, 0, "no [Overlay] section");
        if (p->c->n_lowers == 0)
                return fail(p, 0, "no Lower= (at least one lower layer is required)");
        return 0;
}

typedef struct dir_ref {
        const char *key;
        const char *path;
        unsigned line; /* 0: a default */
} dir_ref;

enum { APART, SAME, INSIDE, CONTAINS }; /* how one path relates to another */

/* Component-wise, so /a/bc is not inside /a/b. */
static bool path_is_beneath(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        if (streq(dir, "/"))
                return !streq(path, "/");
        return strncmp(path, dir, n) == 0 && path[n] == '/';
}

static int path_relation(const char *a, const char *b)
{
        return streq(a, b) ? SAME : path_is_beneath(a, b) ? INSIDE : path_is_beneath(b, a) ? CONTAINS : APART;
}

/* Reports at the line of whichever key came later, naming that key first. */
static int check_pair(parser *p, dir_ref a, dir_ref b, unsigned allowed, const char *why)
{
        static const char *const words[] = {
                [SAME] = "is the same dir as", [INSIDE] = "is inside", [CONTAINS] = "contains",
        };
        int rel = path_relation(a.path, b.path);

        if (rel == APART || (allowed & (1u << rel)))
                return 0;
        if (b.line > a.line) {
                dir_ref t = a;

                a = b, b = t;
                rel = rel == INSIDE ? CONTAINS : rel == CONTAINS ? INSIDE : rel;
        }
        return fail(p, a.line, "%s=%s %s %s%s=%s (%s)", a.key, a.path, words[rel],
                    b.line ? "" : "the default ", b.key, b.path, why);
}

static int check_overlaps(parser *p)
{
        overlay_config *c = p->c;
        dir_ref upper = { "Upper", c->upper, p->key_line[KEY_UPPER] };
        dir_ref work = { "Work", c->work, p->key_line[KEY_WORK] };
        dir_ref merged = { "Merged", c->merged, p->key_line[KEY_MERGED] };
        int r;

        r = check_pair(p, upper, work, 0, "overlayfs needs them apart, on one filesystem");
        if (r >= 0)
                r = check_pair(p, merged, upper, 0, "the mount point must lie apart from Upper and Work");
        if (r >= 0)
                r = check_pair(p, merged, work, 0, "the mount point must lie apart from Upper and Work");
        /* A lower may contain Upper, Work or Merged (Lower=/ with the rest under
         * /var/lib is a real use): the kernel mounts it and traps lookups into
         * Upper and Work with ELOOP, and Merged covers only its own subtree.
         * What the kernel refuses (ELOOP, "overlapping lowerdir path") is a
         * lower inside Upper or Work, or nested lowers; a lower inside Merged
         * would be hidden by the mount itself. */
        for (size_t i = 0; r >= 0 && i < c->n_lowers; i++) {
                dir_ref lower = { "Lower", c->lowers[i], p->lower_lines[i] };
                const unsigned contains = 1u << CONTAINS;
                const char *outside = "a lower layer must lie outside Upper and Work";

                r = check_pair(p, lower, upper, contains, outside);
                if (r >= 0)
                        r = check_pair(p, lower, work, contains, outside);
                if (r >= 0)
                        r = check_pair(p, lower, merged, contains, "the mount would hide that lower layer");
                for (size_t j = 0; r >= 0 && j < i; j++)
                        r = check_pair(p, lower, (dir_ref) { "Lower", c->lowers[j], p->lower_lines[j] }, 0,
                                       "overlayfs refuses nested or repeated lower layers");
        }
        return r;
}

/* Upper and Work need not exist yet (mount makes them), so compare the
 * devices of their nearest existing ancestors. */
static int nearest_existing_dev(const char *path, dev_t *ret)
{
        _cleanup_free_ char *copy = strdup(path);
        struct stat st;

        if (!copy)
                return -ENOMEM;
        for (;;) {
                char *slash;

                if (stat(copy, &st) >= 0) {
                        *ret = st.st_dev;
                        return 0;
                }
                if (errno != ENOENT && errno != ENOTDIR)
                        return negative_errno();
                slash = strrchr(copy, '/');
                if (!slash || streq(copy, "/"))
                        return -ENOENT;
                slash[slash == copy] = 0;
        }
}

static int check_same_filesystem(parser *p)
{
        unsigned line = p->key_line[KEY_WORK] ?: p->key_line[KEY_UPPER];
        dev_t upper_dev, work_dev;
        int r;

        r = nearest_existing_dev(p->c->upper, &upper_dev);
        if (r >= 0)
                r = nearest_existing_dev(p->c->work, &work_dev);
        if (r < 0) {
                fail(p, line, "cannot tell the filesystems of Upper=%s and Work=%s: %s", p->c->upper,
                     p->c->work, strerror(-r));
                return r;
        }
        if (upper_dev != work_dev)
                return fail(p, line, "Upper=%s and Work=%s are on different filesystems (overlayfs needs "
                            "them on one)", p->c->upper, p->c->work);
        return 0;
}

static int fill_defaults(parser *p, const char *state_dir)
{
        overlay_config *c = p->c;

        for (int k = KEY_UPPER; k <= KEY_MERGED; k++) {
                _cleanup_free_ char *path = NULL;
                const char *problem = NULL;
                char **dir = dir_of(c, k);
                int r;

                if (*dir)
                        continue;
                if (asprintf(&path, "%s/%s/%s", state_dir, c->instance, k == KEY_UPPER ? "upper" :
                             k == KEY_WORK ? "work" : "merged") < 0)
                        return -ENOMEM;
                r = path_normalize(path, dir, &problem);
                if (r == -EINVAL)
                        return config_errorf(&p->error, r, "state dir '%s': %s %s", state_dir, path, problem);
                if (r < 0)
                        return r;
        }
        if (p->key_line[KEY_USER] && !p->key_line[KEY_GROUP]) {
                if (!p->user_gid_known)
                        return fail(p, p->key_line[KEY_USER], "User=%u has no passwd entry to take a "
                                    "primary group from: set Group= too", (unsigned) c->uid);
                c->gid = p->user_gid;
        }
        return 0;
}

static int config_new(const char *instance, overlay_config **ret)
{
        _cleanup_config_ overlay_config *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->instance = strdup(instance);
        c->lowers = calloc(1, sizeof(char *));
        c->options = calloc(1, sizeof(char *));
        if (!c->instance || !c->lowers || !c->options)
                return -ENOMEM;
        c->mount_attr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        c->mode = 0755;
        *ret = TAKE_PTR(c);
        return 0;
}

static int load(const char *config_dir, const char *state_dir, const char *instance, overlay_config **ret,
                char **error)
{
        _cleanup_(parser_done) parser p = {};
        _cleanup_config_ overlay_config *c = NULL;
        _cleanup_free_ char *text = NULL;
        const char *at;
        size_t size = 0;
        int r;

        r = check_instance(instance, error);
        if (r < 0)
                return r;
        if (strempty(config_dir) || strempty(state_dir))
                return config_errorf(error, -EINVAL, "no config or state dir given");
        r = config_new(instance, &c);
        if (r < 0)
                return r;
        r = config_file_read(config_dir, instance, &c->path, &text, &size, error);
        if (r < 0)
                return r;
        /* %i is ARG for PREFIX@ARG whichever file was found (as in systemd),
         * and the whole name otherwise. */
        at = strchr(instance, '@');
        p = (parser) { .c = c, .arg = at ? at + 1 : instance };
        r = parse_text(&p, text, size);
        if (r >= 0)
                r = fill_defaults(&p, state_dir);
        if (r >= 0)
                r = check_overlaps(&p);
        if (r >= 0)
                r = check_same_filesystem(&p);
        if (r < 0) {
                *error = TAKE_PTR(p.error);
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *config_dir, const char *state_dir, const char *instance, overlay_config **ret,
                char **ret_error)
{
        _cleanup_free_ char *error = NULL;
        int r;

        r = load(config_dir, state_dir, instance, ret, &error);
        if (r < 0 && ret_error)
                *ret_error = TAKE_PTR(error);
        return r;
}

void config_free(overlay_config *c)
{
        if (!c)
                return;
        free(c->instance);
        free(c->path);
        strv_free(c->lowers);
        strv_free(c->layer_lowers);
        free(c->upper);
        free(c->work);
        free(c->merged);
        strv_free(c->options);
        free(c);
}
