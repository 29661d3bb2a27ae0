/work/main/build-bench/config_file.o: helper/config_file.c \
 helper/config_internal.h helper/config.h helper/util.h
helper/config_internal.h:
helper/config.h:
helper/util.h:
