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

typedef struct ns_mount {
        uint64_t mnt_id;        /* unique id where known, else mountinfo id */
        uint64_t parent_id;
        dev_t devnum;           /* superblock device */
        char *fstype;
        char *source;
        char *mountpoint;       /* as that namespace sees it */
        char *root;             /* root of the mount within its filesystem */
        char *fs_options;       /* escaped, as in mountinfo */
} ns_mount;

typedef struct mnt_namespace {
        uint64_t ns_id;         /* NS_GET_MNTNS_ID, 0 if the kernel has none */
        ino_t ns_ino;           /* nsfs inode: "mnt:[INO]" as lsns shows it */
        bool init;              /* PID 1's */
        pid_t some_pid;         /* a process in it, or 0 if none was found */
        ns_mount *mounts;       /* the mounts the filter kept */
        size_t n_mounts;
        size_t n_all_mounts;    /* size of the whole table */
} mnt_namespace;

/* An nsfs bind mount of a mount namespace file, found while reading tables:
 * it keeps namespace PINNED_INO alive even with no process in it. */
typedef struct ns_pin {
        ino_t pinned_ino;
        ino_t where_ns_ino;     /* the namespace whose table shows the bind mount */
        char *mountpoint;
} ns_pin;

typedef struct mntns_set {
        mnt_namespace *ns;
        size_t n_ns;
        ns_pin *pins;
        size_t n_pins;
        unsigned n_unreadable;  /* namespaces or processes we could not inspect */
        bool used_statmount;
        /* Where the scan went through /proc anyway: every process and its
         * namespace, as mntns_pid_map() would give them (else n_pids 0). */
        pid_t *pids;
        ino_t *pid_ns;
        size_t n_pids;
} mntns_set;

/* Which mounts to keep: return true to keep M. */
typedef bool (*mount_filter)(const ns_mount *m, void *userdata);

/* Returns: 0 and *ret (free with mntns_set_done), or -errno. */
int mntns_scan(mount_filter filter, void *userdata, mntns_set *ret);
void mntns_set_done(mntns_set *s);

/* Like mntns_scan(), but where tables are read with listmount() it lists
 * only mounts with a unique id of at least MIN_MNT_ID: every copy of a mount
 * (a cloned namespace, a propagated peer), and every nsfs pin of a namespace
 * holding one, is made after the mount itself and gets a later id, so an
 * unmount's ghost check costs what was mounted since, not the size of every
 * table. The mountinfo path reads everything; used_statmount says whether
 * ids are unique (and the bound applied) at all. */
int mntns_scan_from(mount_filter filter, void *userdata, uint64_t min_mnt_id, mntns_set *ret);

/* Open fds on mount namespace files (/proc/PID/fd/N -> "mnt:[INO]") that
 * pin namespace NS_INO. Scans every process's fd table, so callers use it
 * only for namespaces no process is in.
 * Returns: 0 with *ret_pins ("fd:PID:N" strings, NULL-terminated, may be
 * empty), or -errno. */
int mntns_fd_pins(ino_t ns_ino, char ***ret_pins);

/* Every process's mount namespace inode, from /proc (one readlink each).
 * Returns: 0, with *ret_pids and *ret_inos arrays of *ret_n entries (free()), or
 * -errno; *ret_unreadable counts processes we could not look at. */
int mntns_pid_map(pid_t **ret_pids, ino_t **ret_inos, size_t *ret_n, unsigned *ret_unreadable);
