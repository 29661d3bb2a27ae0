/work/main/build-config/overlay.o: helper/overlay.c helper/overlay.h \
 helper/mounttab.h helper/env.h helper/fallback.h helper/util.h
helper/overlay.h:
helper/mounttab.h:
helper/env.h:
helper/fallback.h:
helper/util.h:
