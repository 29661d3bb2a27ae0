/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mountsrc.h: which mounts in this namespace carry a given source prefix.
 *
 * Promises: one read of /proc/self/mountinfo; the source field is decoded
 * (mountinfo's octal escapes) before it is compared. Nothing here logs. */
#pragma once

/* Every mount whose fstype is FSTYPE and whose source starts with PREFIX:
 * the rest of each source, e.g. "web" for "overlay-helper:web".
 * Returns: 0 and a NULL-terminated *ret (strv_free; may be empty), -errno. */
int mountsrc_list(const char *fstype, const char *prefix, char ***ret);
