#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The helper moves itself into PID 1's mount namespace (here: the test's own
# private namespace, PID 1 being the test runner's init) and says how to fix
# the unit.

load helpers

@test "run from a nested private namespace, the mount lands in PID 1's namespace" {
    simple_instance web
    run unshare --mount --propagation private "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" mount web
    assert_success
    assert_output --partial "started outside PID 1's mount namespace"
    assert_output --partial "nsenter --mount=/proc/1/ns/mnt"
    # visible here, where PID 1 lives
    is_mounted "$T/state/web/merged"
    [ "$(cat "$T/state/web/merged/hello.txt")" = "from lower" ]
}

@test "umount from a nested namespace whose cwd is inside the overlay still unmounts it" {
    simple_instance web
    oh mount web
    # The caller's cwd is inside merged; after setns() the helper's is not.
    run unshare --mount --propagation slave sh -c "cd '$T/state/web/merged' && exec '$OVERLAY_HELPER_BIN' \
        --config-dir '$T/etc' --state-dir '$T/state' --runtime-dir '$T/run' umount web"
    assert_success
    refute_mounted "$T/state/web/merged"
}

@test "in PID 1's namespace already, there is no warning" {
    simple_instance web
    run oh mount web
    assert_success
    refute_output --partial "outside PID 1's mount namespace"
}

@test "relative --config-dir and --state-dir survive the move to PID 1's root" {
    simple_instance web
    cd "$T"
    run unshare --mount --propagation private "$OVERLAY_HELPER_BIN" \
        --config-dir etc --state-dir state --runtime-dir run mount web
    assert_success
    is_mounted "$T/state/web/merged"
}
