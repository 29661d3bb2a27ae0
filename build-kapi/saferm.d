/work/main/build-kapi/saferm.o: helper/saferm.c helper/saferm.h \
 helper/env.h helper/fallback.h helper/util.h
helper/saferm.h:
helper/env.h:
helper/fallback.h:
helper/util.h:
