/work/main/build-kapi/probe.o: helper/probe.c helper/kapi.h \
 helper/mntns.h helper/mounttab.h helper/probe.h helper/holders.h \
 helper/util.h
helper/kapi.h:
helper/mntns.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/util.h:
