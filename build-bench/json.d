/work/main/build-bench/json.o: helper/json.c helper/json.h
helper/json.h:
