/work/main/build-bench/config.o: helper/config.c helper/config_internal.h \
 helper/config.h helper/util.h
helper/config_internal.h:
helper/config.h:
helper/util.h:
