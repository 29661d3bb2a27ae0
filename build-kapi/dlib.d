/work/main/build-kapi/dlib.o: helper/dlib.c helper/dlib.h helper/util.h
helper/dlib.h:
helper/util.h:
