/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* swaps.c: see swaps.h. */
#include <sys/stat.h>

#include "mounttab.h"
#include "strv.h"
#include "swaps.h"
#include "util.h"

void swaps_done(swap_set *s)
{
        for (size_t i = 0; s->v && i < s->n; i++)
                free(s->v[i].path);
        free(s->v);
        *s = (swap_set){ 0 };
}

/* "PATH TYPE SIZE USED PRIO", PATH octal-escaped (space, tab, newline,
 * backslash). Returns: 0 (a line we cannot parse is skipped), -ENOMEM. */
static int add_line(swap_set *s, char *line)
{
        char *p = line, *path = strsep(&p, " \t"), *type;
        swap_area *nv, *a;
        struct stat st;

        while (p && (*p == ' ' || *p == '\t'))
                p++;
        type = p ? strsep(&p, " \t") : NULL;
        if (!path || !*path || !type)
                return 0;
        nv = realloc(s->v, (s->n + 1) * sizeof(swap_area));
        if (!nv)
                return -ENOMEM;
        s->v = nv;
        a = &s->v[s->n];
        *a = (swap_area){ .path = strdup(path), .partition = streq(type, "partition") };
        if (!a->path)
                return -ENOMEM;
        unescape_octal(a->path);
        if (stat(a->path, &st) == 0) {
                a->has_dev = true;
                a->dev = a->partition ? st.st_rdev : st.st_dev;
        }
        s->n++;
        return 0;
}

int swaps_read(swap_set *ret)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/swaps", "re");
        _cleanup_free_ char *line = NULL;
        swap_set s = { 0 };
        size_t size = 0;
        bool header = true;
        int r = 0;

        *ret = s;
        if (!f)
                return errno == ENOENT ? 0 : negative_errno();
        while (r >= 0 && getline(&line, &size, f) > 0) {
                line[strcspn(line, "\n")] = '\0';
                if (!header)
                        r = add_line(&s, line);
                header = false;
        }
        if (r < 0) {
                swaps_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int swaps_holding(const swap_set *s, dev_t devnum, char ***ret)
{
        char **found = NULL;
        int r = 0;

        *ret = NULL;
        for (size_t i = 0; devnum && r >= 0 && i < s->n; i++)
                if (s->v[i].has_dev && s->v[i].dev == devnum)
                        r = strv_add(&found, s->v[i].path);
        if (r < 0) {
                strv_free(found);
                return r;
        }
        *ret = found;
        return 0;
}
