/work/main/build-config/mntns.o: helper/mntns.c helper/fallback.h \
 helper/kapi.h helper/mntns.h helper/mntns_proc.h helper/mounttab.h \
 helper/util.h
helper/fallback.h:
helper/kapi.h:
helper/mntns.h:
helper/mntns_proc.h:
helper/mounttab.h:
helper/util.h:
