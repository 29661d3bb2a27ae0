/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe_output.c: see probe_output.h. */
#include "json.h"
#include "probe_class.h"
#include "probe_output.h"
#include "text.h"
#include "util.h"

/* How much of each list a log line shows before it counts the rest: a
 * holder with 5,000 fds must not push the advice off the end of a message. */
#define DESCRIBE_REFS      8
#define DESCRIBE_PROCESSES 16
#define DESCRIBE_COPIES    8
#define DESCRIBE_PATHS     8   /* pins, submounts */
#define DESCRIBE_PATH_MAX  256 /* bytes of one path, its middle left out */

/* Names and paths come from other users: a newline or an escape sequence
 * in a file name must not forge a log line or drive the terminal. */
static void put_safe(FILE *f, const char *s)
{
        for (const unsigned char *p = (const unsigned char *)(s ? s : "?"); *p; p++) {
                if (*p < 0x20 || *p == 0x7f || *p == '\\')
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
}

/* A holder's name, and the thread that holds on its own: "bash (thread
 * 1234)". */
static void put_comm(FILE *f, const holder *h)
{
        put_safe(f, h->comm);
        if (h->tid)
                fprintf(f, " (thread %d)", (int)h->tid);
}

/* "fd:N:PATH" and "thread:TID:fd:N:PATH": an open fd, counted as one in a
 * summary. */
static bool is_fd_ref(const char *ref)
{
        if (strncmp(ref, "thread:", 7) == 0) {
                ref += 7 + strspn(ref + 7, "0123456789");
                if (*ref++ != ':')
                        return false;
        }
        return strncmp(ref, "fd:", 3) == 0;
}

/* Every id is of one kind: mnt_ns the nsfs inode (as lsns and
 * /proc/PID/ns/mnt name it), mnt_ns_id the kernel's 64-bit namespace id
 * (NS_GET_MNTNS_ID, statmount's mnt_ns_id), null where it has none. */
void probe_json_copies(FILE *f, const probe_result *r)
{
        fputc('[', f);
        for (size_t i = 0; i < r->n_copies; i++) {
                const probe_copy *c = &r->copies[i];
                if (i)
                        fputc(',', f);
                fputc('{', f);
                json_kv_u64(f, true, "mnt_ns", (unsigned long long)c->ns_ino);
                json_kv_id(f, false, "mnt_ns_id", c->ns_id);
                json_kv_bool(f, false, "init", c->init);
                json_kv_string(f, false, "propagation", probe_prop_name(c->propagation));
                json_kv_string(f, false, "mountpoint", c->mountpoints ? c->mountpoints[0] : NULL);
                json_kv_strv(f, false, "mountpoints", c->mountpoints);
                json_kv_strv(f, false, "pinned_by", c->pinned_by);
                fputs(",\"processes\":[", f);
                for (size_t j = 0; j < c->n_processes; j++) {
                        const holder *h = &c->processes[j];
                        if (j)
                                fputc(',', f);
                        fputc('{', f);
                        json_kv_u64(f, true, "pid", (unsigned long long)h->pid);
                        json_kv_id(f, false, "tid", (uint64_t)h->tid);
                        json_kv_string(f, false, "comm", h->comm);
                        json_kv_string(f, false, "unit", h->unit);
                        json_kv_strv(f, false, "refs", h->refs);
                        fputc('}', f);
                }
                fputc(']', f);
                json_kv_strv(f, false, "submounts", c->submounts);
                fputc('}', f);
        }
        fputc(']', f);
}

void probe_print_json(FILE *f, const probe_target *t, const probe_result *r, double at)
{
        fputc('{', f);
        if (at >= 0)
                fprintf(f, "\"t\":%.2f,", at);
        json_kv_string(f, true, "target", t->path ? t->path : t->input);
        json_kv_string(f, false, "instance", t->instance);
        json_kv_bool(f, false, "mounted", r->mounted);
        json_kv_bool(f, false, "free", probe_free(r));
        json_kv_tristate(f, false, "kernel_in_use", r->kernel_asked, r->kernel_in_use);
        json_kv_u64(f, false, "holders", r->n_holders);
        json_kv_u64(f, false, "unreadable", r->n_unreadable);
        json_kv_strv(f, false, "loops", r->loops);
        json_kv_strv(f, false, "swaps", r->swaps);
        json_kv_strv(f, false, "loop_devices", r->loop_devices);
        json_kv_strv(f, false, "device_users", r->dev_users);
        json_kv_strv(f, false, "writers", r->writers);
        json_kv_tristate(f, false, "device_claimed", r->dev_claim_asked, r->dev_claimed);
        fputs(",\"copies\":", f);
        probe_json_copies(f, r);
        fputs("}\n", f);
}

/* A copy the unmount takes along, with nothing of its own on it: shown
 * apart, never as a holder (an nsfs pin keeps its namespace, not it). */
static bool just_receives(const probe_copy *c)
{
        return c->propagation == PROBE_PROP_RECEIVES && c->n_processes == 0 && !c->submounts;
}

size_t probe_holding_copies(const probe_result *r)
{
        size_t n = 0;

        for (size_t i = 0; i < r->n_copies; i++)
                n += !just_receives(&r->copies[i]);
        return n;
}

static const char *prop_note(const probe_copy *c)
{
        switch (c->propagation) {
        case PROBE_PROP_RECEIVES:
                return " (receives the unmount)";
        case PROBE_PROP_GHOST_IN_WAITING:
                return " (ghost in waiting: survives the unmount)";
        default:
                return "";
        }
}

/* PID 1's copy only, no holder: one mount at TARGET is the easy case; a
 * bind mount of the same filesystem elsewhere keeps it alive after an
 * unmount of TARGET, and is what must go. Returns: NULL when not this case. */
static char *verdict_init_only(const probe_target *t, const probe_copy *c)
{
        size_t n = 0;
        bool at_target = false;
        char *s = NULL;

        for (char **p = c->mountpoints; p && *p; p++, n++)
                at_target |= t->path && streq(*p, t->path);
        if (n == 1 && at_target)
                return strdup("mounted in PID 1's namespace only; the scan finds no process or "
                              "mount that holds it (the unmount itself will tell: the kernel "
                              "refuses it while anything does)");
        if (!at_target && n >= 1 &&
            asprintf(&s, "mounted in PID 1's namespace elsewhere: at %s%s (a bind mount of it, "
                     "which keeps it alive; unmount that)", c->mountpoints[0],
                     n > 1 ? " and more" : "") >= 0)
                return s;
        if (n > 1 && asprintf(&s, "mounted in PID 1's namespace at %zu places (bind mounts: %s, "
                              "%s%s): an unmount of one leaves the others, which keep it alive",
                              n, c->mountpoints[0], c->mountpoints[1], n > 2 ? ", ..." : "") >= 0)
                return s;
        return NULL;
}

/* Loop devices and swap files, with no process holding: they alone. */
static char *verdict_devices(const probe_result *r)
{
        char *s = NULL;

        if (r->n_holders || (!r->loops && !r->swaps))
                return NULL;
        if (asprintf(&s, "held by %s %s%s", r->loops ? "loop device" : "swap file",
                     r->loops ? r->loops[0] : r->swaps[0],
                     (r->loops ? r->loops[1] || r->swaps : r->swaps[1] != NULL) ? " and more" : "") < 0)
                return NULL;
        return s;
}

/* S, and the copies elsewhere that will go with the unmount, which hold
 * nothing but are in the table. Takes S. */
static char *with_receiving(char *s, size_t receiving)
{
        char *out = NULL;

        if (!s || receiving == 0)
                return s;
        if (asprintf(&out, "%s; the copies in %zu more namespace%s receive the unmount", s,
                     receiving, receiving == 1 ? "" : "s") < 0)
                out = NULL;
        free(s);
        return out;
}

/* Another overlay on the same Upper or Work than the target's superblock. */
static bool other_sb(const probe_result *r)
{
        for (size_t i = 0; i < r->n_copies; i++)
                if (r->copies[i].other_sb)
                        return true;
        return false;
}

/* "/dev/loopN" of a loop device target, or of the device backing the image. */
static void device_name(const probe_result *r, char buf[32])
{
        snprintf(buf, 32, "%s", r->device[0] ? r->device : "its loop device");
}

/* A loop device or image held by nothing a copy shows: by the device's own
 * users, by a claim nothing explains, or by nothing at all. Returns: NULL
 * when not this case. */
static char *verdict_image(const probe_target *t, const probe_result *r)
{
        char dev[32], *s = NULL;
        int k = -1;

        if (!t->image || r->n_copies > 0 || r->loops || r->swaps)
                return NULL;
        device_name(r, dev);
        if (r->dev_users)
                k = asprintf(&s, "busy: %s is kept attached by %s%s", dev, r->dev_users[0],
                             r->dev_users[1] ? " and more" : "");
        else if (r->dev_claimed)
                k = asprintf(&s, "busy: the kernel reports %s claimed (mounted or held) but no "
                             "holder was found", r->unnamed_claims ? r->unnamed_claims[0] : dev);
        else if (probe_free(r) && !r->loop_devices)
                k = asprintf(&s, "free: %s", t->by_device ? "no file is attached to it" : "no loop "
                             "device backs it (the image is not attached)");
        else if (probe_free(r))
                k = asprintf(&s, "free: nothing holds %s, and the kernel reports it unclaimed "
                             "(losetup -d %s detaches it)", dev, dev);
        else if (r->dev_claim_error)
                k = asprintf(&s, "cannot tell whether it is free: nothing found holds %s, but the "
                             "kernel could not be asked whether it is claimed (%s)", dev,
                             r->dev_claim_error == -EAGAIN ? "a helper run has the image locked"
                                                           : strerror(-r->dev_claim_error));
        return k < 0 ? NULL : s;
}

char *probe_verdict(const probe_target *t, const probe_result *r)
{
        size_t others = 0, submounts = 0, receiving = 0;
        const probe_copy *init = NULL;
        char *s = NULL;

        for (size_t i = 0; i < r->n_copies; i++) {
                const probe_copy *c = &r->copies[i];
                receiving += just_receives(c);
                others += !c->init && !just_receives(c);
                init = c->init ? c : init;
                for (char **p = c->submounts; p && *p; p++)
                        submounts++;
        }
        if ((s = verdict_image(t, r)))
                return s;
        if (r->n_copies == 0 && r->kernel_in_use)
                return strdup("busy: the kernel reports Upper or Work in use by a live overlay "
                              "this scan cannot see (check for a nested overlay whose lower is "
                              "inside the target, a lazily detached mount, a loop device or an "
                              "fd in flight, and 'dmesg' for overlayfs messages)");
        if (probe_undecided(r) && r->kernel_error &&
            asprintf(&s, "cannot tell whether it is free: not mounted in any mount namespace the "
                     "scan sees, but the kernel could not be asked whether Upper or Work is in "
                     "use (%s)",
                     r->kernel_error == -EAGAIN ? "another overlay-helper run holds the check lock"
                                                : strerror(-r->kernel_error)) >= 0)
                return s;
        if (probe_undecided(r) &&
            asprintf(&s, "cannot tell whether it is free: not mounted in any mount namespace the "
                     "scan sees, but %u process%s or namespace%s could not be read (run as root)",
                     r->n_unreadable, r->n_unreadable == 1 ? "" : "es",
                     r->n_unreadable == 1 ? "" : "s") >= 0)
                return s;
        if (r->n_copies == 0)
                return strdup(r->kernel_asked ? "free: not mounted in any mount namespace, and the "
                                                "kernel reports Upper and Work not in use"
                                              : "free: not mounted in any mount namespace");
        /* copies that receive the unmount change nothing here */
        if (init && r->n_copies == receiving + 1 && r->n_holders == 0 && !init->submounts &&
            !r->loops && !r->swaps && !r->dev_users && (s = verdict_init_only(t, init)))
                return with_receiving(s, receiving);
        if ((s = verdict_devices(r)))
                return with_receiving(s, receiving);
        if (asprintf(&s, "held by %zu process%s%s%s, %zu other mount namespace%s%s%s%s%s",
                     r->n_holders, r->n_holders == 1 ? "" : "es",
                     r->mounted ? "" : t->image ? " (mounted only in other namespaces"
                                                : " (not mounted in PID 1's namespace: a ghost",
                     r->mounted ? "" : ")", others, others == 1 ? "" : "s",
                     submounts ? " and " : "", submounts ? "mounts beneath it" : "",
                     other_sb(r) ? "; two overlays on one Upper: end the other one first" : "",
                     r->dev_users ? "; and the device's users below" : "") < 0)
                return NULL;
        return with_receiving(s, receiving);
}

/* "A, B": mounts stacked at one place (a sandbox's read-only bind of each
 * mount over itself) once, as "A (2 mounts)". */
static void put_mountpoints(FILE *f, char **v)
{
        if (!v || !*v) {
                put_safe(f, NULL);
                return;
        }
        for (char **p = v, **q; *p; p = q) {
                for (q = p + 1; *q && streq(*q, *p); q++)
                        ;
                if (p != v)
                        fputs(", ", f);
                put_safe(f, *p);
                if (q - p > 1)
                        fprintf(f, " (%td mounts)", q - p);
        }
}

/* What a device user is, by how image_users.h words it, and what ends it. */
static const char *user_advice(const char *user)
{
        if (strncmp(user, "overlay ", 8) == 0)
                return "attached: it took the image's mount as a lower, and its private clone of "
                       "that mount is in no mount table; unmount the overlay";
        if (strncmp(user, "stacked device ", 15) == 0)
                return "attached: remove it first (dmsetup remove)";
        if (strncmp(user, "/dev/", 5) == 0)
                return "attached: unmount it";
        return "open: until it closes, losetup -d only defers the detach";
}

/* "PID(COMM) fd N (write)" as "PID(COMM)" and "fd N"; the words after the
 * name are ours, so the last ") fd " or ") mmap " is where they start. */
static void print_writer(FILE *f, const char *image, bool attached, const char *w)
{
        const char *how = NULL;

        for (const char *p = w; (p = strstr(p, ") ")); p++)
                if (strncmp(p + 2, "fd ", 3) == 0 || strncmp(p + 2, "mmap ", 5) == 0)
                        how = p + 2;
        _cleanup_free_ char *who = strndup(w, how ? (size_t)(how - 1 - w) : strlen(w));

        fputs(attached ? "WARNING: " : "note: ", f);
        put_safe(f, who ? who : w);
        fputs(" has ", f);
        put_safe(f, image);
        if (how && how[0] == 'f')
                fprintf(f, " open for writing (fd %d)", atoi(how + 3));
        else
                fputs(how ? " open for writing (a shared writable mapping)" : " open for writing", f);
        fputs(attached ? " while it is attached: the loop device caches blocks; writes to the file "
                         "corrupt what the overlays see\n"
                       : "; overlay-helper refuses to attach an image with a writer\n", f);
}

static void print_image(FILE *f, const probe_target *t, const probe_result *r)
{
        const char *image = t->image_path ? t->image_path : t->input;
        char dev[32];

        device_name(r, dev);
        for (char **p = r->loop_devices; p && *p; p++) {
                fprintf(f, "loop device %.*s backs it:", (int)strcspn(*p, " "), *p);
                put_safe(f, *p + strcspn(*p, " "));
                fputc('\n', f);
        }
        for (char **p = r->dev_users; p && *p; p++) {
                put_safe(f, *p);
                fprintf(f, " keeps %s %s\n", dev, user_advice(*p));
        }
        for (char **p = r->unnamed_claims; p && *p && r->n_copies == 0; p++)
                fprintf(f, "note: the kernel reports %s claimed (mounted or held) but no holder was "
                        "found\n", *p);
        for (char **p = r->writers; p && *p; p++)
                print_writer(f, image, r->loop_devices != NULL, *p);
        if (r->writer_unnamed) {
                fputs("WARNING: the kernel reports ", f);
                put_safe(f, image);
                fputs(" open for writing, but the scan found no writer (a process in another PID "
                      "namespace, or one it could not read)\n", f);
        }
}

void probe_print_human(FILE *f, const probe_target *t, const probe_result *r)
{
        _cleanup_free_ char *verdict = probe_verdict(t, r);

        fprintf(f, "%s: %s\n", t->instance ? t->instance : t->path ? t->path : t->input,
                verdict ? verdict : "?");
        if (r->n_copies)
                fprintf(f, "%-12s %-4s %-7s %-16s %-24s %s\n", "MNT_NS", "INIT", "PID", "COMM",
                        "UNIT", "REFS");
        for (size_t i = 0; i < r->n_copies; i++) {
                const probe_copy *c = &r->copies[i];
                fprintf(f, "%-12llu %-4s mounted on ", (unsigned long long)c->ns_ino,
                        c->init ? "yes" : "no");
                put_mountpoints(f, c->mountpoints);
                fprintf(f, "%s\n", prop_note(c));
                for (size_t j = 0; j < c->n_processes; j++) {
                        const holder *h = &c->processes[j];
                        size_t comm_len;

                        fprintf(f, "%-12s %-4s %-7d ", "", "", (int)h->pid);
                        /* the thread goes with the refs: COMM keeps its width */
                        put_safe(f, h->comm);
                        comm_len = strlen(h->comm ? h->comm : "?");
                        fprintf(f, "%*s", comm_len < 17 ? (int)(17 - comm_len) : 1, "");
                        put_safe(f, h->unit ? h->unit : "-");
                        fprintf(f, "%*s", h->unit && strlen(h->unit) < 24 ? (int)(24 - strlen(h->unit)) : h->unit ? 0 : 23, "");
                        if (h->tid)
                                fprintf(f, " [thread %d]", (int)h->tid);
                        if (h->n_refs == 0)
                                fputs(" (in the namespace)", f);
                        for (size_t k = 0; k < h->n_refs; k++) {
                                fputc(' ', f);
                                put_safe(f, h->refs[k]);
                        }
                        fputc('\n', f);
                }
                for (char **p = c->pinned_by; p && *p; p++) {
                        fprintf(f, "%-12s %-4s pinned by ", "", "");
                        put_safe(f, *p);
                        fputc('\n', f);
                }
                for (char **p = c->submounts; p && *p; p++) {
                        fprintf(f, "%-12s %-4s submount ", "", "");
                        put_safe(f, *p);
                        fputc('\n', f);
                }
        }
        if (r->n_unreadable)
                fprintf(f, "note: %u processes or namespaces could not be inspected "
                        "(run as root to see them)\n", r->n_unreadable);
        for (char **p = r->loops; p && *p; p++) {
                fputs("loop device ", f);
                put_safe(f, *p);
                fputs(" keeps it busy: detach it (losetup -d) once nothing uses it\n", f);
        }
        for (char **p = r->swaps; p && *p; p++) {
                fputs("swap file ", f);
                put_safe(f, *p);
                fputs(" keeps it busy: swapoff it first\n", f);
        }
        print_image(f, t, r);
}

static void put_more(FILE *f, const char *sep, size_t n, const char *one, const char *many)
{
        char g[TEXT_GROUPED_MAX];

        fprintf(f, "%sand %s more %s", sep, text_grouped(n, g), n == 1 ? one : many);
}

/* A path, or a ref naming one ("fd:3:PATH"), shortened and escaped. */
static void put_short(FILE *f, const char *s)
{
        _cleanup_free_ char *shortened = s ? text_shorten_path(s, DESCRIBE_PATH_MAX) : NULL;

        put_safe(f, shortened ? shortened : s);
}

static void describe_paths(FILE *f, char **v, const char *first, const char *sep,
                           const char *one, const char *many)
{
        size_t n = 0;

        for (char **p = v; p && *p; p++, n++)
                if (n < DESCRIBE_PATHS) {
                        fputs(n ? sep : first, f);
                        put_short(f, *p);
                }
        if (n > DESCRIBE_PATHS)
                put_more(f, " ", n - DESCRIBE_PATHS, one, many);
}

static void describe_holder(FILE *f, const holder *h)
{
        size_t shown = h->n_refs < DESCRIBE_REFS ? h->n_refs : DESCRIBE_REFS, fds = 0;

        fprintf(f, "%d ", (int)h->pid);
        put_comm(f, h);
        if (h->unit) {
                fputs(" [", f);
                put_safe(f, h->unit);
                fputc(']', f);
        }
        for (size_t k = 0; k < shown; k++) {
                fputs(k ? " " : " (", f);
                put_short(f, h->refs[k]);
        }
        for (size_t k = shown; k < h->n_refs; k++)
                fds += is_fd_ref(h->refs[k]);
        if (h->n_refs > shown) {
                bool all_fds = fds == h->n_refs - shown;
                put_more(f, " ", h->n_refs - shown, all_fds ? "fd" : "ref", all_fds ? "fds" : "refs");
        }
        if (h->n_refs)
                fputc(')', f);
}

static void describe_copy(FILE *f, const probe_copy *c)
{
        size_t shown = c->n_processes < DESCRIBE_PROCESSES ? c->n_processes : DESCRIBE_PROCESSES;

        if (c->init) {
                fprintf(f, "in PID 1's namespace");
                /* more than one mount of it there: bind mounts keep it alive */
                if (c->mountpoints && (c->mountpoints[1] || (!c->n_processes && !c->submounts)))
                        describe_paths(f, c->mountpoints, " mounted on ", ", ", "mount", "mounts");
        }
        if (!c->init) {
                fprintf(f, "a copy in mnt:[%llu] at ", (unsigned long long)c->ns_ino);
                put_short(f, c->mountpoints ? c->mountpoints[0] : NULL);
                fputs(prop_note(c), f);
        }
        describe_paths(f, c->pinned_by, " pinned by ", ", ", "pin", "pins");
        if (c->n_processes)
                fputc(':', f);
        for (size_t j = 0; j < shown; j++) {
                fputs(j ? ", " : " ", f);
                describe_holder(f, &c->processes[j]);
        }
        if (c->n_processes > shown)
                put_more(f, ", ", c->n_processes - shown, "process", "processes");
        describe_paths(f, c->submounts, ", submount ", ", submount ", "submount", "submounts");
}

/* Bounded whatever the scan found: each list is cut at a few items and the
 * rest counted exactly; the details are probe's (human table, JSON). PID 1's
 * namespace is always shown, as the one an unmount acts on. */
char *probe_describe(const probe_result *r)
{
        char *buf = NULL;
        size_t len = 0, shown = 0, others = 0, hidden = 0, hidden_processes = 0;
        FILE *f = open_memstream(&buf, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < r->n_copies; i++) {
                const probe_copy *c = &r->copies[i];
                if (just_receives(c))
                        continue;
                /* a bare mount there is no holder when loops, swaps or other
                 * copies are what holds it */
                if (c->init && !c->n_processes && !c->pinned_by && !c->submounts &&
                    c->mountpoints && !c->mountpoints[1] &&
                    (r->loops || r->swaps || probe_holding_copies(r) > 1))
                        continue;
                if (!c->init && others == DESCRIBE_COPIES) {
                        hidden++;
                        hidden_processes += c->n_processes;
                        continue;
                }
                others += !c->init;
                if (shown++)
                        fputs("; ", f);
                describe_copy(f, c);
        }
        if (r->loops)
                describe_paths(f, r->loops, shown++ ? "; loop device " : "loop device ", ", ",
                               "loop device", "loop devices");
        describe_paths(f, r->swaps, shown++ ? "; swap file " : "swap file ", ", ", "swap file",
                       "swap files");
        /* (SHOWN counts the swap files' turn whether there were any or not) */
        describe_paths(f, r->dev_users, ftell(f) > 0 ? "; device kept by " : "device kept by ",
                       ", ", "user", "users");
        describe_paths(f, r->unnamed_claims, ftell(f) > 0 ? "; claimed by no holder found: "
                                                          : "claimed by no holder found: ",
                       ", ", "device", "devices");
        if (hidden) {
                char g[TEXT_GROUPED_MAX];
                put_more(f, "; ", hidden, "namespace", "namespaces");
                fprintf(f, " (%s process%s in them)", text_grouped(hidden_processes, g),
                        hidden_processes == 1 ? "" : "es");
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
