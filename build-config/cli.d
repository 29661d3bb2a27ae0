/work/main/build-config/cli.o: helper/cli.c helper/cli.h helper/util.h
helper/cli.h:
helper/util.h:
