/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ns.h: staying in, or moving into, PID 1's mount namespace.
 *
 * Promises: ns_enter_pid1_mnt() compares our mount namespace with PID 1's
 * by the nsfs inode and, when they differ, joins PID 1's with setns() before
 * the caller touches any path; it never changes any other namespace. It does
 * not log: the caller warns when it returns 1. */
#pragma once

/* Returns: 0 already in PID 1's mount namespace, 1 moved into it, -errno
 * (e.g. -EPERM without CAP_SYS_ADMIN/CAP_SYS_CHROOT). */
int ns_enter_pid1_mnt(void);

/* Returns: 1 if we share PID 1's mount namespace, 0 if not, -errno. */
int ns_in_pid1_mnt(void);
