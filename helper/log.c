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

static bool journal_send(int level, const char *message_id, const char *text)
{
        const sd_syms *sd;
        char f[6][256 + 64];
        struct iovec iov[7];
        int n = 0;

        if (dlib_systemd(&sd) < 0)
                return false;
        _cleanup_free_ char *msg = NULL;
        if (asprintf(&msg, "MESSAGE=%s", text) < 0)
                return false;
        iov[n++] = (struct iovec){ msg, strlen(msg) };
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

int log_emit(int level, int error, const char *message_id, const char *fmt, ...)
{
        int saved_errno = errno;
        char text[4096];
        va_list ap;

        if (error < 0)
                error = -error;
        if ((level == LOG_DEBUG && verbosity < 1) || (level > LOG_WARNING && verbosity < 0))
                goto out;

        errno = error; /* for %m */
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);

        if (journal < 0)
                journal = stderr_is_journal();
        if (journal && journal_send(level, message_id, text))
                goto out;
        fprintf(stderr, "overlay-helper: %s\n", text);
out:
        errno = saved_errno;
        return -error;
}
