/work/main/build-kapi/holders.o: helper/holders.c helper/dlib.h \
 helper/holders.h helper/kapi.h helper/env.h helper/fallback.h \
 helper/util.h
helper/dlib.h:
helper/holders.h:
helper/kapi.h:
helper/env.h:
helper/fallback.h:
helper/util.h:
