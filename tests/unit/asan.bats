#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
# The helper built with AddressSanitizer, LeakSanitizer and UBSan: valgrind
# 3.19 knows none of fsopen(), statmount(), listmount() or openat2() and so
# only ever sees the fallbacks; this covers the paths the kernel here takes.

load helpers

OH_BUILD="$(dirname "$OVERLAY_HELPER_BIN")"
ASAN_BIN="$OH_BUILD/asan/overlay-helper"

setup_file() {
    make -s -C "$BATS_TEST_DIRNAME/../.." BUILD="$OH_BUILD" "$ASAN_BIN" >&2
}

san() {
    ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98 \
        "$ASAN_BIN" --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" "$@"
}

refute_sanitizer_report() {
    refute_output --partial "ERROR: AddressSanitizer"
    refute_output --partial "ERROR: LeakSanitizer"
    refute_output --partial "runtime error:"
}

@test "sanitizers: mount, status, ghost umount, probe, refused mount, purge are clean" {
    [ -x "$ASAN_BIN" ] || skip "the sanitizer build failed (no libasan?)"
    simple_instance web
    run san mount web
    assert_success; refute_sanitizer_report
    run san mount web
    assert_success; refute_sanitizer_report
    run san status --json web
    assert_success; refute_sanitizer_report
    unshare --mount --propagation private sh -c "cd '$T/state/web/merged' && exec sleep 300" \
        >/dev/null 2>&1 3>&- &
    pid=$!
    track_pid "$pid"
    wait_for_cwd "$pid" "$T/state/web/merged"
    run san umount web
    assert_failure 3; refute_sanitizer_report
    run san probe web --json
    assert_failure 3; refute_sanitizer_report
    run san probe web
    assert_failure 3; refute_sanitizer_report
    run san mount web
    assert_failure 3; refute_sanitizer_report
    kill_wait "$pid"
    run san umount web --wait 5
    assert_success; refute_sanitizer_report
    run san purge web
    assert_success; refute_sanitizer_report
    OVERLAY_HELPER_NO_STATMOUNT=1 run san probe web
    assert_success; refute_sanitizer_report
}
