/work/main/build-kapi/env.o: helper/env.c helper/env.h helper/util.h
helper/env.h:
helper/util.h:
