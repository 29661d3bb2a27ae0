/work/main/build-bench/engine_status.o: helper/engine_status.c \
 helper/engine.h helper/config.h helper/probe.h helper/holders.h \
 helper/kind.h helper/mounttab.h helper/mountsrc.h helper/overlay.h \
 helper/state.h helper/strv.h helper/util.h
helper/engine.h:
helper/config.h:
helper/probe.h:
helper/holders.h:
helper/kind.h:
helper/mounttab.h:
helper/mountsrc.h:
helper/overlay.h:
helper/state.h:
helper/strv.h:
helper/util.h:
