/work/main/build-config/inst.o: helper/inst.c helper/inst.h \
 helper/config.h helper/mounttab.h helper/probe.h helper/holders.h \
 helper/util.h
helper/inst.h:
helper/config.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/util.h:
