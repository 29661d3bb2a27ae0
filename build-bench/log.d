/work/main/build-bench/log.o: helper/log.c helper/dlib.h helper/log.h \
 helper/util.h
helper/dlib.h:
helper/log.h:
helper/util.h:
