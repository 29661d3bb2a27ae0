/work/main/build-bench/text.o: helper/text.c helper/text.h
helper/text.h:
