# SPDX-License-Identifier: LGPL-2.1-or-later
# overlay-helper: build, install, check, demo.
# `make` builds with warnings as errors; `sudo make check` and `sudo make demo`
# install any missing Debian build/test packages first (`make deps`).

# The one place the version lives: the binary (--version), the man pages and
# debian/changelog (checked by tests/static) all take it from VERSION.
VERSION     := $(shell cat VERSION)

# Install paths, GNU-style. The units, tmpfiles.d, the man pages and the
# completion name the default paths (/usr/sbin, /etc, /var/lib, /run): `make
# install` rewrites them to these, and the binary is built with them.
PREFIX        ?= /usr
EXEC_PREFIX   ?= $(PREFIX)
SBINDIR       ?= $(EXEC_PREFIX)/sbin
DATADIR       ?= $(PREFIX)/share
MANDIR        ?= $(DATADIR)/man
DOCDIR        ?= $(DATADIR)/doc/overlay-helper
SYSCONFDIR    ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
LOCALSTATEDIR ?= $(if $(filter /usr,$(PREFIX)),/var,$(PREFIX)/var)
RUNSTATEDIR   ?= /run
CONFDIR       ?= $(SYSCONFDIR)/overlay-helper
STATEDIR      ?= $(LOCALSTATEDIR)/lib/overlay-helper
RUNTIMEDIR    ?= $(RUNSTATEDIR)/overlay-helper
PKG_CONFIG    ?= pkg-config
pkgvar = $(or $(shell $(PKG_CONFIG) --variable=$(2) $(1) 2>/dev/null),$(3))
SYSTEMDUNITDIR      ?= $(call pkgvar,systemd,systemdsystemunitdir,/lib/systemd/system)
SYSTEMDGENERATORDIR ?= $(call pkgvar,systemd,systemdsystemgeneratordir,/lib/systemd/system-generators)
TMPFILESDIR         ?= $(call pkgvar,systemd,tmpfilesdir,/usr/lib/tmpfiles.d)
CATALOGDIR          ?= $(call pkgvar,systemd,catalogdir,/usr/lib/systemd/catalog)
BASHCOMPLETIONDIR   ?= $(call pkgvar,bash-completion,completionsdir,$(DATADIR)/bash-completion/completions)

# CPPFLAGS, CFLAGS and LDFLAGS from the environment (dpkg-buildflags) are
# used as given, after the project's own; WERROR=0 builds without -Werror
# (a newer compiler's new warning must not break a distribution's build).
CC          ?= cc
CFLAGS      ?= -O2 -g
LDFLAGS     ?= -Wl,-O1 -Wl,--as-needed
WERROR      ?= 1
# libmount, libsystemd and libblkid are dlopen()ed on first use (see
# helper/dlib.h: ~1 ms of loader time saved on every start), so only their
# headers are needed at build time; the binary names them in an ELF
# .note.dlopen (helper/dlib.c), from which debian/dlopen-deps makes the
# package's dependencies. libcap-ng is linked: every command calls it.
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags mount libsystemd libcap-ng 2>/dev/null)
PKG_LIBS    := $(or $(shell $(PKG_CONFIG) --libs libcap-ng 2>/dev/null),-lcap-ng)
WARN        := -Wall -Wextra $(if $(filter 0,$(WERROR)),,-Werror) -Wshadow -Wstrict-prototypes \
               -Wmissing-prototypes -Wno-missing-field-initializers
# _FORTIFY_SOURCE=2 unless the caller chose a level.
FORTIFY     := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-D_FORTIFY_SOURCE=2)
ALL_CPPFLAGS := -D_GNU_SOURCE -DOVERLAY_HELPER_VERSION='"$(VERSION)"' \
               -DOVERLAY_HELPER_CONFIG_DIR='"$(CONFDIR)"' -DOVERLAY_HELPER_STATE_DIR='"$(STATEDIR)"' \
               -DOVERLAY_HELPER_RUNTIME_DIR='"$(RUNTIMEDIR)"' $(FORTIFY) $(CPPFLAGS)
ALL_CFLAGS  := -std=gnu11 $(WARN) -fstack-protector-strong $(PKG_CFLAGS) $(ALL_CPPFLAGS) $(CFLAGS)
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

TEST_PACKAGES := build-essential pkg-config libmount-dev libsystemd-dev libcap-ng-dev \
                bats bats-support bats-assert util-linux psmisc systemd-container shellcheck \
                valgrind python3 strace e2fsprogs erofs-utils squashfs-tools python3-jsonschema
# What `make test` and `make deb` need besides (the VM images do without).
PACKAGING_PACKAGES := bash-completion mandoc man-db debhelper dpkg-dev fakeroot lintian git
DEB_PACKAGES := $(TEST_PACKAGES) $(PACKAGING_PACKAGES)

.PHONY: all deps check check-unit check-integration demo bench install uninstall clean lint \
        valgrind test-drivers

all: $(BIN)

test-drivers: $(TEST_DRIVERS) $(BUILD)/asan/overlay-helper $(BUILD)/mntns-test-asan

# `make V=1` shows the full compiler lines.
Q := $(if $(V),,@)

# The version and paths the objects and man pages were made with: a change
# (`make install PREFIX=/usr/local` after a plain `make`) rebuilds them.
BUILD_VARS := $(BUILD)/build-vars
$(BUILD_VARS): FORCE | $(BUILD)
	@echo '$(VERSION) $(SBINDIR) $(CONFDIR) $(STATEDIR) $(RUNTIMEDIR)' | cmp -s - $@ || \
	    echo '$(VERSION) $(SBINDIR) $(CONFDIR) $(STATEDIR) $(RUNTIMEDIR)' > $@
.PHONY: FORCE
FORCE:

$(BUILD)/%.o: helper/%.c $(BUILD_VARS) | $(BUILD)
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
SAN_CFLAGS = $(filter-out -D_FORTIFY_SOURCE%,$(ALL_CFLAGS)) $(SAN_FLAGS)
$(BUILD)/asan/overlay-helper: $(SRCS) $(wildcard helper/*.h) | $(BUILD)
	@mkdir -p $(BUILD)/asan
	$(Q)$(CC) $(SAN_CFLAGS) -DOVERLAY_HELPER_SANITIZED -o $@ $(SRCS) $(LDLIBS)
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

# The no-root tests, the unit suite against $(BIN), and the integration suite
# against the Debian package built from this tree, installed in the container.
check: deps
	$(MAKE) all test-drivers man
	$(MAKE) deb
	OH_DEB=$(abspath $(DEB_FILE)) OVERLAY_HELPER_MANDIR=$(abspath $(BUILD)/man) \
	    OVERLAY_HELPER_BIN=$(abspath $(BIN)) tests/run tests/static tests/unit tests/integration

check-unit: deps
	$(MAKE) all test-drivers
	OVERLAY_HELPER_BIN=$(abspath $(BIN)) tests/run tests/unit

# The VM tier (tests/vm/run): the unit suite under Debian's 6.1 and 6.12
# cloud kernels in qemu (TCG), with the binaries built here. Knobs: VM_KERNELS,
# VM_SUITES, VM_MEM, VM_SMP, VM_TIMEOUT; images are cached in VM_CACHE.
VM_CACHE        ?= /var/cache/overlay-helper-vm
VM_DEB_PACKAGES := qemu-system-x86 debootstrap debian-archive-keyring e2fsprogs kmod cpio xz-utils zstd
VM_PACKAGES     := $(TEST_PACKAGES) dbus kmod procps
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
	OVERLAY_HELPER_BIN=$(abspath $(BIN)) tests/run tests/integration

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
	shellcheck -x -s bash completion/overlay-helper.bash tests/static/*.bash
	tests/integration/verify-units.sh
	python3 tests/layers.py $(BUILD)
	@# An SPDX line near the top of every source file (docs, data and the
	@# Debian metadata, which debian/copyright covers, excepted).
	@missing=$$(git ls-files -co --exclude-standard | \
	    grep -vE '\.(md|json)$$|^(LICENSE|NEWS|VERSION|\.gitignore)$$|^debian/(control|changelog|copyright|source/format)$$' | \
	    while read -r f; do [ ! -f "$$f" ] || head -3 "$$f" | grep -q SPDX-License-Identifier || echo "$$f"; done); \
	    if [ -n "$$missing" ]; then echo "no SPDX-License-Identifier line in:" $$missing >&2; exit 1; fi

# The memcheck suite alone (it also runs as part of check-unit).
valgrind: all
	OVERLAY_HELPER_BIN=$(abspath $(BIN)) tests/run tests/unit/valgrind.bats

# The installed files name the configured paths (see the top of this file).
SUBST_PATHS = sed -e 's|/usr/sbin/overlay-helper|$(SBINDIR)/overlay-helper|g' \
                  -e 's|/etc/overlay-helper|$(CONFDIR)|g' \
                  -e 's|/var/lib/overlay-helper|$(STATEDIR)|g' \
                  -e 's|/run/overlay-helper|$(RUNTIMEDIR)|g' \
                  -e 's|@VERSION@|$(VERSION)|g'

# Man pages: roff sources docs/NAME.SECTION.in, rendered into $(BUILD)/man.
MAN_SRCS  := $(wildcard docs/*.[1-8].in)
MAN_PAGES := $(MAN_SRCS:docs/%.in=$(BUILD)/man/%)
DOC_FILES := README.md NEWS $(wildcard docs/RUNBOOK.md docs/config.md docs/images.md docs/json.md \
               docs/journal.md docs/units.md)
.PHONY: man test

man: $(MAN_PAGES)

$(BUILD)/man/%: docs/%.in $(BUILD_VARS)
	@mkdir -p $(BUILD)/man
	$(Q)$(SUBST_PATHS) $< > $@

# The tests that need no root, no network and no container (dh_auto_test):
# config parsing, --help against the man pages, completion, JSON schema.
test: $(BIN) $(MAN_PAGES)
	OVERLAY_HELPER_BIN=$(abspath $(BIN)) OVERLAY_HELPER_MANDIR=$(abspath $(BUILD)/man) \
	    bats tests/static

install: $(BIN) $(MAN_PAGES)
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/overlay-helper
	install -d $(DESTDIR)$(SYSTEMDGENERATORDIR)
	ln -sfn $(SBINDIR)/overlay-helper $(DESTDIR)$(SYSTEMDGENERATORDIR)/overlay-helper-generator
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in units/*.service; do \
	    $(SUBST_PATHS) $$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} && \
	    chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} || exit 1; done
	install -d $(DESTDIR)$(TMPFILESDIR)
	$(SUBST_PATHS) tmpfiles.d/overlay-helper.conf > $(DESTDIR)$(TMPFILESDIR)/overlay-helper.conf
	@if [ -f catalog/overlay-helper.catalog ]; then \
	    install -D -m 0644 catalog/overlay-helper.catalog $(DESTDIR)$(CATALOGDIR)/overlay-helper.catalog; fi
	@if [ -f completion/overlay-helper.bash ]; then \
	    install -d $(DESTDIR)$(BASHCOMPLETIONDIR) && \
	    $(SUBST_PATHS) completion/overlay-helper.bash > $(DESTDIR)$(BASHCOMPLETIONDIR)/overlay-helper; fi
	for m in $(MAN_PAGES); do \
	    install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; done
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	for e in units/examples/*; do \
	    $(SUBST_PATHS) $$e > $(DESTDIR)$(DOCDIR)/examples/$${e##*/} || exit 1; done
	@if [ -d docs/schema ]; then \
	    install -d $(DESTDIR)$(DOCDIR)/schema && install -m 0644 docs/schema/*.json $(DESTDIR)$(DOCDIR)/schema/; fi
	install -d -m 0755 $(DESTDIR)$(CONFDIR)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/overlay-helper $(DESTDIR)$(SYSTEMDGENERATORDIR)/overlay-helper-generator \
	      $(DESTDIR)$(TMPFILESDIR)/overlay-helper.conf $(DESTDIR)$(CATALOGDIR)/overlay-helper.catalog \
	      $(DESTDIR)$(BASHCOMPLETIONDIR)/overlay-helper
	for m in $(MAN_PAGES); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	for u in units/*.service; do rm -f "$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}"; done
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(CONFDIR)

# The Debian package, built with dpkg-buildpackage from a copy of the files
# git tracks or would track, as they are in the work tree, in $(BUILD)/deb;
# lintian must find no error or warning.
DEB_FILE := $(BUILD)/deb/overlay-helper_$(VERSION)_$(shell dpkg --print-architecture 2>/dev/null).deb
.PHONY: deb

deb:
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/overlay-helper-$(VERSION)
	git ls-files -co --exclude-standard | while read -r f; do [ ! -e "$$f" ] || echo "$$f"; done | \
	    tar -cf - -T - | tar -xf - -C $(BUILD)/deb/overlay-helper-$(VERSION)
	cd $(BUILD)/deb/overlay-helper-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --info $(BUILD)/deb/*.changes
	@echo "built $(DEB_FILE)"

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d)
