/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mountsrc.c: see mountsrc.h. */
#include "mounttab.h"
#include "mountsrc.h"
#include "strv.h"
#include "util.h"

/* mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
static int parse_line(char *line, const char *fstype, const char *prefix, char ***names)
{
        char *sep = strstr(line, " - "), *type, *source, *save = NULL;
        size_t plen = strlen(prefix);

        if (!sep)
                return 0;
        type = strtok_r(sep + 3, " ", &save);
        source = type ? strtok_r(NULL, " ", &save) : NULL;
        if (!source || !streq(type, fstype))
                return 0;
        unescape_octal(source);
        if (strncmp(source, prefix, plen) != 0 || !source[plen])
                return 0;
        return strv_add(names, source + plen);
}

int mountsrc_list(const char *fstype, const char *prefix, char ***ret)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        char **names = NULL;
        size_t size = 0;
        int r = 0;

        if (!f)
                return negative_errno();
        while (r >= 0 && getline(&line, &size, f) > 0)
                r = parse_line(line, fstype, prefix, &names);
        if (r >= 0 && ferror(f))
                r = -EIO;
        if (r >= 0 && !names)
                r = strv_new_empty(&names);
        if (r < 0) {
                strv_free(names);
                return r;
        }
        *ret = names;
        return 0;
}
