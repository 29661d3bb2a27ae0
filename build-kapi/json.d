/work/main/build-kapi/json.o: helper/json.c helper/json.h
helper/json.h:
