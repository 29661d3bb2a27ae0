/* mntns_proc.h: what mntns.c (set building, the statmount path) and
 * mntns_proc.c (the /proc path) share. No other module includes this.
 *
 * Promises: a builder appends namespaces, mounts and pins to one mntns_set;
 * every mount it is shown is counted, an nsfs bind mount of a mount
 * namespace file is recorded as a pin whatever the filter says, and only the
 * mounts the filter accepts are copied. */
#pragma once

#include <stdio.h>

#include "kapi.h"
#include "mntns.h"

typedef struct mntns_builder {
        mntns_set set;
        mount_filter filter;
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
} mntns_builder;

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
 * skipped. Returns: 0, or -ENOMEM. */
int mntns_parse_mountinfo(FILE *f, mntns_builder *b, int ns);

/* M's strings are borrowed; a kept mount gets copies.
 * Returns: 0, or -ENOMEM. */
int mntns_add_mount(mntns_builder *b, size_t ns, const ns_mount *m);

/* Returns: true and *ret for a link or nsfs root "mnt:[INO]". */
bool mntns_parse_link(const char *s, ino_t *ret);

/* The /proc path: see mntns.h. Tables come from listmount()/statmount()
 * when B->statmount, else from mountinfo.
 * Returns: 0, -ENOSYS (only when B->statmount) to try again without, or
 * -errno for failures that are not one process's or namespace's own (out
 * of memory, /proc unreadable). */
int mntns_scan_proc(mntns_builder *b);
