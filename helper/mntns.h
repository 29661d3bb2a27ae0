/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns.h: every mount namespace on the system, and what each has mounted.
 *
 * Promises: mntns_scan() finds every mount namespace, including ones no
 * process is in (kept alive by an nsfs bind mount or an open fd), reads each
 * namespace's mount table exactly once, and keeps only the mounts a caller's
 * filter accepts. Where the kernel has them (6.12) it walks namespaces with
 * NS_MNT_GET_NEXT and reads tables with listmount()/statmount(), so its cost
 * does not depend on the number of processes; otherwise (an older kernel,
 * a seccomp filter that refuses the calls or ioctl(), no CAP_SYS_ADMIN), or
 * with OVERLAY_HELPER_NO_STATMOUNT=1, it dedupes /proc/PID/ns/mnt and parses one
 * /proc/PID/mountinfo per namespace, finding process-less namespaces through
 * the nsfs bind mounts and fds that pin them. Processes that vanish mid-scan
 * are skipped quietly; what could not be read is counted, not fatal. A way
 * the kernel refused once is not tried again in the run, and noted
 * (fallback.h). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "mntns_pids.h"   /* mntns_fd_pins, mntns_pid_map */
#include "mntns_table.h"  /* the set and its types */

/* Returns: 0 and *ret (free with mntns_set_done), or -errno. */
int mntns_scan(mount_filter filter, void *userdata, mntns_set *ret);

/* Like mntns_scan(), but where tables are read with listmount() it lists
 * only mounts with a unique id of at least MIN_MNT_ID: every copy of a mount
 * (a cloned namespace, a propagated peer), and every nsfs pin of a namespace
 * holding one, is made after the mount itself and gets a later id, so an
 * unmount's ghost check costs what was mounted since, not the size of every
 * table. The mountinfo path reads everything; used_statmount says whether
 * ids are unique (and the bound applied) at all. */
int mntns_scan_from(mount_filter filter, void *userdata, uint64_t min_mnt_id, mntns_set *ret);

/* Like mntns_scan_from(), and where tables are read with statmount() the
 * mounts PRE (see mount_prefilter) rules out are counted from their
 * numbers alone, their strings never asked for: a table costs ~1/3 of a
 * full read. The same mounts are kept as without PRE (NULL: everything is
 * read), and the mountinfo path, which reads every string anyway, ignores it. */
int mntns_scan_prefiltered(mount_filter filter, const mount_prefilter *pre, void *userdata,
                           uint64_t min_mnt_id, mntns_set *ret);
