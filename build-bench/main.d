/work/main/build-bench/main.o: helper/main.c helper/cli.h \
 helper/fallback.h helper/log.h helper/util.h helper/verbs.h \
 helper/engine.h helper/config.h helper/probe.h helper/holders.h
helper/cli.h:
helper/fallback.h:
helper/log.h:
helper/util.h:
helper/verbs.h:
helper/engine.h:
helper/config.h:
helper/probe.h:
helper/holders.h:
