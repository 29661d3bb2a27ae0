/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config_util.c: the helpers every config_*.c module shares (see
 * config_internal.h).
 *
 * Promises: messages made the one way (config_errorf(), fail()), blank
 * trimming, and the one normal form of a path. It is the bottom of the config
 * modules and uses none of them: config.c uses config_file.c and
 * config_values.c, and all three use this file, so no cycle links them. */
#include "config_internal.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>

int config_errorf(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0) {
                *ret_error = NULL;
                r = -ENOMEM;
        }
        va_end(ap);
        return r;
}

/* Every complaint about the file's content goes through here, so each one
 * carries "FILE:LINE: " (or "FILE: " for line 0, a whole-file problem). */
int fail(parser *p, unsigned line, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        free(p->error);
        if (line > 0)
                return config_errorf(&p->error, -EINVAL, "%s:%u: %s", p->c->path, line, msg);
        return config_errorf(&p->error, -EINVAL, "%s: %s", p->c->path, msg);
}

char *trim(char *s)
{
        char *end;

        s += strspn(s, " \t\r\f\v");
        end = s + strlen(s);
        while (end > s && isspace((unsigned char) end[-1]))
                *--end = 0;
        return s;
}

/* Absolute, no "." or ".." components (a lexical overlap check could not
 * trust them), "//" collapsed and no trailing "/". */
int path_normalize(const char *path, char **ret, const char **ret_problem)
{
        _cleanup_free_ char *out = NULL;
        char *o;

        if (path[0] != '/')
                return *ret_problem = "is not an absolute path", -EINVAL;
        if (strlen(path) >= PATH_MAX)
                return *ret_problem = "is longer than PATH_MAX", -EINVAL;
        if (strchr(path, '\n'))
                return *ret_problem = "contains a newline", -EINVAL;
        out = o = malloc(strlen(path) + 2);
        if (!out)
                return -ENOMEM;
        for (const char *s = path; *s;) {
                size_t n;

                s += strspn(s, "/");
                n = strcspn(s, "/");
                if (n == 0)
                        break;
                if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                        return *ret_problem = "has a '.' or '..' component", -EINVAL;
                *o++ = '/';
                o = mempcpy(o, s, n);
                s += n;
        }
        if (o == out)
                *o++ = '/';
        *o = 0;
        *ret = TAKE_PTR(out);
        return 0;
}
