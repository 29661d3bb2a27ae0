/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_class.h: what an unmount in PID 1's namespace does to a copy of
 * the target in another namespace.
 *
 * Promises: decided as the kernel decides (verified on 6.18): an unmount
 * propagates by the parent's propagation to the mount at the same place
 * beneath every mount that receives from the parent (its peers and slaves,
 * through any chain of masters), and never takes one with mounts of its
 * own on it. Where the tables leave that open (a parent unread, a master
 * chain through a namespace not read), the copy is a ghost in waiting:
 * the answer may wrongly say busy, never wrongly free. */
#pragma once

#include "mntns_table.h"
#include "probe.h"

/* What classifying every copy of a scan looks up, sorted once: PID 1's
 * mounts by device, every peer group's master (as the first mount showing
 * the group shows it), so that a status of 1,000 instances costs what it
 * has copies, not copies times PID 1's mounts. */
typedef struct probe_class_index {
        struct probe_class_ent *init_by_dev, *groups;
        size_t n_init, cap_init, n_groups, cap_groups;
} probe_class_index;

/* The index of SET's kept mounts (SET must outlive it).
 * Returns: 0 and *RET (free with probe_class_index_done), or -ENOMEM. */
int probe_class_index_build(const mntns_set *set, probe_class_index *ret);
void probe_class_index_done(probe_class_index *ix);

/* CM, a mount of a copy of a target mounted at PATH in PID 1's namespace
 * (PATH NULL: none), found in namespace NS of SET, IX SET's index.
 * Returns: CM's class or SO_FAR (the copy's other mounts'), the later. */
probe_prop probe_classify(const mntns_set *set, const probe_class_index *ix, size_t ns,
                          const ns_mount *cm, const char *path, probe_prop so_far);

/* The name of P in --json: "init", "receives-unmount", "ghost-in-waiting",
 * "ghost". */
const char *probe_prop_name(probe_prop p);
