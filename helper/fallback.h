/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fallback.h: which kernel fast paths this run went without, and why.
 *
 * Promises: fallback_note() records that FEATURE (a syscall, ioctl or flag
 * name such as "statmount" or "PROCMAP_QUERY") was given up for the rest of
 * the run, with the errno that decided it: positive or negative, stored
 * positive; 0 means an OVERLAY_HELPER_NO_* switch turned it off. Each
 * (feature, errno) pair is kept once, in static storage, and at most
 * FALLBACK_NOTES_MAX of them: it never allocates, never fails and never
 * logs, so any module may call it at the point it decides. The commands
 * layer walks the notes once with fallback_notes_foreach() and logs them at
 * debug level. */
#pragma once

#define FALLBACK_NOTES_MAX 16

void fallback_note(const char *feature, int err);

/* Calls FN for each note, oldest first, with ERR positive (0: switched off). */
void fallback_notes_foreach(void (*fn)(const char *feature, int err, void *userdata),
                            void *userdata);
