#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# No leaks, no invalid accesses, no fd leaks in any verb (valgrind memcheck).

load helpers

vg() {
    command -v valgrind >/dev/null || skip "valgrind not installed"
    valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
        --errors-for-leak-kinds=definite,indirect,possible --track-fds=yes \
        --error-exitcode=99 "$OVERLAY_HELPER_BIN" --config-dir "$T/etc" \
        --state-dir "$T/state" --runtime-dir "$T/run" "$@"
}

@test "valgrind: mount, mount again, status, umount, purge are clean" {
    simple_instance web
    run vg mount web
    assert_success; refute_fd_leaks
    run vg mount web
    assert_success; refute_fd_leaks
    run vg status web --json
    assert_success; refute_fd_leaks
    run vg status
    assert_success; refute_fd_leaks
    echo x > "$T/state/web/merged/x"
    run vg umount web
    assert_success; refute_fd_leaks
    run vg purge web
    assert_success; refute_fd_leaks
}

@test "valgrind: failure paths (busy, bad config, lock held, mount error) are clean" {
    simple_instance web
    vg mount web
    hold_cwd "$T/state/web/merged"
    run vg umount web
    assert_failure 3; refute_fd_leaks
    run vg purge web
    assert_failure 3; refute_fd_leaks
    printf '[Overlay]\nLower=relative\n' | write_conf bad
    run vg mount bad
    assert_failure 2; refute_fd_leaks
    printf '[Overlay]\nLower=%s\n' "$T/missing" | write_conf broken
    run vg mount broken
    assert_failure 1; refute_fd_leaks
}

@test "valgrind: the mountinfo (libmount) path is clean too" {
    simple_instance web
    OVERLAY_HELPER_NO_STATMOUNT=1 run vg mount web
    assert_success; refute_fd_leaks
    OVERLAY_HELPER_NO_STATMOUNT=1 run vg umount web
    assert_success; refute_fd_leaks
}
