/work/main/build-bench/mntns_table.o: helper/mntns_table.c \
 helper/fallback.h helper/kapi.h helper/mntns.h helper/mntns_proc.h \
 helper/mounttab.h helper/util.h
helper/fallback.h:
helper/kapi.h:
helper/mntns.h:
helper/mntns_proc.h:
helper/mounttab.h:
helper/util.h:
