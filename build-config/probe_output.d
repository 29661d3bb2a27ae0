/work/main/build-config/probe_output.o: helper/probe_output.c \
 helper/json.h helper/probe_output.h helper/probe.h helper/holders.h \
 helper/text.h helper/util.h
helper/json.h:
helper/probe_output.h:
helper/probe.h:
helper/holders.h:
helper/text.h:
helper/util.h:
