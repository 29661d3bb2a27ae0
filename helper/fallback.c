/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fallback.c: see fallback.h. The helper is single-threaded; a forked child
 * (mntns_proc.c's namespace reader) notes into its own copy, which dies with
 * it, and that is fine: the parent takes the same decision on its own. */
#include "fallback.h"
#include "util.h"

/* Long enough for every name we use; a longer one is cut, not refused. */
#define FEATURE_MAX 64

static struct {
        char feature[FEATURE_MAX];
        int err;
} notes[FALLBACK_NOTES_MAX];
static unsigned n_notes;

void fallback_note(const char *feature, int err)
{
        if (!feature)
                return;
        if (err < 0)
                err = -err;
        for (unsigned i = 0; i < n_notes; i++)
                if (notes[i].err == err && strncmp(notes[i].feature, feature, FEATURE_MAX - 1) == 0)
                        return;
        if (n_notes >= FALLBACK_NOTES_MAX)
                return;
        /* strncpy() would not terminate a name of FEATURE_MAX or more */
        snprintf(notes[n_notes].feature, FEATURE_MAX, "%s", feature);
        notes[n_notes].err = err;
        n_notes++;
}

void fallback_notes_foreach(void (*fn)(const char *feature, int err, void *userdata),
                            void *userdata)
{
        for (unsigned i = 0; fn && i < n_notes; i++)
                fn(notes[i].feature, notes[i].err, userdata);
}
