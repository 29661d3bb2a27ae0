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

/* ENTRY is "MESSAGE=TEXT", formatted behind its field name: a long message
 * is not copied again, so no allocation here can fail on its length. */
static bool journal_send(int level, const char *message_id, const char *entry)
{
        const sd_syms *sd;
        char f[6][256 + 64];
        struct iovec iov[7];
        int n = 0;

        if (dlib_systemd(&sd) < 0)
                return false;
        iov[n++] = (struct iovec){ (char *)entry, strlen(entry) };
        snprintf(f[0], sizeof f[0], "PRIORITY=%d", level);
        snprintf(f[1], sizeof f[1], "MESSAGE_ID=%s", message_id);
        snprintf(f[2], sizeof f[2], "SYSLOG_IDENTIFIER=overlay-helper");
        snprintf(f[3], sizeof f[3], "OVERLAY_HELPER_INSTANCE=%s", instance ? instance : "");
        snprintf(f[4], sizeof f[4], "OVERLAY_HELPER_ACTION=%s", action ? action : "");
        for (int i = 0; i < 5; i++) {
                if (i >= 3 && f[i][strlen(f[i]) - 1] == '=')
                        continue;
                iov[n++] = (struct iovec){ f[i], strlen(f[i]) };
        }
        return sd->journal_sendv(iov, n) >= 0;
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

int log_emit(int level, int error, const char *message_id, const char *fmt, ...)
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
        if (!journal || !journal_send(level, message_id, entry))
                fprintf(stderr, "overlay-helper: %s\n", entry + MESSAGE_FIELD_LEN);
        free(heap);
out:
        errno = saved_errno;
        return -error;
}
