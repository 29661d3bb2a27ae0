/work/main/build-kapi/kind_overlay.o: helper/kind_overlay.c \
 helper/kind_overlay.h helper/kind.h helper/inst.h helper/config.h \
 helper/mounttab.h helper/probe.h helper/holders.h helper/overlay.h \
 helper/state.h helper/util.h
helper/kind_overlay.h:
helper/kind.h:
helper/inst.h:
helper/config.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/overlay.h:
helper/state.h:
helper/util.h:
