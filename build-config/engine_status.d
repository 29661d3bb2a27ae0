/work/main/build-config/engine_status.o: helper/engine_status.c \
 helper/engine.h helper/inst.h helper/config.h helper/mounttab.h \
 helper/probe.h helper/holders.h helper/kind.h helper/mountsrc.h \
 helper/overlay.h helper/state.h helper/strv.h helper/util.h
helper/engine.h:
helper/inst.h:
helper/config.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/kind.h:
helper/mountsrc.h:
helper/overlay.h:
helper/state.h:
helper/strv.h:
helper/util.h:
