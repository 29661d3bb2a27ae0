/work/main/build-bench/mountsrc.o: helper/mountsrc.c helper/mounttab.h \
 helper/mountsrc.h helper/strv.h helper/util.h
helper/mounttab.h:
helper/mountsrc.h:
helper/strv.h:
helper/util.h:
