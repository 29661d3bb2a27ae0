/work/main/build-bench/cmd_umount.o: helper/cmd_umount.c helper/dlib.h \
 helper/instance.h helper/config.h helper/probe.h helper/holders.h \
 helper/log.h helper/util.h helper/mounttab.h helper/overlay.h \
 helper/probe_output.h helper/safedir.h helper/saferm.h helper/verbs.h \
 helper/watch.h
helper/dlib.h:
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
helper/watch.h:
