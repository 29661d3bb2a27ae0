/work/main/build-config/dlib.o: helper/dlib.c helper/dlib.h helper/util.h
helper/dlib.h:
helper/util.h:
