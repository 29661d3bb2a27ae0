/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* caps.h: dropping to the capabilities a command needs (libcap-ng).
 *
 * Promises: caps_drop() leaves exactly the listed capabilities in the
 * effective and permitted sets (inheritable cleared) and sets no_new_privs,
 * so nothing can be regained; the helper never execs, so the bounding set is
 * left alone. Run without capabilities (a non-root probe) it does nothing. */
#pragma once

enum caps_set {
        CAPS_CHANGE, /* mount, umount, purge: mount, setns, chown, remove; and probe,
                      * whose kernel in-use check makes and cleans overlayfs's dirs */
        CAPS_READ,   /* status: read other processes' /proc entries, setns */
};

/* Returns: 0 or -errno. */
int caps_drop(enum caps_set set);
