/* config_internal.h: what config.c and config_values.c share; no other
 * module includes it.
 *
 * Promises: the keys of [Overlay] with their names and value parsers, the
 * state of one parse, and the helpers both halves use. A parse's first
 * complaint, made through fail(), is the one the caller of config_load() sees. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "util.h"

enum {
        KEY_LOWER, KEY_UPPER, KEY_WORK, KEY_MERGED, KEY_OPTIONS,
        KEY_MOUNT_FLAGS, KEY_USER, KEY_GROUP, KEY_MODE, _KEY_MAX
};

typedef struct parser {
        overlay_config *c;
        const char *arg;             /* what %i expands to */
        unsigned line;               /* the line being parsed, 0 once the file is read */
        unsigned section_line;       /* where [Overlay] is, 0 before it */
        unsigned key_line[_KEY_MAX]; /* where each key was first set, 0 if not */
        unsigned *lower_lines;       /* parallel to c->lowers */
        bool user_gid_known;         /* User= has a passwd entry, so a primary group */
        gid_t user_gid;
        char *error;
} parser;

/* Sets one key's fields of p->c from its value (see config_values.c).
 * Returns: 0, or -EINVAL with p->error set, or -ENOMEM. */
typedef int (*key_parser)(parser *p, int key, const char *value);
extern const char *const key_names[_KEY_MAX];
extern const key_parser key_parsers[_KEY_MAX];

/* Replaces p->error with "FILE:LINE: message" ("FILE: message" for line 0).
 * Returns: -EINVAL, or -ENOMEM if the message could not be made. */
int _printf_(3, 4) fail(parser *p, unsigned line, const char *fmt, ...);

/* Returns: S with leading and trailing blanks cut off (the end in place). */
char *trim(char *s);

/* Returns: 0 and *ret, PATH in the one form the overlap checks compare, or
 * -EINVAL with *ret_problem saying why it has none, or -ENOMEM. */
int path_normalize(const char *path, char **ret, const char **ret_problem);

static inline char **dir_of(overlay_config *c, int key)
{
        return key == KEY_UPPER ? &c->upper : key == KEY_WORK ? &c->work : &c->merged;
}
