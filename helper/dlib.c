/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dlib.c: see dlib.h. */
#include <dlfcn.h>

#include "dlib.h"
#include "util.h"

/* What the loaders below dlopen(), for packaging tools that cannot see a
 * dlopen() (systemd.io/ELF_DLOPEN_METADATA): one ELF note per library, owner
 * "FDO", type 0x407c0c0a, a JSON array as its descriptor. debian/dlopen-deps
 * reads them. Every one is "recommended": each caller falls back without it. */
#define DLOPEN_NOTE(id, json)                                                         \
        __attribute__((used, section(".note.dlopen"), aligned(4))) static const struct { \
                uint32_t namesz, descsz, type;                                        \
                char name[4];                                                         \
                char desc[(sizeof(json) + 3) & ~(size_t)3];                           \
        } id = { 4, sizeof(json), 0x407c0c0aU, "FDO", json }

DLOPEN_NOTE(dlopen_note_systemd,
            "[{\"feature\":\"journal\",\"description\":\"structured journal entries, unit names of "
            "holders\",\"priority\":\"recommended\",\"soname\":[\"libsystemd.so.0\"]}]");
DLOPEN_NOTE(dlopen_note_mount,
            "[{\"feature\":\"mount\",\"description\":\"mount tables of kernels without "
            "statmount\",\"priority\":\"recommended\",\"soname\":[\"libmount.so.1\"]}]");
DLOPEN_NOTE(dlopen_note_blkid,
            "[{\"feature\":\"blkid\",\"description\":\"the filesystem of an image "
            "lower\",\"priority\":\"recommended\",\"soname\":[\"libblkid.so.1\"]}]");

struct sym_entry {
        const char *name;
        void **slot;
};

static int load_syms(const char *soname, void **ret_handle, const struct sym_entry *syms, size_t n)
{
        void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!handle)
                return -EOPNOTSUPP;
        for (size_t i = 0; i < n; i++) {
                void *p = dlsym(handle, syms[i].name);
                if (!p) {
                        for (size_t j = 0; j < i; j++)
                                *syms[j].slot = NULL;
                        dlclose(handle);
                        return -EOPNOTSUPP;
                }
                *syms[i].slot = p;
        }
        *ret_handle = handle;
        return 0;
}

int dlib_systemd(const sd_syms **ret)
{
        static sd_syms syms;
        static void *handle;
        static int state; /* 0 untried, 1 loaded, <0 failed */

        if (state == 0) {
                const struct sym_entry table[] = {
                        { "sd_journal_sendv", (void **)&syms.journal_sendv },
                        { "sd_pid_get_unit", (void **)&syms.pid_get_unit },
                        { "sd_pid_get_user_unit", (void **)&syms.pid_get_user_unit },
                };
                int r = load_syms("libsystemd.so.0", &handle, table, ELEMENTSOF(table));
                state = r < 0 ? r : 1;
        }
        if (state < 0)
                return state;
        *ret = &syms;
        return 0;
}

int dlib_mount(const mnt_syms **ret)
{
        static mnt_syms syms;
        static void *handle;
        static int state;

        if (state == 0) {
                const struct sym_entry table[] = {
                        { "mnt_new_table_from_file", (void **)&syms.new_table_from_file },
                        { "mnt_unref_table", (void **)&syms.unref_table },
                        { "mnt_new_iter", (void **)&syms.new_iter },
                        { "mnt_free_iter", (void **)&syms.free_iter },
                        { "mnt_table_next_fs", (void **)&syms.table_next_fs },
                        { "mnt_fs_get_target", (void **)&syms.fs_get_target },
                        { "mnt_fs_get_fstype", (void **)&syms.fs_get_fstype },
                        { "mnt_fs_get_source", (void **)&syms.fs_get_source },
                        { "mnt_fs_get_root", (void **)&syms.fs_get_root },
                        { "mnt_fs_get_vfs_options", (void **)&syms.fs_get_vfs_options },
                        { "mnt_fs_get_id", (void **)&syms.fs_get_id },
                        { "mnt_fs_get_devno", (void **)&syms.fs_get_devno },
                };
                int r = load_syms("libmount.so.1", &handle, table, ELEMENTSOF(table));
                state = r < 0 ? r : 1;
        }
        if (state < 0)
                return state;
        *ret = &syms;
        return 0;
}

int dlib_blkid(const blkid_syms **ret)
{
        static blkid_syms syms;
        static void *handle;
        static int state;

        if (state == 0) {
                const struct sym_entry table[] = {
                        { "blkid_new_probe", (void **)&syms.new_probe },
                        { "blkid_free_probe", (void **)&syms.free_probe },
                        { "blkid_probe_set_device", (void **)&syms.probe_set_device },
                        { "blkid_probe_enable_superblocks", (void **)&syms.probe_enable_superblocks },
                        { "blkid_probe_set_superblocks_flags",
                          (void **)&syms.probe_set_superblocks_flags },
                        { "blkid_do_safeprobe", (void **)&syms.do_safeprobe },
                        { "blkid_probe_lookup_value", (void **)&syms.probe_lookup_value },
                };
                int r = load_syms("libblkid.so.1", &handle, table, ELEMENTSOF(table));
                state = r < 0 ? r : 1;
        }
        if (state < 0)
                return state;
        *ret = &syms;
        return 0;
}
