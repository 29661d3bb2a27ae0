/work/main/build-config/json.o: helper/json.c helper/json.h
helper/json.h:
