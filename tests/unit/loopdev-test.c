/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loopdev-test: drives helper/loopdev.c for tests/unit/loopdev.bats.
 *
 *   loopdev-test attach [--rdwr] IMAGE TAG
 *                                   attach, print the device, keep it open
 *                                   until stdin reaches EOF (or a signal);
 *                                   --rdwr opens IMAGE read-write
 *   loopdev-test find IMAGE         every device backed by IMAGE's dev/ino
 *   loopdev-test claimed IMAGE      "loopN 1|0|ERRNO" for each of them
 *   loopdev-test detach IMAGE       detach each of them: "loopN detached|ERRNO"
 *   loopdev-test open [--excl] N DISKSEQ [MAJ:MIN INO]
 *                                   loopdev_open() of that record: "ok" or ERRNO
 *   loopdev-test holders N          /sys/block/loopN/holders, one a line
 *
 * A device prints as "loopN DISKSEQ SIZE FLAGS TAG", FLAGS the LO_FLAGS_*
 * names joined by commas ("ro,autoclear"), "-" for none. ERRNO is the
 * errno's name (ESTALE). Exits 1 on an error or an fd leak, 2 on bad usage.
 * Build: make BUILD=build build/loopdev-test */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "loopdev.h"
#include "util.h"

/* The lowest free fd: the same before and after a call, or the call leaked. */
static int lowest_free_fd(void)
{
        int fd = dup(STDIN_FILENO);

        if (fd >= 0)
                close(fd);
        return fd;
}

static const char *err_name(int r)
{
        const char *s = strerrorname_np(-r);
        return s ? s : "E?";
}

static void print_info(const loopdev_info *i)
{
        static const struct { uint32_t flag; const char *name; } names[] = {
                { LO_FLAGS_READ_ONLY, "ro" },   { LO_FLAGS_AUTOCLEAR, "autoclear" },
                { LO_FLAGS_PARTSCAN, "partscan" }, { LO_FLAGS_DIRECT_IO, "direct-io" },
        };
        char flags[64] = "";

        for (size_t k = 0; k < ELEMENTSOF(names); k++)
                if (i->flags & names[k].flag)
                        snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%s",
                                 *flags ? "," : "", names[k].name);
        printf("loop%d %" PRIu64 " %" PRIu64 " %s %s\n", i->nr, i->diskseq, i->size,
               *flags ? flags : "-", *i->tag ? i->tag : "-");
}

static int do_attach(const char *image, const char *tag, int mode)
{
        _cleanup_close_ int image_fd = open(image, mode | O_CLOEXEC);
        _cleanup_close_ int fd = -EBADF, lock_fd = -EBADF;
        loopdev_info info;
        char c;

        if (image_fd < 0) {
                printf("error: open %s: %m\n", image);
                return 1;
        }
        fd = loopdev_attach(image_fd, tag, &info, &lock_fd);
        if (fd < 0) {
                printf("error: attach %s: %s\n", image, err_name(fd));
                return 1;
        }
        print_info(&info);
        fflush(stdout);
        /* the setup (a mount, here none) is done: let udev see the device;
         * the device holds the image itself */
        close(TAKE_FD(lock_fd));
        close(TAKE_FD(image_fd));
        while (read(STDIN_FILENO, &c, 1) > 0)
                ;
        return 0;
}

/* The devices backed by IMAGE. Returns: 0 and *ret, *n, or 1 (printed). */
static int find(const char *image, loopdev_info **ret, size_t *n)
{
        struct stat st;
        int r;

        if (stat(image, &st) < 0) {
                printf("error: stat %s: %m\n", image);
                return 1;
        }
        r = loopdev_find_backing(st.st_dev, st.st_ino, ret, n);
        if (r < 0) {
                printf("error: find %s: %s\n", image, err_name(r));
                return 1;
        }
        return 0;
}

static int cmp_nr(const void *a, const void *b)
{
        return ((const loopdev_info *)a)->nr - ((const loopdev_info *)b)->nr;
}

static int do_image(const char *verb, const char *image)
{
        _cleanup_free_ loopdev_info *v = NULL;
        size_t n = 0;
        int rc = find(image, &v, &n);

        if (rc)
                return rc;
        if (n > 0)
                qsort(v, n, sizeof *v, cmp_nr);
        for (size_t i = 0; i < n; i++) {
                if (streq(verb, "find"))
                        print_info(&v[i]);
                else if (streq(verb, "claimed")) {
                        int r = loopdev_claimed(&v[i]);
                        if (r < 0)
                                printf("loop%d %s\n", v[i].nr, err_name(r));
                        else
                                printf("loop%d %d\n", v[i].nr, r);
                } else {
                        _cleanup_close_ int fd = loopdev_open(&v[i], 0);
                        int r = fd < 0 ? fd : loopdev_detach(fd);
                        printf("loop%d %s\n", v[i].nr, r < 0 ? err_name(r) : "detached");
                }
        }
        return 0;
}

static int do_open(int argc, char **argv)
{
        loopdev_info info = {};
        unsigned maj, min;
        int flags = 0, r;

        if (argc > 0 && streq(argv[0], "--excl")) {
                flags = O_EXCL;
                argc--, argv++;
        }
        if (argc != 2 && argc != 4)
                return 2;
        info.nr = atoi(argv[0]);
        info.diskseq = strtoull(argv[1], NULL, 10);
        if (argc == 4) {
                if (sscanf(argv[2], "%u:%u", &maj, &min) != 2)
                        return 2;
                info.backing_dev = makedev(maj, min);
                info.backing_ino = (ino_t)strtoull(argv[3], NULL, 10);
        }
        r = loopdev_open(&info, flags);
        if (r >= 0)
                close(r);
        printf("%s\n", r < 0 ? err_name(r) : "ok");
        return 0;
}

static int do_holders(const char *nr)
{
        char **names = NULL;
        int r = loopdev_sysfs_holders(atoi(nr), &names);

        if (r < 0) {
                printf("%s\n", err_name(r));
                return 0;
        }
        for (char **p = names; p && *p; p++)
                printf("%s\n", *p);
        strv_free(names);
        return 0;
}

int main(int argc, char **argv)
{
        int before = lowest_free_fd(), rc;

        if (argc == 4 && streq(argv[1], "attach"))
                return do_attach(argv[2], argv[3], O_RDONLY);
        if (argc == 5 && streq(argv[1], "attach") && streq(argv[2], "--rdwr"))
                return do_attach(argv[3], argv[4], O_RDWR);
        if (argc == 3 && (streq(argv[1], "find") || streq(argv[1], "claimed") ||
                          streq(argv[1], "detach")))
                rc = do_image(argv[1], argv[2]);
        else if (argc >= 2 && streq(argv[1], "open"))
                rc = do_open(argc - 2, argv + 2);
        else if (argc == 3 && streq(argv[1], "holders"))
                rc = do_holders(argv[2]);
        else
                rc = 2;
        if (rc == 2) {
                fputs("usage: loopdev-test attach|find|claimed|detach|open|holders ...\n", stderr);
                return 2;
        }
        if (lowest_free_fd() != before) {
                printf("error: fd leak\n");
                return 1;
        }
        return rc;
}
