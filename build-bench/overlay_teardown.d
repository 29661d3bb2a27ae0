/work/main/build-bench/overlay_teardown.o: helper/overlay_teardown.c \
 helper/dlib.h helper/kind_overlay.h helper/kind.h helper/engine.h \
 helper/config.h helper/probe.h helper/holders.h helper/mounttab.h \
 helper/overlay.h helper/safedir.h helper/saferm.h helper/state.h \
 helper/util.h helper/watch.h
helper/dlib.h:
helper/kind_overlay.h:
helper/kind.h:
helper/engine.h:
helper/config.h:
helper/probe.h:
helper/holders.h:
helper/mounttab.h:
helper/overlay.h:
helper/safedir.h:
helper/saferm.h:
helper/state.h:
helper/util.h:
helper/watch.h:
