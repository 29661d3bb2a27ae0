/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config_internal.h: what the config_*.c modules share; no other module
 * includes it.
 *
 * Promises: the keys of [Overlay] with their names and value parsers, the
 * state of one parse, the reading of the file, and the helpers every module
 * uses. A parse's first complaint, made through fail(), is the one the caller
 * of config_load() sees. Dependencies point one way: config.c uses
 * config_file.c and config_values.c; all three use config_util.c, which uses
 * none of them. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "util.h"

/* A config is a few dozen lines: these only bound what a file can make root
 * read and hold in memory, and what one message can quote. */
#define CONFIG_SIZE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX (16 * 1024)

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

/* config_file.c */

/* Finds INSTANCE's file in CONFIG_DIR (or its template), refuses it and its
 * dirs unless only root can write them (see config_file.c), and reads it.
 * Returns: 0 with *ret_path the file as looked up, *ret_text its content
 * NUL-terminated and *ret_size its length; or -ENOENT (no such file),
 * -EINVAL (a refused dir or file) or -errno, with *ret_error set. */
int config_file_read(const char *config_dir, const char *instance, char **ret_path, char **ret_text,
                     size_t *ret_size, char **ret_error);

/* config_values.c */

/* Sets one key's fields of p->c from its value (see config_values.c).
 * Returns: 0, or -EINVAL with p->error set, or -ENOMEM. */
typedef int (*key_parser)(parser *p, int key, const char *value);
extern const char *const key_names[_KEY_MAX];
extern const key_parser key_parsers[_KEY_MAX];

/* config_util.c */

/* Sets *ret_error to the formatted message. Returns: R, or -ENOMEM if the
 * message could not be made (then *ret_error is NULL). */
int _printf_(3, 4) config_errorf(char **ret_error, int r, const char *fmt, ...);

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
