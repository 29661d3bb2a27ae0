/work/main/build-bench/lock.o: helper/lock.c helper/lock.h helper/util.h
helper/lock.h:
helper/util.h:
