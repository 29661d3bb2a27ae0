/work/main/build-kapi/safedir.o: helper/safedir.c helper/safedir.h \
 helper/util.h
helper/safedir.h:
helper/util.h:
