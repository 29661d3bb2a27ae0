/work/main/build-config/overlay_teardown.o: helper/overlay_teardown.c \
 helper/dlib.h helper/kind_overlay.h helper/kind.h helper/inst.h \
 helper/config.h helper/mounttab.h helper/probe.h helper/holders.h \
 helper/overlay.h helper/safedir.h helper/saferm.h helper/state.h \
 helper/util.h helper/watch.h
helper/dlib.h:
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
helper/watch.h:
