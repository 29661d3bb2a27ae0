/work/main/build-bench/engine.o: helper/engine.c helper/caps.h \
 helper/engine.h helper/config.h helper/probe.h helper/holders.h \
 helper/kind.h helper/mounttab.h helper/lock.h helper/ns.h helper/state.h \
 helper/util.h
helper/caps.h:
helper/engine.h:
helper/config.h:
helper/probe.h:
helper/holders.h:
helper/kind.h:
helper/mounttab.h:
helper/lock.h:
helper/ns.h:
helper/state.h:
helper/util.h:
