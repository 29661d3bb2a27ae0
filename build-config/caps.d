/work/main/build-config/caps.o: helper/caps.c helper/caps.h helper/util.h
helper/caps.h:
helper/util.h:
