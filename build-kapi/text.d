/work/main/build-kapi/text.o: helper/text.c helper/text.h
helper/text.h:
