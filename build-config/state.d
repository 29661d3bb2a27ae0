/work/main/build-config/state.o: helper/state.c helper/state.h \
 helper/strv.h helper/util.h
helper/state.h:
helper/strv.h:
helper/util.h:
