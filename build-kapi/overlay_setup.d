/work/main/build-kapi/overlay_setup.o: helper/overlay_setup.c \
 helper/kind_overlay.h helper/kind.h helper/inst.h helper/config.h \
 helper/mounttab.h helper/probe.h helper/holders.h helper/overlay.h \
 helper/safedir.h helper/saferm.h helper/state.h helper/util.h
helper/kind_overlay.h:
helper/kind.h:
helper/inst.h:
helper/config.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/overlay.h:
helper/safedir.h:
helper/saferm.h:
helper/state.h:
helper/util.h:
