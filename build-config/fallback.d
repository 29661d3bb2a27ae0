/work/main/build-config/fallback.o: helper/fallback.c helper/fallback.h \
 helper/util.h
helper/fallback.h:
helper/util.h:
