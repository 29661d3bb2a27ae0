/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: see log.h. */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "dlib.h"
#include "log.h"

static int verbosity;
static const char *instance;
static const char *action;
static int journal = -1; /* -1 undecided, 0 stderr, 1 journal */

void log_setup(int v) { verbosity = v; }
void log_set_instance(const char *i) { instance = i; }
void log_set_action(const char *a) { action = a; }

/* JOURNAL_STREAM=DEV:INODE is inherited by children that may have stderr
 * redirected elsewhere; only trust it if it still describes our stderr. */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

/* What an entry carries besides MESSAGE= and the numbers: the caller's
 * fields after ours, at most LOG_FIELDS_MAX of theirs. */
#define OWN_FIELDS 4
#define FIXED_FIELDS 6 /* PRIORITY, MESSAGE_ID, SYSLOG_IDENTIFIER, CODE_LINE, ERRNO, DROPPED */

typedef struct field_pack {
        struct iovec iov[1 + FIXED_FIELDS + OWN_FIELDS + LOG_FIELDS_MAX];
        int n;
        size_t dropped;
        char stack[4096];
        char *heap;
} field_pack;

/* Each field whole or not at all: in STACK when they all fit, else in one
 * allocation; out of memory, those that still fit in STACK go, in order. */
static void pack_fields(field_pack *p, const log_field *all, size_t n)
{
        char *buf = p->stack;
        size_t size = sizeof p->stack, total = 0, used = 0;

        for (size_t i = 0; i < n; i++)
                total += strlen(all[i].name) + 1 + strlen(all[i].value);
        if (total > size) {
                p->heap = malloc(total);
                if (p->heap) {
                        buf = p->heap;
                        size = total;
                }
        }
        for (size_t i = 0; i < n; i++) {
                size_t ln = strlen(all[i].name), lv = strlen(all[i].value);

                if (ln + 1 + lv > size - used) {
                        p->dropped++;
                        continue;
                }
                memcpy(buf + used, all[i].name, ln);
                buf[used + ln] = '=';
                memcpy(buf + used + ln + 1, all[i].value, lv);
                p->iov[p->n++] = (struct iovec){ buf + used, ln + 1 + lv };
                used += ln + 1 + lv;
        }
}

/* Ours, then the caller's non-NULL ones (past LOG_FIELDS_MAX: dropped). */
static size_t collect_fields(log_field *all, const char *file, const char *func,
                             const log_field *fields, size_t *dropped)
{
        const log_field own[OWN_FIELDS] = {
                { "CODE_FILE", file },
                { "CODE_FUNC", func },
                { "OVERLAY_HELPER_INSTANCE", instance && *instance ? instance : NULL },
                { "OVERLAY_HELPER_ACTION", action && *action ? action : NULL },
        };
        size_t n = 0, extra = 0;

        for (size_t i = 0; i < OWN_FIELDS; i++)
                if (own[i].value)
                        all[n++] = own[i];
        for (const log_field *f = fields; f && f->name; f++) {
                if (!f->value)
                        continue;
                if (extra++ < LOG_FIELDS_MAX)
                        all[n++] = *f;
                else
                        (*dropped)++;
        }
        return n;
}

/* ENTRY is "MESSAGE=TEXT", formatted behind its field name: a long message
 * is not copied again, so no allocation here can fail on its length. */
static bool journal_send(int level, int error, const char *message_id, const char *file, int line,
                         const char *func, const log_field *fields, const char *entry)
{
        log_field all[OWN_FIELDS + LOG_FIELDS_MAX];
        char num[FIXED_FIELDS][64];
        const sd_syms *sd;
        field_pack p;
        size_t n_all, dropped = 0;
        int k = 0, r;

        if (dlib_systemd(&sd) < 0)
                return false;
        p.n = 0;
        p.dropped = 0;
        p.heap = NULL;
        p.iov[p.n++] = (struct iovec){ (char *)entry, strlen(entry) };
        snprintf(num[k++], sizeof num[0], "PRIORITY=%d", level);
        snprintf(num[k++], sizeof num[0], "MESSAGE_ID=%s", message_id);
        snprintf(num[k++], sizeof num[0], "SYSLOG_IDENTIFIER=overlay-helper");
        snprintf(num[k++], sizeof num[0], "CODE_LINE=%d", line);
        if (error > 0)
                snprintf(num[k++], sizeof num[0], "ERRNO=%d", error);
        for (int i = 0; i < k; i++)
                p.iov[p.n++] = (struct iovec){ num[i], strlen(num[i]) };
        n_all = collect_fields(all, file, func, fields, &dropped);
        pack_fields(&p, all, n_all);
        dropped += p.dropped;
        if (dropped > 0) {
                snprintf(num[k], sizeof num[0], "OVERLAY_HELPER_FIELDS_DROPPED=%zu", dropped);
                p.iov[p.n++] = (struct iovec){ num[k], strlen(num[k]) };
        }
        r = sd->journal_sendv(p.iov, p.n);
        free(p.heap);
        return r >= 0;
}

#define MESSAGE_FIELD "MESSAGE="
#define MESSAGE_FIELD_LEN (sizeof MESSAGE_FIELD - 1)
#define CUT_MARK " [\xe2\x80\xa6 message cut: out of memory]"

/* Formats into STACK, or into *RET_HEAP when it does not fit: no length
 * limit. Not vasprintf(): glibc's mallocs its buffer before vfprintf() reads
 * errno for %m, and a malloc may leave errno changed; vsnprintf() reads it
 * first thing, right after we set it. Returns: "MESSAGE=TEXT" (the journal
 * field; stderr gets what follows the prefix). */
static char *format_text(char *stack, size_t size, char **ret_heap, int error, const char *fmt,
                         va_list ap)
{
        size_t room = size - MESSAGE_FIELD_LEN;
        va_list again;
        int k;

        memcpy(stack, MESSAGE_FIELD, MESSAGE_FIELD_LEN);
        va_copy(again, ap);
        errno = error; /* for %m */
        k = vsnprintf(stack + MESSAGE_FIELD_LEN, room, fmt, ap);
        if (k < 0) /* over INT_MAX bytes, or a bad format: say what we meant */
                snprintf(stack + MESSAGE_FIELD_LEN, room, "%s", fmt);
        else if ((size_t)k >= room) {
                *ret_heap = malloc(MESSAGE_FIELD_LEN + (size_t)k + 1);
                if (*ret_heap) {
                        memcpy(*ret_heap, MESSAGE_FIELD, MESSAGE_FIELD_LEN);
                        errno = error;
                        vsnprintf(*ret_heap + MESSAGE_FIELD_LEN, (size_t)k + 1, fmt, again);
                } else
                        /* never cut silently */
                        memcpy(stack + size - sizeof CUT_MARK, CUT_MARK, sizeof CUT_MARK);
        }
        va_end(again);
        return *ret_heap ? *ret_heap : stack;
}

int log_emit_fields(int level, int error, const char *message_id, const char *file, int line,
                    const char *func, const log_field *fields, const char *fmt, ...)
{
        int saved_errno = errno;
        char stack[4096 + MESSAGE_FIELD_LEN];
        char *heap = NULL, *entry;
        va_list ap;

        if (error < 0)
                error = -error;
        if ((level == LOG_DEBUG && verbosity < 1) || (level > LOG_WARNING && verbosity < 0))
                goto out;

        va_start(ap, fmt);
        entry = format_text(stack, sizeof stack, &heap, error, fmt, ap);
        va_end(ap);

        if (journal < 0)
                journal = stderr_is_journal();
        if (!journal || !journal_send(level, error, message_id, file, line, func, fields, entry))
                fprintf(stderr, "overlay-helper: %s\n", entry + MESSAGE_FIELD_LEN);
        free(heap);
out:
        errno = saved_errno;
        return -error;
}
