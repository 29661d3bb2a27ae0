/work/main/build-bench/kind_overlay.o: helper/kind_overlay.c \
 helper/kind_overlay.h helper/kind.h helper/engine.h helper/config.h \
 helper/probe.h helper/holders.h helper/mounttab.h helper/overlay.h \
 helper/state.h helper/util.h
helper/kind_overlay.h:
helper/kind.h:
helper/engine.h:
helper/config.h:
helper/probe.h:
helper/holders.h:
helper/mounttab.h:
helper/overlay.h:
helper/state.h:
helper/util.h:
