# overlay-helper: build, install, check, demo.
# `make` builds with warnings as errors; `sudo make check` and `sudo make demo`
# install any missing Debian build/test packages first (`make deps`).

VERSION     := 0.1.0
PREFIX      ?= /usr
LIBEXECDIR  ?= $(PREFIX)/libexec/overlay-helper
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
PKG_CONFIG  ?= pkg-config
SYSTEMDUNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
TMPFILESDIR    ?= $(shell $(PKG_CONFIG) --variable=tmpfilesdir systemd 2>/dev/null || echo /usr/lib/tmpfiles.d)

CC          ?= cc
CFLAGS      ?= -O2 -g
# libmount and libsystemd are dlopen()ed on first use (see helper/dlib.h): only
# their headers are needed at build time. libcap-ng is linked statically (its
# .a ships in libcap-ng-dev): one shared object fewer to load at every start
# (measured 0-0.2 ms, within the noise of a shared VM; docs/PERFORMANCE.md).
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags mount libsystemd libcap-ng 2>/dev/null)
PKG_LIBS    := -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs libcap-ng 2>/dev/null) -Wl,-Bdynamic
WARN        := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
               -Wno-missing-field-initializers
ALL_CFLAGS  := -std=gnu11 $(WARN) -D_GNU_SOURCE -DOVERLAY_HELPER_VERSION='"$(VERSION)"' \
               -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS     ?= -Wl,-O1 -Wl,--as-needed
LDLIBS      := $(PKG_LIBS) -ldl

BUILD       ?= build
SRCS        := $(wildcard helper/*.c)
OBJS        := $(SRCS:helper/%.c=$(BUILD)/%.o)
BIN         := $(BUILD)/overlay-helper

# The C drivers of tests/unit link the modules they test, built with the
# project's flags; their link lines name what each module needs below it.
TEST_DRIVERS := $(BUILD)/mntns-test $(BUILD)/holders-test $(BUILD)/saferm-test $(BUILD)/loopdev-test
SUPPORT_OBJS      = $(addprefix $(BUILD)/,dlib.o env.o fallback.o)
MNTNS_TEST_OBJS   = $(addprefix $(BUILD)/,mntns.o mntns_proc.o mntns_pids.o mntns_table.o mounttab.o procfs.o) $(SUPPORT_OBJS)
HOLDERS_TEST_OBJS = $(BUILD)/holders.o $(BUILD)/procfs.o $(SUPPORT_OBJS)
SAFERM_TEST_OBJS  = $(addprefix $(BUILD)/,saferm.o safedir.o) $(SUPPORT_OBJS)
LOOPDEV_TEST_OBJS = $(BUILD)/loopdev.o $(BUILD)/strv.o
# AddressSanitizer/UBSan builds of the helper and of mntns-test: valgrind
# 3.19 knows none of the new mount syscalls, these see the paths taken here.
SAN_FLAGS    := -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer

DEB_PACKAGES := build-essential pkg-config libmount-dev libsystemd-dev libcap-ng-dev \
                bats bats-support bats-assert util-linux psmisc systemd-container shellcheck \
                valgrind python3 strace e2fsprogs erofs-utils squashfs-tools

.PHONY: all deps check check-unit check-integration demo bench install uninstall clean lint \
        valgrind test-drivers

all: $(BIN)

test-drivers: $(TEST_DRIVERS) $(BUILD)/asan/overlay-helper $(BUILD)/mntns-test-asan

# `make V=1` shows the full compiler lines.
Q := $(if $(V),,@)

$(BUILD)/%.o: helper/%.c | $(BUILD)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BIN): $(OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mntns-test: tests/unit/mntns-test.c $(MNTNS_TEST_OBJS)
	$(Q)$(CC) $(ALL_CFLAGS) -Ihelper $(LDFLAGS) -o $@ $^ -ldl
$(BUILD)/holders-test: tests/unit/holders-test.c $(HOLDERS_TEST_OBJS)
	$(Q)$(CC) $(ALL_CFLAGS) -Ihelper $(LDFLAGS) -o $@ $^ -ldl
$(BUILD)/saferm-test: tests/unit/saferm-test.c $(SAFERM_TEST_OBJS)
	$(Q)$(CC) $(ALL_CFLAGS) -Ihelper $(LDFLAGS) -o $@ $^
$(BUILD)/loopdev-test: tests/unit/loopdev-test.c $(LOOPDEV_TEST_OBJS)
	$(Q)$(CC) $(ALL_CFLAGS) -Ihelper $(LDFLAGS) -o $@ $^

# The sanitizer builds drop _FORTIFY_SOURCE (it wants optimisation ASan
# turns down) but keep every warning as an error.
SAN_CFLAGS = $(filter-out -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS)) $(SAN_FLAGS)
$(BUILD)/asan/overlay-helper: $(SRCS) $(wildcard helper/*.h) | $(BUILD)
	@mkdir -p $(BUILD)/asan
	$(Q)$(CC) $(SAN_CFLAGS) -DOVERLAY_HELPER_SANITIZED -o $@ $(SRCS) \
	    $(shell $(PKG_CONFIG) --libs libcap-ng 2>/dev/null) -ldl
$(BUILD)/mntns-test-asan: tests/unit/mntns-test.c $(MNTNS_TEST_OBJS:$(BUILD)/%.o=helper/%.c) | $(BUILD)
	$(Q)$(CC) $(SAN_CFLAGS) -Ihelper -o $@ $^ -ldl

$(BUILD):
	mkdir -p $@

# Installs whatever Debian packages the build and the tests need and are missing.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing:" $$missing; \
	    if [ "$$(id -u)" -ne 0 ]; then echo "make deps: need root to install packages (use sudo)" >&2; exit 1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

check: deps
	$(MAKE) all test-drivers
	tests/run tests/unit tests/integration

check-unit: deps
	$(MAKE) all test-drivers
	tests/run tests/unit

# The VM tier (tests/vm/run): the unit suite under Debian's 6.1 and 6.12
# cloud kernels in qemu (TCG), with the binaries built here. Knobs: VM_KERNELS,
# VM_SUITES, VM_MEM, VM_SMP, VM_TIMEOUT; images are cached in VM_CACHE.
VM_CACHE        ?= /var/cache/overlay-helper-vm
VM_DEB_PACKAGES := qemu-system-x86 debootstrap debian-archive-keyring e2fsprogs kmod cpio xz-utils zstd
VM_PACKAGES     := $(DEB_PACKAGES) dbus kmod procps
.PHONY: deps-vm check-vm

deps-vm:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(VM_DEB_PACKAGES)"

check-vm: deps deps-vm
	$(MAKE) all test-drivers
	VM_CACHE="$(VM_CACHE)" VM_PACKAGES="$(VM_PACKAGES)" tests/vm/run $(BUILD)

# docs/KERNELS.md's table: tests/vm/features on this host and in a VM of
# each of VM_KERNELS (which boot for one short suite; the features run after it).
.PHONY: kernels-doc
kernels-doc: deps deps-vm
	$(MAKE) all test-drivers
	rm -f $(BUILD)/vm-logs/*.features
	VM_CACHE="$(VM_CACHE)" VM_PACKAGES="$(VM_PACKAGES)" VM_SUITES=tests/unit/cli.bats tests/vm/run $(BUILD)
	tests/vm/features $(BIN) > $(BUILD)/vm-logs/host.features
	tests/vm/kernels-md --into docs/KERNELS.md $(BUILD)/vm-logs/*.features

check-integration: deps
	$(MAKE) all
	tests/run tests/integration

demo: deps
	$(MAKE) all
	tests/demo.sh $(BIN)

bench: deps
	@command -v hyperfine >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine
	$(MAKE) all
	bench/run.sh $(BIN)
	bench/probe.sh $(BIN)
	bench/probe-walk.sh $(BIN)
	bench/status.sh $(BIN)
	bench/stop-time.sh $(BIN)

lint: all
	shellcheck -x tests/run tests/demo.sh tests/unit/*.bash tests/integration/*.bash \
	    tests/integration/*.sh bench/*.sh docs/*.sh tests/vm/run tests/vm/images.sh tests/vm/guest-init tests/vm/initramfs-init tests/vm/features .ci/run
	tests/integration/verify-units.sh
	python3 tests/layers.py $(BUILD)

# The memcheck suite alone (it also runs as part of check-unit).
valgrind: all
	OVERLAY_HELPER_BIN=$(abspath $(BIN)) tests/run tests/unit/valgrind.bats

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/overlay-helper
	@if ls units/*.service >/dev/null 2>&1; then \
	    install -d $(DESTDIR)$(SYSTEMDUNITDIR); \
	    install -m 0644 units/*.service $(DESTDIR)$(SYSTEMDUNITDIR)/; fi
	@if [ -f tmpfiles.d/overlay-helper.conf ]; then \
	    install -D -m 0644 tmpfiles.d/overlay-helper.conf $(DESTDIR)$(TMPFILESDIR)/overlay-helper.conf; fi
	@if [ -f docs/overlay-helper.8 ]; then \
	    install -D -m 0644 docs/overlay-helper.8 $(DESTDIR)$(MANDIR)/man8/overlay-helper.8; fi
	install -d -m 0755 $(DESTDIR)/etc/overlay-helper

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/overlay-helper $(DESTDIR)$(TMPFILESDIR)/overlay-helper.conf \
	      $(DESTDIR)$(MANDIR)/man8/overlay-helper.8
	@for u in units/*.service; do [ -e "$$u" ] && rm -f "$(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$u)"; done; true

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
