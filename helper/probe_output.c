/* probe_output.c: see probe_output.h. */
#include "json.h"
#include "probe_output.h"
#include "util.h"

/* Names and paths come from other users: a newline or an escape sequence
 * in a file name must not forge a log line or drive the terminal. */
static void put_safe(FILE *f, const char *s)
{
        for (const unsigned char *p = (const unsigned char *)(s ? s : "?"); *p; p++) {
                if (*p < 0x20 || *p == 0x7f || *p == '\\')
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
}

static void json_strv(FILE *f, char **v)
{
        fputc('[', f);
        for (char **p = v; p && *p; p++) {
                if (p != v)
                        fputc(',', f);
                json_string(f, *p);
        }
        fputc(']', f);
}

void probe_json_copies(FILE *f, const probe_result *r)
{
        fputc('[', f);
        for (size_t i = 0; i < r->n_copies; i++) {
                const probe_copy *c = &r->copies[i];
                if (i)
                        fputc(',', f);
                fputc('{', f);
                json_kv_u64(f, true, "mnt_ns", (unsigned long long)c->ns_ino);
                json_kv_u64(f, false, "mnt_ns_id", c->ns_id);
                json_kv_bool(f, false, "init", c->init);
                json_kv_string(f, false, "mountpoint", c->mountpoints ? c->mountpoints[0] : NULL);
                fputs(",\"mountpoints\":", f);
                json_strv(f, c->mountpoints);
                fputs(",\"pinned_by\":", f);
                json_strv(f, c->pinned_by);
                fputs(",\"processes\":[", f);
                for (size_t j = 0; j < c->n_processes; j++) {
                        const holder *h = &c->processes[j];
                        if (j)
                                fputc(',', f);
                        fprintf(f, "{\"pid\":%d", (int)h->pid);
                        json_kv_string(f, false, "comm", h->comm);
                        json_kv_string(f, false, "unit", h->unit);
                        fputs(",\"refs\":", f);
                        json_strv(f, h->refs);
                        fputc('}', f);
                }
                fputs("],\"submounts\":", f);
                json_strv(f, c->submounts);
                fputc('}', f);
        }
        fputc(']', f);
}

void probe_print_json(FILE *f, const probe_target *t, const probe_result *r, double at)
{
        fputc('{', f);
        if (at >= 0)
                fprintf(f, "\"t\":%.2f,", at);
        json_kv_string(f, true, "target", t->path ? t->path : t->input);
        json_kv_string(f, false, "instance", t->instance);
        json_kv_bool(f, false, "mounted", r->mounted);
        json_kv_bool(f, false, "free", probe_free(r));
        json_kv_u64(f, false, "holders", r->n_holders);
        json_kv_u64(f, false, "unreadable", r->n_unreadable);
        fputs(",\"copies\":", f);
        probe_json_copies(f, r);
        fputs("}\n", f);
}

char *probe_verdict(const probe_result *r)
{
        size_t others = 0, submounts = 0;
        char *s = NULL;

        for (size_t i = 0; i < r->n_copies; i++) {
                others += !r->copies[i].init;
                for (char **p = r->copies[i].submounts; p && *p; p++)
                        submounts++;
        }
        if (r->n_copies == 0)
                return strdup("free: not mounted in any mount namespace");
        if (r->n_copies == 1 && r->mounted && r->n_holders == 0 && !r->copies[0].submounts)
                return strdup("mounted in PID 1's namespace only; no process or mount holds it "
                              "(an unmount would succeed)");
        if (asprintf(&s, "held by %zu process%s%s%s, %zu other mount namespace%s%s%s",
                     r->n_holders, r->n_holders == 1 ? "" : "es",
                     r->mounted ? "" : " (not mounted in PID 1's namespace: a ghost",
                     r->mounted ? "" : ")", others, others == 1 ? "" : "s",
                     submounts ? " and " : "", submounts ? "mounts beneath it" : "") < 0)
                return NULL;
        return s;
}

void probe_print_human(FILE *f, const probe_target *t, const probe_result *r)
{
        _cleanup_free_ char *verdict = probe_verdict(r);

        fprintf(f, "%s: %s\n", t->instance ? t->instance : t->path ? t->path : t->input,
                verdict ? verdict : "?");
        if (r->n_copies)
                fprintf(f, "%-12s %-4s %-7s %-16s %-24s %s\n", "MNT_NS", "INIT", "PID", "COMM",
                        "UNIT", "REFS");
        for (size_t i = 0; i < r->n_copies; i++) {
                const probe_copy *c = &r->copies[i];
                fprintf(f, "%-12llu %-4s mounted on ", (unsigned long long)c->ns_ino,
                        c->init ? "yes" : "no");
                put_safe(f, c->mountpoints[0]);
                for (char **p = c->mountpoints + 1; *p; p++) {
                        fputs(", ", f);
                        put_safe(f, *p);
                }
                fputc('\n', f);
                for (size_t j = 0; j < c->n_processes; j++) {
                        const holder *h = &c->processes[j];
                        fprintf(f, "%-12s %-4s %-7d ", "", "", (int)h->pid);
                        put_safe(f, h->comm);
                        fprintf(f, "%*s", h->comm && strlen(h->comm) < 17 ? (int)(17 - strlen(h->comm)) : 1, "");
                        put_safe(f, h->unit ? h->unit : "-");
                        fprintf(f, "%*s", h->unit && strlen(h->unit) < 24 ? (int)(24 - strlen(h->unit)) : h->unit ? 0 : 23, "");
                        if (h->n_refs == 0)
                                fputs(" (in the namespace)", f);
                        for (size_t k = 0; k < h->n_refs; k++) {
                                fputc(' ', f);
                                put_safe(f, h->refs[k]);
                        }
                        fputc('\n', f);
                }
                for (char **p = c->pinned_by; p && *p; p++) {
                        fprintf(f, "%-12s %-4s pinned by ", "", "");
                        put_safe(f, *p);
                        fputc('\n', f);
                }
                for (char **p = c->submounts; p && *p; p++) {
                        fprintf(f, "%-12s %-4s submount ", "", "");
                        put_safe(f, *p);
                        fputc('\n', f);
                }
        }
        if (r->n_unreadable)
                fprintf(f, "note: %u processes or namespaces could not be inspected "
                        "(run as root to see them)\n", r->n_unreadable);
}

char *probe_describe(const probe_result *r)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < r->n_copies; i++) {
                const probe_copy *c = &r->copies[i];
                if (i)
                        fputs("; ", f);
                if (c->init)
                        fprintf(f, "in PID 1's namespace");
                else {
                        fprintf(f, "a copy in mnt:[%llu] at ", (unsigned long long)c->ns_ino);
                        put_safe(f, c->mountpoints[0]);
                }
                for (char **p = c->pinned_by; p && *p; p++) {
                        fputs(p == c->pinned_by ? " pinned by " : ", ", f);
                        put_safe(f, *p);
                }
                if (c->n_processes)
                        fputc(':', f);
                for (size_t j = 0; j < c->n_processes; j++) {
                        const holder *h = &c->processes[j];
                        fprintf(f, "%s %d ", j ? "," : "", (int)h->pid);
                        put_safe(f, h->comm);
                        if (h->unit) {
                                fputs(" [", f);
                                put_safe(f, h->unit);
                                fputc(']', f);
                        }
                        for (size_t k = 0; k < h->n_refs; k++) {
                                fputs(k ? " " : " (", f);
                                put_safe(f, h->refs[k]);
                        }
                        if (h->n_refs)
                                fputc(')', f);
                }
                for (char **p = c->submounts; p && *p; p++) {
                        fputs(", submount ", f);
                        put_safe(f, *p);
                }
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
