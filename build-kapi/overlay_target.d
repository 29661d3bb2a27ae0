/work/main/build-kapi/overlay_target.o: helper/overlay_target.c \
 helper/kind_overlay.h helper/kind.h helper/inst.h helper/config.h \
 helper/mounttab.h helper/probe.h helper/holders.h helper/overlay.h \
 helper/util.h
helper/kind_overlay.h:
helper/kind.h:
helper/inst.h:
helper/config.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/overlay.h:
helper/util.h:
