/work/main/build-config/engine.o: helper/engine.c helper/caps.h \
 helper/engine.h helper/inst.h helper/config.h helper/mounttab.h \
 helper/probe.h helper/holders.h helper/kind.h helper/lock.h helper/ns.h \
 helper/state.h helper/util.h
helper/caps.h:
helper/engine.h:
helper/inst.h:
helper/config.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/kind.h:
helper/lock.h:
helper/ns.h:
helper/state.h:
helper/util.h:
