/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c: see json.h. */
#include "json.h"
#include "text.h"

void json_string(FILE *f, const char *s)
{
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                size_t n = utf8_seq_len((const char *)p);

                if (n == 0) {
                        fprintf(f, "\\u%04x", 0xdc00u | *p);
                        p++;
                        continue;
                }
                if (n > 1) {
                        fwrite(p, 1, n, f);
                        p += n;
                        continue;
                }
                switch (*p) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\b': fputs("\\b", f); break;
                case '\f': fputs("\\f", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                default:
                        /* DEL is valid JSON, but not for a terminal */
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
                p++;
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

void json_kv_tristate(FILE *f, bool first, const char *k, bool known, bool value)
{
        key(f, first, k);
        fputs(!known ? "null" : value ? "true" : "false", f);
}

void json_kv_u64(FILE *f, bool first, const char *k, unsigned long long value)
{
        key(f, first, k);
        fprintf(f, "%llu", value);
}

void json_kv_id(FILE *f, bool first, const char *k, uint64_t value)
{
        key(f, first, k);
        if (value)
                fprintf(f, "%llu", (unsigned long long)value);
        else
                fputs("null", f);
}

void json_kv_strv(FILE *f, bool first, const char *k, char *const *v)
{
        key(f, first, k);
        fputc('[', f);
        for (char *const *p = v; p && *p; p++) {
                if (p != v)
                        fputc(',', f);
                json_string(f, *p);
        }
        fputc(']', f);
}
