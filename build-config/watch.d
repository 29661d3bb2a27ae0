/work/main/build-config/watch.o: helper/watch.c helper/util.h \
 helper/watch.h helper/probe.h helper/holders.h
helper/util.h:
helper/watch.h:
helper/probe.h:
helper/holders.h:
