/work/main/build-bench/cmd_status.o: helper/cmd_status.c helper/caps.h \
 helper/json.h helper/log.h helper/util.h helper/mounttab.h helper/ns.h \
 helper/probe_output.h helper/probe.h helper/holders.h helper/report.h \
 helper/engine.h helper/config.h helper/strv.h helper/verbs.h \
 helper/cli.h
helper/caps.h:
helper/json.h:
helper/log.h:
helper/util.h:
helper/mounttab.h:
helper/ns.h:
helper/probe_output.h:
helper/probe.h:
helper/holders.h:
helper/report.h:
helper/engine.h:
helper/config.h:
helper/strv.h:
helper/verbs.h:
helper/cli.h:
