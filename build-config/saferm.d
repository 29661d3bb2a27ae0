/work/main/build-config/saferm.o: helper/saferm.c helper/saferm.h \
 helper/env.h helper/fallback.h helper/util.h
helper/saferm.h:
helper/env.h:
helper/fallback.h:
helper/util.h:
