/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* env.c: see env.h. */
#include "env.h"
#include "util.h"

static const char *const names[_ENV_SWITCH_MAX] = {
        [ENV_NO_STATMOUNT] = "OVERLAY_HELPER_NO_STATMOUNT",
        [ENV_NO_PROCMAP_QUERY] = "OVERLAY_HELPER_NO_PROCMAP_QUERY",
        [ENV_NO_LAYER_FDS] = "OVERLAY_HELPER_NO_LAYER_FDS",
        [ENV_NO_NEW_MOUNT_API] = "OVERLAY_HELPER_NO_NEW_MOUNT_API",
        [ENV_NO_OPENAT2] = "OVERLAY_HELPER_NO_OPENAT2",
};

/* -1 unread, 0 off, 1 on */
static signed char state[_ENV_SWITCH_MAX] = { -1, -1, -1, -1, -1 };

bool env_flag(env_switch sw)
{
        if (sw < 0 || sw >= _ENV_SWITCH_MAX)
                return false;
        if (state[sw] < 0) {
                const char *v = secure_getenv(names[sw]);
                state[sw] = v && streq(v, "1");
        }
        return state[sw] > 0;
}
