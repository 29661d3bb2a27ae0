/work/main/build-bench/config_values.o: helper/config_values.c \
 helper/config_internal.h helper/config.h helper/util.h
helper/config_internal.h:
helper/config.h:
helper/util.h:
