/* caps.c: see caps.h. */
#include <cap-ng.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "util.h"

int caps_drop(enum caps_set set)
{
        if (capng_get_caps_process() < 0)
                return -EIO;
        if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
                return 0;

        capng_clear(CAPNG_SELECT_BOTH);
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
        if (capng_apply(CAPNG_SELECT_BOTH) < 0)
                return -EPERM;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        return 0;
}
