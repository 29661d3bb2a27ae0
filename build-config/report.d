/work/main/build-config/report.o: helper/report.c helper/log.h \
 helper/util.h helper/probe_output.h helper/probe.h helper/holders.h \
 helper/report.h helper/engine.h helper/inst.h helper/config.h \
 helper/mounttab.h helper/text.h helper/verbs.h helper/cli.h
helper/log.h:
helper/util.h:
helper/probe_output.h:
helper/probe.h:
helper/holders.h:
helper/report.h:
helper/engine.h:
helper/inst.h:
helper/config.h:
helper/mounttab.h:
helper/text.h:
helper/verbs.h:
helper/cli.h:
