/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs.h: the commands, one function each, and the exit codes.
 *
 * Promises: a verb takes the parsed command line, calls the engine (or the
 * scanner, for probe) and reports: it is the only code that logs, once per
 * action, and the only code that knows exit codes, which main() returns. */
#pragma once

#include "cli.h"
#include "engine.h"

enum {
        EXIT_OK = 0,     /* done, or nothing to do */
        EXIT_FAILED = 1, /* a call failed: the message names it, the path, the error */
        EXIT_USAGE = 2,  /* bad usage, instance name or config */
        EXIT_BUSY = 3,   /* something still holds the target */
};

/* The engine's view of the command line; events go to report_event(). */
engine_env verb_engine_env(const cli_args *args);

int verb_mount(const cli_args *args);
int verb_umount(const cli_args *args);
int verb_purge(const cli_args *args);
int verb_status(const cli_args *args);
int verb_probe(const cli_args *args);
