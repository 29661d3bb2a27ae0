/work/main/build-bench/dlib.o: helper/dlib.c helper/dlib.h helper/util.h
helper/dlib.h:
helper/util.h:
