/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_proc.h: the /proc ways of mntns_scan(), for mntns.c alone. */
#pragma once

#include "mntns_table.h"

/* The /proc path: see mntns.h. Tables come from listmount()/statmount()
 * when B->statmount, else from mountinfo.
 * Returns: 0, -ENOSYS (only when B->statmount) to try again without, or
 * -errno for failures that are not one process's or namespace's own (out
 * of memory, /proc unreadable). */
int mntns_scan_proc(mntns_builder *b);
