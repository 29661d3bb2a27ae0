/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* caps.h: dropping to the capabilities a command needs (libcap-ng).
 *
 * Promises: caps_drop() leaves exactly the listed capabilities in the
 * effective and permitted sets (inheritable cleared; CAPS_READ keeps the
 * kernel check's few permitted only) and sets no_new_privs,
 * so nothing can be regained; the helper never execs, so the bounding set is
 * left alone. Run without capabilities (a non-root probe) it does nothing. */
#pragma once

#include <stdint.h>

enum caps_set {
        CAPS_CHANGE, /* mount, umount, purge: mount, setns, chown, remove */
        CAPS_READ,   /* status, probe: read other processes' /proc entries, setns;
                      * what the kernel in-use check adds is kept permitted, not
                      * effective, for caps_raise_check() */
};

/* Returns: 0 or -errno. */
int caps_drop(enum caps_set set);

/* The kernel's in-use check makes (and takes away again) a superblock on
 * an instance's Upper and Work: overlayfs makes its work dir with our
 * credentials and we remove it, which needs CAPS_CHANGE's extra
 * capabilities. Raises those of them that are permitted but not effective
 * into the effective set, for the check alone; caps_lower_check(*ret_raised)
 * drops exactly those again, so a CAPS_CHANGE run loses nothing.
 * Returns: 0 (nothing to raise is not an error), or -errno. */
int caps_raise_check(uint64_t *ret_raised);
void caps_lower_check(uint64_t raised);
