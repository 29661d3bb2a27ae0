/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* watch.h: waiting for a holder to let go, without polling in a loop.
 *
 * Promises: watch_wait() sleeps in poll() on pidfds of the result's holder
 * processes and on this namespace's /proc/self/mountinfo (which signals
 * POLLPRI on every mount or unmount), so it wakes when a holder exits or the
 * mount table changes, and at the latest after MAX_SEC. Nothing logs. */
#pragma once

#include "probe.h"

/* Returns: 1 woken by an event, 0 timed out, -errno. */
int watch_wait(const probe_result *r, double max_sec);
