/work/main/build-log/caps.o: helper/caps.c helper/caps.h helper/util.h
helper/caps.h:
helper/util.h:
