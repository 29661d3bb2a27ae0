/work/main/build-bench/cmd_mount.o: helper/cmd_mount.c helper/instance.h \
 helper/config.h helper/probe.h helper/holders.h helper/log.h \
 helper/util.h helper/mounttab.h helper/overlay.h helper/probe_output.h \
 helper/safedir.h helper/saferm.h helper/verbs.h
helper/instance.h:
helper/config.h:
helper/probe.h:
helper/holders.h:
helper/log.h:
helper/util.h:
helper/mounttab.h:
helper/overlay.h:
helper/probe_output.h:
helper/safedir.h:
helper/saferm.h:
helper/verbs.h:
