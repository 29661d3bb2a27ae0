/work/main/build-config/env.o: helper/env.c helper/env.h helper/util.h
helper/env.h:
helper/util.h:
