/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c: see json.h. */
#include "json.h"

void json_string(FILE *f, const char *s)
{
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                switch (*p) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\t': fputs("\\t", f); break;
                default:
                        if (*p < 0x20)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static void key(FILE *f, bool first, const char *k)
{
        if (!first)
                fputc(',', f);
        json_string(f, k);
        fputc(':', f);
}

void json_kv_string(FILE *f, bool first, const char *k, const char *value)
{
        key(f, first, k);
        json_string(f, value);
}

void json_kv_bool(FILE *f, bool first, const char *k, bool value)
{
        key(f, first, k);
        fputs(value ? "true" : "false", f);
}

void json_kv_u64(FILE *f, bool first, const char *k, unsigned long long value)
{
        key(f, first, k);
        fprintf(f, "%llu", value);
}
