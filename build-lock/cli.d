/work/main/build-lock/cli.o: helper/cli.c helper/cli.h helper/util.h
helper/cli.h:
helper/util.h:
