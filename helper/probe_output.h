/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_output.h: how probe results look, for people and for programs.
 *
 * Promises: the JSON carries the DESIGN.md keys (target, instance, mounted,
 * free, copies[{mnt_ns, init, mountpoint, pinned_by, processes[{pid, comm,
 * unit, refs}], submounts}]), and per copy "propagation" (probe_prop_name),
 * and "loops" and "swaps"; for a loop device or image "loop_devices",
 * "device_users" and "writers" (lists of strings, empty for any other
 * target) and "device_claimed" (the kernel's answer, null when not asked);
 * per process "tid", the thread that holds on its
 * own (in a namespace of its own, or for an exited leader), else null,
 * shown as "(thread TID)" after the name; the human form starts with a
 * one-line verdict.
 * Both list everything the scan found; only probe_describe() summarises,
 * leaving out copies that receive the unmount and hold nothing. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "probe.h"

/* The copies list as a JSON array. */
void probe_json_copies(FILE *f, const probe_result *r);

/* One JSON object (one line) for a probe of T; AT >= 0 adds "t": seconds
 * since a --watch began. */
void probe_print_json(FILE *f, const probe_target *t, const probe_result *r, double at);

/* The verdict line and the table. */
void probe_print_human(FILE *f, const probe_target *t, const probe_result *r);

/* "held by 2 processes in 1 other mount namespace"-style summary (malloc'd). */
char *probe_verdict(const probe_target *t, const probe_result *r);

/* Who holds it, on one line for a log message: "in PID 1's namespace:
 * 1200 sleep (cwd); a copy in mnt:[4026532301] at /x pinned by bind:/run/x:
 * 1300 bash [foo.service]". Bounded whatever the scan found: at most 8 refs
 * per process, 16 processes per copy, 8 copies besides PID 1's, 8 pins and
 * 8 submounts per copy, each path shortened to 256 bytes; the rest is
 * counted exactly ("and 4,992 more fds", "and 3 more namespaces (5
 * processes in them)"). Returns: malloc'd string, or NULL on OOM. */
char *probe_describe(const probe_result *r);

/* The copies that hold the target: all but those that receive the unmount
 * from PID 1's namespace with nothing of their own in them. */
size_t probe_holding_copies(const probe_result *r);
