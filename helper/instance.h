/* instance.h: what every state-changing verb does before and after its work.
 *
 * Promises: instance_begin() checks the name, drops capabilities, moves into
 * PID 1's mount namespace (warning with the fix when it had to), loads the
 * config there and takes the instance lock, in that order, logging whatever
 * stops it and returning the exit status to use; on EXIT_OK the caller owns
 * RUN and must call instance_end(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

typedef struct instance_run {
        const char *name;
        overlay_config *cfg;
        int lock_fd;
} instance_run;

int instance_begin(const char *name, double wait_sec, bool take_lock, instance_run *run);

/* Releases the lock (removing its file when UNLINK_LOCK: the instance is
 * down) and frees the config. */
void instance_end(instance_run *run, bool unlink_lock);

/* The overlay this helper last mounted for the instance, by unique mount
 * id, kept in RUNTIME_DIR/INSTANCE.mounted until an unmount has confirmed
 * that no copy is left anywhere. While it names the mount being dealt with,
 * any ghost must be a copy of that mount, so scans can skip older mounts;
 * otherwise (a mount made by hand, a record lost) they read everything.
 * Returns: 0 and *ret_mnt_id, or -ENOENT. */
int instance_record_read(const char *name, uint64_t *ret_mnt_id);
/* Returns: 0 or -errno. */
int instance_record_write(const char *name, uint64_t mnt_id);
void instance_record_remove(const char *name);

/* Logs why NAME is not a valid instance name. Returns: EXIT_USAGE. */
int log_bad_name(const char *name);

/* Logs a config_load() failure. Returns: the exit status for it. */
int log_config_error(int r, const char *error);

#include "probe.h"
/* Fills T for an instance: Merged as the path and its layers (resolved) to
 * recognise copies; devnum stays 0 (callers that know the superblock set it).
 * Returns: 0 or -ENOMEM. */
int probe_target_for_instance(const overlay_config *cfg, probe_target *ret);

/* Scans every mount namespace for CFG's overlay: by superblock when DEVNUM
 * is known, and always by its Upper and Work dirs; MIN_MNT_ID as above.
 * Returns: 0 and *ret, or -errno. */
int probe_instance(const overlay_config *cfg, dev_t devnum, uint64_t min_mnt_id,
                   probe_result *ret);
