/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* generator.h: overlay-helper-generator, the systemd generator the binary
 * becomes when started under that name (a symlink in
 * systemd's system generator dir, see systemd.generator(7)).
 *
 * Promises: for every instance config CONFIG_DIR/NAME.conf that config_load()
 * accepts, writes NORMAL_DIR/overlay-helper@NAME.service.d/
 * 50-overlay-helper-paths.conf with one RequiresMountsFor= line per path the
 * instance needs mounted before its overlay: each Lower= (an image file too),
 * Upper, Work, the dir Merged is made in (never Merged itself: the unit mounts
 * it), the state dir and the runtime dir, quoted and %-escaped for a unit
 * file. Templates (PREFIX@.conf) get nothing: their instances are not known
 * at boot, and no drop-in dir serves all of PREFIX@*. A config that does not
 * load, or a drop-in that cannot be written, is skipped with one line on
 * stderr (the kernel log, for a generator); the exit status is 0 whatever
 * the configs hold, so that it never fails a boot or a daemon-reload. Part of
 * the commands layer. */
#pragma once

#include <stdbool.h>

/* Returns: true if ARGV0's basename is "overlay-helper-generator". */
bool generator_invoked(const char *argv0);

/* ARGV: the generator's name and its output dirs (normal, early, late: only
 * the first is used; one is enough, for a run by hand).
 * Returns: the exit status: 0, or 2 (EXIT_USAGE) for a wrong number of
 * arguments. */
int generator_main(int argc, char **argv);
