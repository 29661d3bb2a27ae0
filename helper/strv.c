/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strv.c: see strv.h. */
#include "strv.h"
#include "util.h"

size_t strv_length(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

int strv_add_len(char ***v, const char *s, size_t len)
{
        size_t n = strv_length(*v);
        char *copy = strndup(s, len);
        char **nv;

        if (!copy)
                return -ENOMEM;
        nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv) {
                free(copy);
                return -ENOMEM;
        }
        nv[n] = copy;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

int strv_add(char ***v, const char *s)
{
        return strv_add_len(v, s, strlen(s));
}

int strv_new_empty(char ***ret)
{
        char **v = calloc(1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort_unique(char **v)
{
        size_t n = strv_length(v), w = 0;

        if (n < 2)
                return;
        qsort(v, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                if (w > 0 && streq(v[w - 1], v[i])) {
                        free(v[i]);
                        continue;
                }
                v[w++] = v[i];
        }
        v[w] = NULL;
}

char *strv_join(char *const *v, const char *sep)
{
        size_t len = 1, seplen = strlen(sep), at = 0;
        char *s;

        for (char *const *p = v; p && *p; p++)
                len += strlen(*p) + (p != v ? seplen : 0);
        s = malloc(len);
        if (!s)
                return NULL;
        for (char *const *p = v; p && *p; p++) {
                size_t n = strlen(*p);
                if (p != v) {
                        memcpy(s + at, sep, seplen);
                        at += seplen;
                }
                memcpy(s + at, *p, n);
                at += n;
        }
        s[at] = '\0';
        return s;
}
