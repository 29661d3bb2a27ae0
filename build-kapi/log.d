/work/main/build-kapi/log.o: helper/log.c helper/dlib.h helper/log.h \
 helper/util.h
helper/dlib.h:
helper/log.h:
helper/util.h:
