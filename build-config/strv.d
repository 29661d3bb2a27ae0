/work/main/build-config/strv.o: helper/strv.c helper/strv.h helper/util.h
helper/strv.h:
helper/util.h:
