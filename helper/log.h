/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.h: one line per action, to stderr or, under systemd, to the journal.
 *
 * Promises: log_* never fail and never change errno; they return the
 * negative errno they were given so a verb can `return log_error_errno(r,
 * ...)`; %m in a format prints strerror of that errno. A message is never
 * cut (only out of memory cuts one, at 4 KiB, and says so), so what can grow
 * without bound (a path's depth, a list of holders) is for the caller to
 * summarise where it comes from: text.h, probe_describe(). When JOURNAL_STREAM
 * names our stderr, each line is a structured journal entry carrying
 * MESSAGE_ID= (one per kind of event, explained in
 * catalog/overlay-helper.catalog), PRIORITY=, CODE_FILE=, CODE_LINE=,
 * CODE_FUNC=, ERRNO= (positive, when the entry has an error),
 * OVERLAY_HELPER_INSTANCE=, OVERLAY_HELPER_ACTION= and the caller's extra
 * fields (docs/journal.md lists them all); otherwise it is
 * "overlay-helper: TEXT" on stderr, the extra fields left out. Extra fields
 * are whole or left out, never cut: past LOG_FIELDS_MAX, or when out of
 * memory, the rest is dropped and OVERLAY_HELPER_FIELDS_DROPPED= says how
 * many. Only verbs log. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "util.h"

/* Fixed catalogue ids, one per kind of event (journalctl MESSAGE_ID=...);
 * each has an entry in catalog/overlay-helper.catalog (tests/static/
 * catalog.bats checks both ways). Never reuse or change one. */
#define MSGID_MOUNTED           "e3f7c865ca0b434988d29ec64ca9adfd"
#define MSGID_ALREADY_MOUNTED   "8e603ac8c933408991f04c3be7287b32"
#define MSGID_DIR_CREATED       "1bceeb1b53d74abb8168f3c2d0ac0c9a"
#define MSGID_UNMOUNTED         "4298c78a909c4d89b1ff566f46f2476c"
#define MSGID_NOT_MOUNTED       "38cd4bfc698d4fb2a31551c0e109bb8a"
#define MSGID_WORK_CLEANED      "691a1945600f455e82c4d0e0f83b15c1"
#define MSGID_PURGED            "af5179cf0555486d840ffc530a893b51"
#define MSGID_NS_ESCAPE         "2add0ea19c9b4947b7afdef7d2a2244c"
#define MSGID_IMAGE_ATTACHED    "2e733f87cbc9443a8ae3d5d5b1d6896a"
#define MSGID_IMAGE_SHARED      "57c9074b9cc44644a9f01f4bb30f6eb0"
#define MSGID_IMAGE_RELEASED    "a41f11d9a00447589dbc784042585f01"
#define MSGID_IMAGE_LEFT_OPEN   "5274225de57c49b89c3452295e24a543"
#define MSGID_BUSY              "78c020d76e6049a38821fd0b39b2cbe2"
#define MSGID_GHOST             "22744e86f4e04316a69d768c03fec9d8"
#define MSGID_OWN_UNIT          "deb03fbacd3a4bfca9a4abcc84abdae0"
#define MSGID_SECOND_OVERLAY    "d4844467b391474fb5206c39e1595969"
#define MSGID_SUBMOUNT          "c829ce20686e477a8a653cc9e9e1a951"
#define MSGID_FOREIGN_MOUNT     "f85c289167644e0fb12781a6104cb4de"
#define MSGID_LOCK_BUSY         "d3eddf4685d7408289af756adade707f"
#define MSGID_IMAGE_LOCK_BUSY   "88ec453650c4477ead2eaadf63de5872"
#define MSGID_IMAGE_WRITER      "5f6680a8409a4a2cbadc5cb5fc632616"
#define MSGID_IMAGE_STALE       "bc970f2cc3b3488ba5269de4b3c0595a"
#define MSGID_IMAGE_BUSY        "ea1100a598d848dfbb1522207bb1add3"
#define MSGID_IMAGE_FORMAT      "220da2a709fe4dd89af0f6d528fce0d0"
#define MSGID_CONFIG            "2bd967c8a67648f0801d6c867b4e18ab"
#define MSGID_USAGE             "0d5f066b22ec4e80acf7a4223737eef5"
#define MSGID_PRIVILEGE         "89ca6381690d436299d3628724948777"
#define MSGID_FAILED            "b66e6b09508d4abd911b3e5dbd80786a"
#define MSGID_FALLBACK          "618b8a9576ee424cb7e363ebc27d0d61"
#define MSGID_DEBUG             "8614a41b189f411aaa8e5203edfa9729" /* every debug message */

/* One extra journal field, NAME=VALUE: NAME in [A-Z0-9_], not starting with
 * '_'; a NULL VALUE leaves the field out, so optional ones can sit in a
 * literal list. A name may repeat (one OVERLAY_HELPER_HOLDER_PID= per
 * holder). Lists end with { NULL }. */
typedef struct log_field {
        const char *name;
        const char *value;
} log_field;

/* Extra fields one entry carries at most; the rest are dropped (journald
 * drops a whole entry of more than 1024 fields). */
#define LOG_FIELDS_MAX 192

/* -1 quiet (errors only), 0 normal, 1 verbose (debug). */
void log_setup(int verbosity);
void log_set_instance(const char *instance);
void log_set_action(const char *action);

/* The one entry point; the macros below pass the caller's location. FIELDS
 * may be NULL. */
int log_emit_fields(int level, int error, const char *message_id, const char *file, int line,
                    const char *func, const log_field *fields, const char *fmt, ...)
        _printf_(8, 9);

#define log_full(level, error, id, fields, ...)                                                  \
        log_emit_fields((level), (error), (id), __FILE__, __LINE__, __func__, (fields), __VA_ARGS__)

#define log_emit(level, error, id, ...) log_full(level, error, id, NULL, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, 0, MSGID_DEBUG, NULL, __VA_ARGS__)
#define log_info_id(id, ...) log_full(LOG_INFO, 0, id, NULL, __VA_ARGS__)
#define log_notice_id(id, ...) log_full(LOG_NOTICE, 0, id, NULL, __VA_ARGS__)
#define log_warning_id(id, ...) log_full(LOG_WARNING, 0, id, NULL, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, 0, MSGID_FAILED, NULL, __VA_ARGS__)
#define log_error_errno(r, ...) log_full(LOG_ERR, (r), MSGID_FAILED, NULL, __VA_ARGS__)
#define log_error_id(id, ...) log_full(LOG_ERR, 0, id, NULL, __VA_ARGS__)
#define log_error_errno_id(r, id, ...) log_full(LOG_ERR, (r), id, NULL, __VA_ARGS__)
