/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* caps.c: see caps.h. */
#include <cap-ng.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "caps.h"
#include "util.h"

/* Only the effective and permitted sets: the bounding set matters for what
 * an exec could regain, and we never exec and set no_new_privs; dropping it
 * cap by cap costs ~40 prctl() calls and a quarter of a millisecond, more than
 * a whole mount. */
int caps_drop(enum caps_set set)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = { 0 };

        if (syscall(SYS_capget, &hdr, data) < 0)
                return negative_errno();
        if (!data[0].effective && !data[1].effective)
                return 0; /* a non-root probe: nothing to drop */

        capng_clear(CAPNG_SELECT_CAPS);
        /* CAP_SYS_ADMIN and CAP_SYS_CHROOT: setns() into PID 1's mount
         * namespace needs both, and mount/umount/statmount of foreign
         * namespaces need the first. CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH:
         * reading other processes' cwd, root, fds and maps. */
        if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SYS_ADMIN,
                          CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, -1) < 0)
                return -EINVAL;
        /* Changing state also needs to make dirs owned by the configured user,
         * remove entries owned by anyone and enter the d--------- work dir. */
        if (set == CAPS_CHANGE &&
            capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_CHOWN, CAP_FOWNER,
                          CAP_DAC_OVERRIDE, -1) < 0)
                return -EINVAL;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        if (capng_apply(CAPNG_SELECT_CAPS) < 0)
                return -EPERM;
        return 0;
}
