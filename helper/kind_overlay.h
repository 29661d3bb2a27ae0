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

/* The kernel's answer (overlay_in_use) for CFG's Upper and Work; with
 * neither there, nothing uses them. The caller holds ovl_check_lock().
 * Returns: 1 in use, 0 not marked (scan as well: overlay.h), -errno when
 * the answer is unknown. */
int ovl_kernel_in_use(const overlay_config *cfg);

/* The lock every helper run holds around a kernel check, and a mount around
 * its check and the mount itself: a check's superblock holds the in-use
 * mark while it lives, so a mount made meanwhile would get none, and the
 * check's clean-up would take its Work/work.
 * Returns: lock fd (lock_release() it), -EBUSY with *ret_holder, -errno. */
int ovl_check_lock(const char *runtime_dir, double wait_sec, pid_t *ret_holder);
void ovl_check_unlock(const char *runtime_dir, int fd);

/* ovl_kernel_in_use() under the check lock, waited for up to a second.
 * Returns: as ovl_kernel_in_use(), -EAGAIN when another run holds the lock. */
int ovl_kernel_in_use_locked(const engine_env *env, const overlay_config *cfg);

/* The kernel's answer once more, after a short pause, for a "busy" that
 * only the kernel gave (the scan found no copy), before it becomes an exit
 * 3: a superblock being torn down (its last mount just unmounted in another
 * namespace, a lazily detached tree whose last user just left) holds the
 * mark for a moment after the last mount is gone. Once per run: bounded.
 * HAVE_LOCK: the caller holds ovl_check_lock(); else it is taken here.
 * Returns: as ovl_kernel_in_use(), -EAGAIN as ovl_kernel_in_use_locked(). */
int ovl_kernel_recheck(const engine_env *env, const overlay_config *cfg, bool have_lock);

/* Fills F for M, a mount on Merged that is not this instance's overlay.
 * Returns: -EEXIST. */
int ovl_fail_foreign(inst_failure *f, const overlay_config *cfg, const mount_entry *m);

int ovl_mount(inst_run *run, inst_failure *f);
int ovl_umount(inst_run *run, inst_failure *f);
int ovl_purge(inst_run *run, inst_failure *f);
