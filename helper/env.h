/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* env.h: the OVERLAY_HELPER_* switches, read in one place.
 *
 * Promises: each switch turns one kernel fast path off so tests (and an
 * operator chasing a kernel bug) can run the fallback the older kernels
 * take. A switch is on only when its variable is exactly "1"; anything else,
 * or unset, leaves the fast path on. Read once, with secure_getenv(), so a
 * setuid or file-capability caller's environment never steers it. Nothing
 * here logs. docs/HACKING.md lists them. */
#pragma once

#include <stdbool.h>

typedef enum env_switch {
        ENV_NO_STATMOUNT,      /* statmount()/listmount()/NS_MNT_GET_NEXT: use /proc and mountinfo */
        ENV_NO_PROCMAP_QUERY,  /* PROCMAP_QUERY: parse /proc/PID/maps */
        ENV_NO_LAYER_FDS,      /* FSCONFIG_SET_FD layers: pass lowerdir+ strings */
        ENV_NO_NEW_MOUNT_API,  /* fsopen()/fsconfig(): use mount(2) */
        ENV_NO_OPENAT2,        /* openat2() RESOLVE_*: O_NOFOLLOW opens checked by hand */
        _ENV_SWITCH_MAX,
} env_switch;

/* Returns: true if the switch's variable is "1". */
bool env_flag(env_switch sw);
