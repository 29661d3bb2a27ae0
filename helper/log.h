/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.h: one line per action, to stderr or, under systemd, to the journal.
 *
 * Promises: log_* never fail and never change errno; the *_errno forms return
 * the negative errno they were given so a verb can `return log_error_errno(r,
 * ...)`; %m in a format prints strerror of that errno. A message is never
 * cut (only out of memory cuts one, at 4 KiB, and says so), so what can grow
 * without bound (a path's depth, a list of holders) is for the caller to
 * summarise where it comes from: text.h, probe_describe(). When JOURNAL_STREAM
 * names our stderr, each line is a structured journal entry carrying
 * OVERLAY_HELPER_INSTANCE=, OVERLAY_HELPER_ACTION= and a fixed MESSAGE_ID=;
 * otherwise it is "overlay-helper: TEXT" on stderr. Only verbs log. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "util.h"

/* Fixed catalogue ids, one per kind of event (journalctl MESSAGE_ID=...). */
#define MSGID_MOUNTED     "e3f7c865ca0b434988d29ec64ca9adfd"
#define MSGID_UNMOUNTED   "4298c78a909c4d89b1ff566f46f2476c"
#define MSGID_PURGED      "af5179cf0555486d840ffc530a893b51"
#define MSGID_BUSY        "78c020d76e6049a38821fd0b39b2cbe2"
#define MSGID_GHOST       "22744e86f4e04316a69d768c03fec9d8"
#define MSGID_NS_ESCAPE   "2add0ea19c9b4947b7afdef7d2a2244c"
#define MSGID_FAILED      "b66e6b09508d4abd911b3e5dbd80786a"
#define MSGID_INFO        "c9672593a8314a2abf5a867eee22fba4"

/* -1 quiet (errors only), 0 normal, 1 verbose (debug). */
void log_setup(int verbosity);
void log_set_instance(const char *instance);
void log_set_action(const char *action);

int log_emit(int level, int error, const char *message_id, const char *fmt, ...) _printf_(4, 5);

#define log_debug(...) log_emit(LOG_DEBUG, 0, MSGID_INFO, __VA_ARGS__)
#define log_info(...) log_emit(LOG_INFO, 0, MSGID_INFO, __VA_ARGS__)
#define log_notice_id(id, ...) log_emit(LOG_NOTICE, 0, id, __VA_ARGS__)
#define log_warning(...) log_emit(LOG_WARNING, 0, MSGID_INFO, __VA_ARGS__)
#define log_warning_id(id, ...) log_emit(LOG_WARNING, 0, id, __VA_ARGS__)
#define log_error(...) log_emit(LOG_ERR, 0, MSGID_FAILED, __VA_ARGS__)
#define log_error_errno(r, ...) log_emit(LOG_ERR, (r), MSGID_FAILED, __VA_ARGS__)
#define log_error_id(id, ...) log_emit(LOG_ERR, 0, id, __VA_ARGS__)
#define log_error_errno_id(r, id, ...) log_emit(LOG_ERR, (r), id, __VA_ARGS__)
