# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Shared setup for tests/static: the tests a package build runs (make
# test-static, dh_auto_test) as a normal user, with no root, no network, no
# namespaces and no container. Nothing here mounts anything, and the helper is
# only run for what it does unprivileged: parse its command line and configs.
#
#   OVERLAY_HELPER_BIN     the binary (default: build/overlay-helper)
#   OVERLAY_HELPER_MANDIR  the rendered man pages (default: man/ next to
#                          the binary, so build/man)
#
# Relative paths are taken from the source tree's top, wherever bats runs.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

SRCDIR=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

_static_abs() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$SRCDIR/$1" ;;
    esac
}

OVERLAY_HELPER_BIN=$(_static_abs "${OVERLAY_HELPER_BIN:-build/overlay-helper}")
OVERLAY_HELPER_MANDIR=$(_static_abs "${OVERLAY_HELPER_MANDIR:-${OVERLAY_HELPER_BIN%/*}/man}")
export OVERLAY_HELPER_BIN OVERLAY_HELPER_MANDIR SRCDIR

requires_bin() {
    [ -x "$OVERLAY_HELPER_BIN" ] ||
        fail "no helper at $OVERLAY_HELPER_BIN: build it (make), or set OVERLAY_HELPER_BIN"
}

# man_page SECTION-NAME: the rendered page's path, e.g. man_page overlay-helper.8
man_page() {
    local page=$OVERLAY_HELPER_MANDIR/$1
    [ -f "$page" ] ||
        fail "no rendered man page at $page: build the man pages (make man), or set OVERLAY_HELPER_MANDIR"
    printf '%s\n' "$page"
}

# man_text PAGE: the page as plain text, without hyphenation or adjustment,
# one long line a paragraph, so words a line break would split stay whole.
man_text() {
    MANWIDTH=10000 LC_ALL=C.UTF-8 \
        man --nh --nj -l "$1" 2>/dev/null | col -bx
}
