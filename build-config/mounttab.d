/work/main/build-config/mounttab.o: helper/mounttab.c helper/dlib.h \
 helper/kapi.h helper/mounttab.h helper/env.h helper/fallback.h \
 helper/util.h
helper/dlib.h:
helper/kapi.h:
helper/mounttab.h:
helper/env.h:
helper/fallback.h:
helper/util.h:
