/work/main/build-config/safedir.o: helper/safedir.c helper/safedir.h \
 helper/util.h
helper/safedir.h:
helper/util.h:
