/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* saferm.h: emptying instance dirs without ever leaving them.
 *
 * Promises: every lookup beneath a dir fd goes through openat2() with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV (or,
 * without openat2, O_NOFOLLOW opens checked against the parent's st_dev), so
 * a symlink or mount point planted inside Upper, Work or Merged is never
 * followed, crossed or chown'd through: a symlink is unlinked as a symlink, a
 * mount point is refused with -EXDEV and left as it is. Nothing logs; errors
 * come back as -errno with the offending relative path in *ret_where when
 * given (malloc'd). */
#pragma once

#include <sys/types.h>

/* Removes everything beneath DIR_FD (not DIR_FD itself), depth first. Stops at
 * the first entry it cannot remove and returns -errno, with *ret_where set to
 * the entry's path relative to DIR_FD.
 * Returns: 0, or -EXDEV (a mount point beneath), or another -errno. */
int safe_empty_dir(int dir_fd, char **ret_where);

/* Removes NAME (a single component, no '/') beneath DIR_FD, recursively if it
 * is a dir; used for the kernel's d--------- Work/work dir. Missing is fine.
 * Returns: 0 or -errno, *ret_where as above. */
int safe_remove_entry(int dir_fd, const char *name, char **ret_where);
