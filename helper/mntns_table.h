/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mntns_table.h: the set of mount namespaces mntns_scan() returns, and the
 * builder both of its ways (mntns.c, mntns_proc.c) fill it with.
 *
 * Promises: a builder appends namespaces, mounts and pins to one mntns_set;
 * every mount it is shown is counted, an nsfs bind mount of a mount
 * namespace file is recorded as a pin whatever the filter says, and only the
 * mounts the filter accepts are copied. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "kapi.h"

/* A mount's propagation, as mountinfo's optional fields and statmount()
 * give it; peer group ids are the same in both. */
typedef struct ns_prop {
        uint64_t peer_group;    /* "shared:N": its peer group, 0 when not shared */
        uint64_t master;        /* "master:N": the group it receives from, 0 if not a slave */
        /* statmount() only: the nearest group on its master chain with a
         * member in the reader's namespace, 0 if none or unknown (mountinfo's
         * "propagate_from:" is relative to the read process's root, not ours) */
        uint64_t propagate_from;
} ns_prop;

typedef struct ns_mount {
        uint64_t mnt_id;        /* unique id where known, else mountinfo id */
        uint64_t parent_id;
        dev_t devnum;           /* superblock device */
        char *fstype;
        char *source;
        char *mountpoint;       /* as that namespace sees it */
        char *root;             /* root of the mount within its filesystem */
        char *fs_options;       /* escaped, as in mountinfo */
        ns_prop prop;
        /* Of a kept mount only, once its table is read: an unmount propagates
         * by the parent's propagation (the child at the same place beneath
         * each mount receiving from the parent), and never takes a mount
         * with children of its own. */
        ns_prop parent_prop;
        bool parent_known;      /* parent_prop was read */
        unsigned n_children;    /* mounts on it, in the whole table */
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

/* One (device, mount id) an open fd is on, as the /proc walk statx()ed it;
 * mnt_id is 0 where statx() gave none, unique when used_statmount. */
typedef struct mntns_fd_ref {
        dev_t devnum;
        uint64_t mnt_id;
} mntns_fd_ref;

/* What the /proc walk kept of process PID's fd tables (its own and every
 * thread's own): fd_refs[first .. first + n), each (device, mount) once.
 * A process with a table the walk could not read has no record. */
typedef struct mntns_fd_record {
        pid_t pid;
        unsigned n_threads;     /* at the walk (INT_MAX: not known) */
        size_t first, n;
} mntns_fd_record;

typedef struct mntns_set {
        mnt_namespace *ns;
        size_t n_ns;
        ns_pin *pins;
        size_t n_pins;
        unsigned n_unreadable;  /* namespaces or processes we could not inspect */
        bool used_statmount;
        /* Where the scan went through /proc anyway: every process and its
         * namespace, as mntns_pid_map() would give them (else n_pids 0);
         * tids[i] is 0 for the process itself, else its thread listed on
         * its own (see mntns_for_each_pid_ns). */
        pid_t *pids;
        pid_t *tids;
        ino_t *pid_ns;
        size_t n_pids;
        /* and what it kept of every fd table, sorted by pid */
        mntns_fd_record *fd_records;
        size_t n_fd_records;
        mntns_fd_ref *fd_refs;
        size_t n_fd_refs;
} mntns_set;

/* Which mounts to keep: return true to keep M. */
typedef bool (*mount_filter)(const ns_mount *m, void *userdata);

/* Where a mount point lies against the paths a filter keeps mounts beneath. */
typedef enum mount_place {
        MOUNT_PLACE_APART,      /* neither beneath one nor on the way to one */
        MOUNT_PLACE_ABOVE,      /* one of them, or a dir on the way to one */
        MOUNT_PLACE_BENEATH,    /* beneath one */
} mount_place;

/* What spares a table read with statmount() the strings (~2/3 of each
 * call) of mounts the filter cannot keep. Its promise: the filter keeps a
 * mount only if wants_sb() says yes to its superblock, or place() says
 * BENEATH of its mount point; and place() answers by path components, so
 * that what extends an APART (BENEATH) point is APART (BENEATH) too. The
 * kernel builds a mount point from its parent's, so a mount on an APART or
 * BENEATH parent takes the parent's place unread: only those on an ABOVE
 * parent (or one not read) are asked for their mount point first. */
typedef struct mount_prefilter {
        bool (*wants_sb)(dev_t devnum, uint64_t magic, void *userdata);
        mount_place (*place)(const char *mountpoint, void *userdata);
} mount_prefilter;

void mntns_set_done(mntns_set *s);

typedef struct mntns_builder {
        mntns_set set;
        mount_filter filter;
        const mount_prefilter *pre; /* NULL: every mount's strings are read */
        uint64_t last_need;     /* what the last mount read needed (statmount's mask) */
        void *userdata;
        ino_t init_ino;         /* PID 1's namespace, 0 if we may not look */
        bool statmount;         /* tables are read with listmount()/statmount() */
        struct oh_statmount *sm; /* statmount()'s buffer, shared by all calls */
        size_t sm_size;
        /* Tables read with listmount() list only mounts with a unique id of
         * at least this. Safe for ghost hunting on every path: a copy, and
         * any nsfs pin of a namespace holding one, was made after the
         * original mount, so both have later ids. */
        uint64_t min_mnt_id;
        /* Every mount of the table being read (kept or not), to give the
         * kept ones their parent's propagation and their children. */
        struct mntns_link *links;
        size_t n_links, cap_links;
} mntns_builder;

/* Frees what the builder B holds besides its set. */
void mntns_builder_done(mntns_builder *b);

/* Grows ARRAY of N entries of SIZE bytes when it is full.
 * Returns: 0, or -ENOMEM. */
int mntns_grow(void **array, size_t n, size_t size);

/* Returns: the index of a new namespace with no mounts, or -ENOMEM. */
int mntns_add_ns(mntns_builder *b, ino_t ns_ino, uint64_t ns_id, pid_t some_pid);

/* Reads the table of namespace INO (id NS_ID) with listmount() and
 * statmount() into a new entry; a table we may not read is counted.
 * Returns: the entry's index, -ENOSYS when the kernel cannot (before 6.11:
 * no mnt_ns_id in the request), -errno. */
int mntns_read_table(mntns_builder *b, ino_t ino, uint64_t ns_id, pid_t some_pid);

/* Reads mountinfo lines from F into entry NS; a line we cannot parse is
 * skipped. Like mntns_read_table(), it then sets each kept mount's
 * parent_prop and n_children. Returns: 0, or -ENOMEM. */
int mntns_parse_mountinfo(FILE *f, mntns_builder *b, int ns);

/* M's strings are borrowed; a kept mount gets copies.
 * Returns: 0, or -ENOMEM. */
int mntns_add_mount(mntns_builder *b, size_t ns, const ns_mount *m);

/* Returns: true and *ret for a link or nsfs root "mnt:[INO]". */
bool mntns_parse_link(const char *s, ino_t *ret);

