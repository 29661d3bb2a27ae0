/work/main/build-bench/instance.o: helper/instance.c helper/caps.h \
 helper/instance.h helper/config.h helper/probe.h helper/holders.h \
 helper/lock.h helper/log.h helper/util.h helper/ns.h helper/verbs.h
helper/caps.h:
helper/instance.h:
helper/config.h:
helper/probe.h:
helper/holders.h:
helper/lock.h:
helper/log.h:
helper/util.h:
helper/ns.h:
helper/verbs.h:
