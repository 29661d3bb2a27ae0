/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.h: the engine's events and failures, as log lines and exit codes.
 *
 * Promises: one log line per event and one per failure, worded here and
 * nowhere else, each naming the operation, the path and the error, and the
 * fix where there is one; report_exit_status() is the one map from an
 * engine result to DESIGN.md's exit codes. Part of the commands layer. */
#pragma once

#include "engine.h"

/* An engine_env.on_event callback. */
void report_event(const inst_event *ev, void *userdata);

/* Logs why ACTION ("mount", ...) on instance NAME stopped. */
void report_failure(const char *action, const char *name, const inst_failure *f);

/* Returns: EXIT_OK for R >= 0, else the exit status F's step calls for. */
int report_exit_status(int r, const inst_failure *f);
