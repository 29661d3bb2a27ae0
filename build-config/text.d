/work/main/build-config/text.o: helper/text.c helper/text.h
helper/text.h:
