/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kind_overlay.h: what the overlay kind's files (kind_overlay.c,
 * overlay_setup.c, overlay_teardown.c) share; nothing else includes it.
 *
 * Promises: the spec handed to overlay.c, the probe target copies of an
 * instance are recognised by, and the scan for them, in one place. */
#pragma once

#include "kind.h"
#include "overlay.h"

/* The layers and options of CFG as overlay.c takes them (borrowed). */
overlay_spec ovl_spec(const overlay_config *cfg);

/* Fills T for an instance: Merged as the path and its layers (resolved, as
 * the kernel shows them) to recognise copies after the unmount; DEVNUM and
 * MIN_MNT_ID as probe_target says. Returns: 0 or -ENOMEM. */
int ovl_probe_target(const overlay_config *cfg, dev_t devnum, uint64_t min_mnt_id,
                     probe_target *ret);

/* Scans every mount namespace for CFG's overlay: by superblock when DEVNUM
 * is known, and always by its Upper and Work dirs.
 * Returns: 0 and *ret, or -errno. */
int ovl_scan(const overlay_config *cfg, dev_t devnum, uint64_t min_mnt_id, probe_result *ret);

/* The kernel's answer (overlay_in_use) for CFG's Upper and Work: an Upper
 * that does not exist is in use by nothing; without Work it is unknown.
 * Returns: 1 in use, 0 free, -errno when the kernel's answer is unknown. */
int ovl_kernel_in_use(const overlay_config *cfg);

int ovl_mount(inst_run *run, inst_failure *f);
int ovl_umount(inst_run *run, inst_failure *f);
int ovl_purge(inst_run *run, inst_failure *f);
