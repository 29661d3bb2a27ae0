/work/main/build-bench/ns.o: helper/ns.c helper/ns.h helper/util.h
helper/ns.h:
helper/util.h:
