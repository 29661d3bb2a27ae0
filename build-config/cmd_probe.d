/work/main/build-config/cmd_probe.o: helper/cmd_probe.c helper/caps.h \
 helper/config.h helper/report.h helper/engine.h helper/inst.h \
 helper/mounttab.h helper/probe.h helper/holders.h helper/log.h \
 helper/util.h helper/ns.h helper/probe_output.h helper/verbs.h \
 helper/cli.h helper/watch.h
helper/caps.h:
helper/config.h:
helper/report.h:
helper/engine.h:
helper/inst.h:
helper/mounttab.h:
helper/probe.h:
helper/holders.h:
helper/log.h:
helper/util.h:
helper/ns.h:
helper/probe_output.h:
helper/verbs.h:
helper/cli.h:
helper/watch.h:
