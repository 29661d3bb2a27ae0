/work/main/build-bench/config_util.o: helper/config_util.c \
 helper/config_internal.h helper/config.h helper/util.h
helper/config_internal.h:
helper/config.h:
helper/util.h:
