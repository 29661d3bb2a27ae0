/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inst.h: the words the engine, the instance kinds and the commands layer
 * share: what a run was told (engine_env), what it did (inst_event), where
 * it stopped (inst_failure), and what status shows (inst_status).
 *
 * Promises: plain data and the functions that fill and free it (inst.c);
 * nothing here acts on the system. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "mounttab.h"
#include "probe.h"

/* What happened, for the log: the commands layer turns each into a line. */
typedef enum inst_event_kind {
        IEV_NS_JOINED,       /* started outside PID 1's mount namespace; joined it */
        IEV_DIR_CREATED,     /* WHAT dir PATH was made */
        IEV_ALREADY_MOUNTED, /* mount: mounted with the same layers already */
        IEV_MOUNTED,
        IEV_UNMOUNTED,       /* one overlay taken off Merged */
        IEV_NOT_MOUNTED,     /* umount: there was nothing to unmount */
        IEV_WORK_CLEANED,    /* overlayfs's PATH (Work/work) removed */
        IEV_PURGED,
        IEV_WAITING,         /* waiting for holders to let go (WHAT: why) */
        IEV_IMAGE_ATTACHED,  /* image PATH attached read-only as WHAT (/dev/loopN) */
        IEV_IMAGE_SHARED,    /* after the unmount, WHAT (image PATH's) is still used by others */
        IEV_IMAGE_RELEASED,  /* ...and WHAT is gone: its last user left (WHAT NULL: none
                              * was left to see) */
        IEV_IMAGE_LEFT_OPEN, /* ...and WHAT is only open (DETAIL: by whom): autoclear
                              * detaches it at the last close */
} inst_event_kind;

typedef struct inst_event {
        inst_event_kind kind;
        const char *instance;
        const overlay_config *cfg; /* NULL before the config is loaded */
        const char *what;
        const char *path;
        const char *detail;
} inst_event;

/* Where a run stopped. The commands layer words the message and picks the
 * exit status from it (engine_step_is_usage, engine_step_is_busy). */
typedef enum inst_step {
        STEP_NONE,
        STEP_NAME,           /* DETAIL: why the name is bad */
        STEP_CONFIG,         /* DETAIL: the config's FILE:LINE message */
        STEP_PRIVILEGE,      /* not root */
        STEP_CAPS,
        STEP_SETNS,
        STEP_CHDIR,
        STEP_LOCK,           /* PATH: lock file; PID: its holder (-EBUSY) */
        STEP_LOOKUP,         /* looking up the mount at PATH */
        STEP_FOREIGN,        /* PATH has DETAIL mounted on it, not ours */
        STEP_LIVE_COPY,      /* mount: a live overlay uses Upper/Work: HOLDERS */
        STEP_OTHER_SB,       /* already mounted, but another overlay lives: HOLDERS */
        STEP_LOWER,          /* Lower PATH missing or no dir */
        STEP_MKDIR,          /* making WHAT dir PATH */
        STEP_SPLIT_FS,       /* Upper PATH and Work DETAIL on different filesystems */
        STEP_MOUNT,          /* the kernel refused; DETAIL: what it said */
        STEP_SCAN,           /* scanning mount namespaces (WHAT: what for) */
        STEP_WAIT,           /* waiting for holders */
        STEP_BUSY,           /* umount2 EBUSY after --wait: HOLDERS */
        STEP_OWN_UNIT,       /* a holder runs in our own unit: PID, COMM, UNIT */
        STEP_GHOST,          /* a copy survives the unmount: HOLDERS */
        STEP_UMOUNT,         /* umount2(PATH) failed */
        STEP_NO_PROGRESS,    /* PATH looks mounted but umount2 finds nothing there */
        STEP_CLEAN_WORK,     /* removing PATH (Work/work) failed at DETAIL */
        STEP_STILL_MOUNTED,  /* purge: PATH is still a mount point */
        STEP_SUBMOUNT,       /* purge: PATH (beneath an instance dir) is a mount point */
        STEP_EMPTY,          /* emptying WHAT dir PATH failed at DETAIL */
        STEP_IMAGE,          /* image PATH: not a layer filesystem (DETAIL: what it holds) */
        STEP_IMAGE_WRITER,   /* image PATH is open for writing: DETAIL names who */
        STEP_IMAGE_STALE,    /* image PATH changed since its device was attached: DETAIL */
        STEP_LOOP,           /* a loop device call for PATH failed (WHAT: doing what) */
        STEP_IMAGE_MOUNT,    /* mounting image PATH's device failed; DETAIL: the kernel's words */
        STEP_IMAGE_BUSY,     /* after the unmount, image PATH's device DETAIL is held: HOLDERS */
        STEP_IMAGE_LOCK,     /* image PATH's lock: PID holds it (-EBUSY after WAITED s) */
} inst_step;

typedef struct inst_failure {
        inst_step step;
        int error;              /* negative errno, 0 for a refusal with no errno */
        const char *what;       /* static: "Upper", "Work", "Merged", ... */
        char *path;             /* malloc'd */
        char *detail;           /* malloc'd */
        pid_t pid;              /* lock holder, own-unit holder */
        char *comm;             /* own-unit holder's */
        char *unit;             /* our own unit, for STEP_OWN_UNIT */
        bool ignores_sigterm;   /* the own-unit holder does */
        double waited;          /* --wait seconds spent */
        probe_result holders;   /* STEP_LIVE_COPY, STEP_OTHER_SB, STEP_BUSY, STEP_GHOST */
        overlay_config *cfg;    /* the config the run failed with, once loaded */
} inst_failure;

typedef struct engine_env {
        const char *config_dir;
        const char *state_dir;
        const char *runtime_dir;
        double wait_sec;        /* --wait: for the lock and for holders */
        void (*on_event)(const inst_event *ev, void *userdata);
        void *userdata;
} engine_env;

/* An image lower, as status shows it. */
typedef struct inst_image {
        char *path;             /* Lower= */
        char *device;           /* "/dev/loopN" backing it, or NULL when none is attached */
        uint64_t diskseq;       /* the device's, 0 when the kernel has none */
        bool read_only;
        bool stale;             /* the image changed since the device was attached */
        int error;              /* looking at it failed (-errno), else 0 */
} inst_image;

/* What status shows of one instance. */
typedef struct inst_status {
        char *name;
        overlay_config *cfg;    /* NULL when it could not be loaded: see failure */
        inst_failure failure;   /* STEP_NONE when cfg is set */
        struct mount_entry *mount; /* what sits on Merged in PID 1's namespace, or NULL */
        bool ours;              /* that mount is this instance's overlay */
        bool same_layers;       /* ...with exactly the configured layers */
        int lookup_error;       /* looking at Merged failed (-errno): mount unknown */
        probe_result copies;
        inst_image *images;     /* its image lowers */
        size_t n_images;
} inst_status;

void inst_failure_done(inst_failure *f);
void inst_status_done(inst_status *s);

/* Returns: true when a failure at STEP with ERROR is the caller's input (a
 * bad name or config): exit status 2. */
bool engine_step_is_usage(inst_step step, int error);

/* Returns: true when a failure at STEP means something still holds the
 * target: exit status 3. */
bool engine_step_is_busy(inst_step step, int error);

/* One run of one instance, as the engine hands it to the kind. */
typedef struct inst_run {
        const engine_env *env;
        const char *name;
        overlay_config *cfg;
        double deadline;        /* CLOCK_MONOTONIC seconds: end of --wait */
        int lock_fd;
} inst_run;

/* Tells the commands layer what happened. */
void inst_emit(const inst_run *run, inst_event_kind kind, const char *what, const char *path);
void inst_emit_detail(const inst_run *run, inst_event_kind kind, const char *what,
                      const char *path, const char *detail);

/* Fills F and returns ERROR (negative), so a kind can `return fail(...)`. */
int inst_fail(inst_failure *f, inst_step step, int error, const char *what, const char *path,
              const char *detail);
