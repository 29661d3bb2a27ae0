/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* safedir.h: opening and making instance dirs without following a symlink
 * in their last component.
 *
 * Promises: safe_open_dir() and safe_mkdir_path() hand back an O_DIRECTORY
 * fd of exactly the dir named, never of what a symlink planted there points
 * to (-ELOOP); a dir made here is 0700 until its owner and mode are set, so
 * it is never open to others with the wrong owner. Parents are the admin's
 * business: symlinks in them are followed, missing ones are made 0755.
 * Nothing logs; errors come back as -errno. */
#pragma once

#include <sys/types.h>

/* Opens absolute PATH as an O_DIRECTORY fd. Refuses (-ELOOP) when PATH itself
 * is a symlink.
 * Returns: fd >= 0, or -errno. */
int safe_open_dir(const char *path);

/* Makes PATH (absolute) and any missing parents. Parents are made 0755
 * root-owned; PATH itself, only if it is created here, gets UID:GID and MODE.
 * An existing PATH that is a symlink or not a dir is refused (-ELOOP,
 * -ENOTDIR). *ret_created says whether PATH was made by this call.
 * Returns: fd of PATH (O_DIRECTORY) >= 0, or -errno. */
int safe_mkdir_path(const char *path, uid_t uid, gid_t gid, mode_t mode, int *ret_created);

/* Returns: the highest ancestor of absolute PATH (not PATH itself) that does
 * not exist yet (malloc'd), or NULL when PATH's parent exists: what
 * safe_mkdir_path() will make, so a failed setup can undo exactly that. */
char *safe_missing_parent(const char *path);

/* Removes the parents of PATH, bottom up, up to and including TOP, while
 * they are empty: the undo of what safe_mkdir_path() made. */
void safe_rmdir_parents(const char *path, const char *top);

/* Whether only root may replace what absolute PATH names with another dir
 * (or a symlink): that takes write access to a dir on its way (its parent,
 * or any above, whose entry could be renamed), and in a sticky one being the
 * entry's or the dir's owner. Judged by owners and mode bits (ACLs are not
 * read); the dirs are looked up as a path would be.
 * Returns: 1 only root may, 0 others may too, -errno. */
int safe_entry_root_only(const char *path);
