/work/main/build-config/mntns_proc.o: helper/mntns_proc.c \
 helper/fallback.h helper/kapi.h helper/mntns.h helper/mntns_proc.h \
 helper/mounttab.h helper/util.h
helper/fallback.h:
helper/kapi.h:
helper/mntns.h:
helper/mntns_proc.h:
helper/mounttab.h:
helper/util.h:
