/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* text.c: see text.h. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* U+2026, in UTF-8: one column for three bytes */
#define ELLIPSIS "\xe2\x80\xa6"

char *text_grouped(unsigned long long n, char buf[static TEXT_GROUPED_MAX])
{
        char digits[24];
        int len = snprintf(digits, sizeof digits, "%llu", n);
        char *p = buf;

        for (int i = 0; i < len; i++) {
                if (i > 0 && (len - i) % 3 == 0)
                        *p++ = ',';
                *p++ = digits[i];
        }
        *p = '\0';
        return buf;
}

/* Components in [FROM, TO) of PATH, ignoring empty ones ("a//b"). */
static size_t count_components(const char *path, size_t from, size_t to)
{
        size_t n = 0;

        for (size_t i = from; i < to; i++)
                n += path[i] != '/' && (i == from || path[i - 1] == '/');
        return n;
}

/* PATH's first HEAD bytes, MARKER, and PATH from TAIL on (malloc'd). */
static char *splice(const char *path, size_t len, size_t head, const char *marker, size_t m,
                    size_t tail)
{
        char *s = malloc(head + m + (len - tail) + 1);

        if (!s)
                return NULL;
        memcpy(s, path, head);
        memcpy(s + head, marker, m);
        memcpy(s + head + m, path + tail, len - tail + 1);
        return s;
}

static size_t levels_marker(char *buf, size_t size, size_t levels)
{
        char g[TEXT_GROUPED_MAX];

        return (size_t)snprintf(buf, size, "/" ELLIPSIS "[%s level%s]" ELLIPSIS "/",
                                text_grouped(levels, g), levels == 1 ? "" : "s");
}

/* The end of the component after HEAD (PATH[HEAD] is '/' or HEAD is 0). */
static size_t next_end(const char *path, size_t head)
{
        size_t i = head;

        while (path[i] == '/')
                i++;
        while (path[i] && path[i] != '/')
                i++;
        return i;
}

/* The start of the component before TAIL (PATH[TAIL - 1] is '/'). */
static size_t prev_start(const char *path, size_t tail)
{
        size_t i = tail;

        while (i > 0 && path[i - 1] == '/')
                i--;
        while (i > 0 && path[i - 1] != '/')
                i--;
        return i;
}

/* Keeps PATH[0, head) and PATH[tail, len), growing both in turn while the
 * result fits. Returns: NULL with *ret_fits false when even the first and
 * last components do not fit. */
static char *shorten_levels(const char *path, size_t len, size_t max, bool *ret_fits)
{
        size_t head = next_end(path, 0), tail = len, levels;
        char marker[64];

        while (tail > 0 && path[tail - 1] == '/')
                tail--;
        tail = prev_start(path, tail);
        levels = tail > head ? count_components(path, head, tail) : 0;
        *ret_fits = levels > 0 && head + levels_marker(marker, sizeof marker, levels) +
                                          (len - tail) <= max;
        if (!*ret_fits)
                return NULL;
        for (bool grew = true; grew && levels > 1;) {
                size_t h = next_end(path, head), t = prev_start(path, tail - 1);
                grew = false;
                if (h + levels_marker(marker, sizeof marker, levels - 1) + (len - tail) <= max) {
                        head = h;
                        levels--;
                        grew = true;
                }
                if (levels > 1 &&
                    head + levels_marker(marker, sizeof marker, levels - 1) + (len - t) <= max) {
                        tail = t;
                        levels--;
                        grew = true;
                }
        }
        size_t m = levels_marker(marker, sizeof marker, levels);
        return splice(path, len, head, marker, m, tail);
}

static bool utf8_continuation(char c)
{
        return ((unsigned char)c & 0xc0) == 0x80;
}

static char *shorten_bytes(const char *path, size_t len, size_t max)
{
        char g[TEXT_GROUPED_MAX], marker[64];
        /* the count is of the bytes left out, at most LEN: size the marker for it */
        size_t room = max - (size_t)snprintf(marker, sizeof marker, ELLIPSIS "[%s bytes]" ELLIPSIS,
                                             text_grouped(len, g));
        size_t head = room / 2, tail = len - (room - room / 2);

        while (head > 0 && utf8_continuation(path[head]))
                head--;
        while (tail < len && utf8_continuation(path[tail]))
                tail++;
        size_t m = (size_t)snprintf(marker, sizeof marker, ELLIPSIS "[%s bytes]" ELLIPSIS,
                                    text_grouped(tail - head, g));
        return splice(path, len, head, marker, m, tail);
}

char *text_shorten_path(const char *path, size_t max)
{
        size_t len;
        bool fits;
        char *s;

        if (!path)
                return NULL;
        len = strlen(path);
        if (max < TEXT_SHORTEN_MIN)
                max = TEXT_SHORTEN_MIN;
        if (len <= max)
                return strdup(path);
        s = shorten_levels(path, len, max, &fits);
        return fits ? s : shorten_bytes(path, len, max);
}

size_t utf8_seq_len(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4;
        else
                return 0;
        /* the second byte's range is what rules out the forms above */
        if (p[0] == 0xe0)
                lo = 0xa0;
        else if (p[0] == 0xed)
                hi = 0x9f;
        else if (p[0] == 0xf0)
                lo = 0x90;
        else if (p[0] == 0xf4)
                hi = 0x8f;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
        return n;
}
