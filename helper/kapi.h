/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kapi.h: kernel interfaces newer than Debian 12's headers (linux-libc-dev
 * 6.1), written from the kernel's UAPI. Every user detects support at run time
 * (ENOSYS, EINVAL, ENOTTY, EOPNOTSUPP, a missing statx mask bit, and EPERM
 * where a seccomp filter that predates the call refuses it, told apart from
 * a privilege check by asking about something of our own), falls back, keeps
 * that decision for the rest of the run and notes it (fallback.h); nothing
 * here is decided at build time. */
#pragma once

#include <linux/ioctl.h>
#include <linux/types.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_statmount
#define __NR_statmount 457
#endif
#ifndef __NR_listmount
#define __NR_listmount 458
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U /* 6.8 */
#endif
#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

/* Version 1 of the request: mnt_ns_id (6.11) names a foreign namespace. */
struct oh_mnt_id_req {
        __u32 size;
        __u32 spare;
        __u64 mnt_id;
        __u64 param;
        __u64 mnt_ns_id;
};
#define OH_MNT_ID_REQ_SIZE_VER0 24
#define OH_MNT_ID_REQ_SIZE_VER1 32

struct oh_statmount {
        __u32 size;
        __u32 mnt_opts; /* [str] 6.11 */
        __u64 mask;
        __u32 sb_dev_major;
        __u32 sb_dev_minor;
        __u64 sb_magic;
        __u32 sb_flags;
        __u32 fs_type; /* [str] */
        __u64 mnt_id;
        __u64 mnt_parent_id;
        __u32 mnt_id_old;
        __u32 mnt_parent_id_old;
        __u64 mnt_attr;
        __u64 mnt_propagation;
        __u64 mnt_peer_group;
        __u64 mnt_master;
        __u64 propagate_from;
        __u32 mnt_root;  /* [str] */
        __u32 mnt_point; /* [str] */
        __u64 mnt_ns_id;
        __u32 fs_subtype; /* [str] 6.13 */
        __u32 sb_source;  /* [str] 6.13 */
        __u32 opt_num;
        __u32 opt_array;
        __u32 opt_sec_num;
        __u32 opt_sec_array;
        __u64 __spare2[46];
        char str[];
};

#define OH_STATMOUNT_SB_BASIC     0x00000001U
#define OH_STATMOUNT_MNT_BASIC    0x00000002U
#define OH_STATMOUNT_PROPAGATE_FROM 0x00000004U
#define OH_STATMOUNT_MNT_ROOT     0x00000008U
#define OH_STATMOUNT_MNT_POINT    0x00000010U
#define OH_STATMOUNT_FS_TYPE      0x00000020U
#define OH_STATMOUNT_MNT_NS_ID    0x00000040U
#define OH_STATMOUNT_MNT_OPTS     0x00000080U
#define OH_STATMOUNT_SB_SOURCE    0x00000200U

#define OH_LSMT_ROOT 0xffffffffffffffffULL

/* statmount()'s mnt_propagation holds these MS_* flags (<sys/mount.h>,
 * which clashes with <linux/mount.h>). */

/* statmount()'s sb_magic of the filesystems a scan looks for (<linux/magic.h>) */
#define OH_OVERLAYFS_SUPER_MAGIC 0x794c7630U
#define OH_NSFS_MAGIC            0x6e736673U

/* nsfs ioctls */
#define OH_NSIO 0xb7
#define OH_NS_GET_MNTNS_ID _IOR(OH_NSIO, 0x5, __u64) /* 6.8 */
struct oh_mnt_ns_info {
        __u32 size;
        __u32 nr_mounts;
        __u64 mnt_ns_id;
};
#define OH_MNT_NS_INFO_SIZE_VER0 16
#define OH_NS_MNT_GET_INFO _IOR(OH_NSIO, 10, struct oh_mnt_ns_info) /* 6.12 */
#define OH_NS_MNT_GET_NEXT _IOR(OH_NSIO, 11, struct oh_mnt_ns_info)
#define OH_NS_MNT_GET_PREV _IOR(OH_NSIO, 12, struct oh_mnt_ns_info)

static inline long oh_statmount(__u64 mnt_id, __u64 mnt_ns_id, __u64 mask,
                                struct oh_statmount *buf, size_t bufsize)
{
        struct oh_mnt_id_req req = {
                .size = mnt_ns_id ? OH_MNT_ID_REQ_SIZE_VER1 : OH_MNT_ID_REQ_SIZE_VER0,
                .mnt_id = mnt_id,
                .param = mask,
                .mnt_ns_id = mnt_ns_id,
        };
        return syscall(__NR_statmount, &req, buf, bufsize, 0);
}

static inline long oh_listmount(__u64 mnt_id, __u64 mnt_ns_id, __u64 last_mnt_id,
                                __u64 *list, size_t n)
{
        struct oh_mnt_id_req req = {
                .size = mnt_ns_id ? OH_MNT_ID_REQ_SIZE_VER1 : OH_MNT_ID_REQ_SIZE_VER0,
                .mnt_id = mnt_id,
                .param = last_mnt_id,
                .mnt_ns_id = mnt_ns_id,
        };
        return syscall(__NR_listmount, &req, list, n, 0);
}

#include <sys/ioctl.h>
/* PROCMAP_QUERY (6.11), from the kernel's UAPI <linux/fs.h>. */
struct oh_procmap_query {
        uint64_t size;
        uint64_t query_flags;
        uint64_t query_addr;
        uint64_t vma_start;
        uint64_t vma_end;
        uint64_t vma_flags;
        uint64_t vma_page_size;
        uint64_t vma_offset;
        uint64_t inode;
        uint32_t dev_major;
        uint32_t dev_minor;
        uint32_t vma_name_size;
        uint32_t build_id_size;
        uint64_t vma_name_addr;
        uint64_t build_id_addr;
};
#define OH_PROCMAP_QUERY _IOWR('f', 17, struct oh_procmap_query)
#define OH_PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#define OH_PROCMAP_QUERY_FILE_BACKED_VMA 0x20

