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
         * remove entries owned by anyone and enter the d--------- work dir;
         * the read-only verbs need that only for the kernel check. */
        if (capng_updatev(CAPNG_ADD,
                          set == CAPS_CHANGE ? CAPNG_EFFECTIVE | CAPNG_PERMITTED : CAPNG_PERMITTED,
                          CAP_CHOWN, CAP_FOWNER, CAP_DAC_OVERRIDE, -1) < 0)
                return -EINVAL;
        /* The writer check of an image (a mount's, a probe's) takes a read
         * lease on a file root may not own (image.h): it changes nothing. */
        if (capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_LEASE, -1) < 0)
                return -EINVAL;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();
        if (capng_apply(CAPNG_SELECT_CAPS) < 0)
                return -EPERM;
        return 0;
}

static const int check_caps[] = { CAP_CHOWN, CAP_FOWNER, CAP_DAC_OVERRIDE };

/* Raw capget()/capset(): two syscalls, where libcap-ng would re-read
 * /proc/self/status. */
static int set_effective(uint64_t bits, bool on, uint64_t *ret_changed)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = { 0 };
        uint64_t eff, perm, changed;

        if (syscall(SYS_capget, &hdr, data) < 0)
                return negative_errno();
        eff = data[0].effective | (uint64_t)data[1].effective << 32;
        perm = data[0].permitted | (uint64_t)data[1].permitted << 32;
        changed = on ? bits & perm & ~eff : bits & eff;
        if (!changed)
                return 0;
        eff = on ? eff | changed : eff & ~changed;
        data[0].effective = (uint32_t)eff;
        data[1].effective = (uint32_t)(eff >> 32);
        if (syscall(SYS_capset, &hdr, data) < 0)
                return negative_errno();
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

int caps_raise_check(uint64_t *ret_raised)
{
        uint64_t bits = 0;

        *ret_raised = 0;
        for (size_t i = 0; i < ELEMENTSOF(check_caps); i++)
                bits |= 1ULL << check_caps[i];
        return set_effective(bits, true, ret_raised);
}

void caps_lower_check(uint64_t raised)
{
        (void)set_effective(raised, false, NULL);
}
