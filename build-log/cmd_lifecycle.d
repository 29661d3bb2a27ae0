/work/main/build-log/cmd_lifecycle.o: helper/cmd_lifecycle.c helper/log.h \
 helper/util.h helper/report.h helper/engine.h helper/inst.h \
 helper/config.h helper/mounttab.h helper/probe.h helper/holders.h \
 helper/verbs.h helper/cli.h
helper/log.h:
helper/util.h:
helper/report.h:
helper/engine.h:
helper/inst.h:
helper/config.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/verbs.h:
helper/cli.h:
