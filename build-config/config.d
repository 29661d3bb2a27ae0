/work/main/build-config/config.o: helper/config.c \
 helper/config_internal.h helper/config.h helper/util.h
helper/config_internal.h:
helper/config.h:
helper/util.h:
