#!/usr/bin/env bats
# Command line: help, version, usage errors (exit 2, one specific line).

load helpers

@test "--help and --version" {
    run "$OVERLAY_HELPER_BIN" --help
    assert_success
    assert_output --partial "Usage: overlay-helper"
    run "$OVERLAY_HELPER_BIN" --version
    assert_success
    assert_output --regexp '^overlay-helper [0-9]+\.[0-9]+'
    run "$OVERLAY_HELPER_BIN" mount --help
    assert_success
}

@test "usage errors exit 2 with one specific line" {
    run "$OVERLAY_HELPER_BIN"
    assert_failure 2
    assert_output --partial "no command given"
    run "$OVERLAY_HELPER_BIN" frobnicate
    assert_failure 2
    assert_output --partial "unknown command 'frobnicate'"
    run "$OVERLAY_HELPER_BIN" --bogus
    assert_failure 2
    assert_output --partial "unknown option '--bogus'"
    run oh mount
    assert_failure 2
    assert_output --partial "needs an INSTANCE"
    run oh mount a b
    assert_failure 2
    assert_output --partial "takes one INSTANCE"
    run oh mount web --wait
    assert_failure 2
    assert_output --partial "needs a value"
}

@test "global options are accepted after the command too" {
    simple_instance web
    run "$OVERLAY_HELPER_BIN" status web --json --config-dir "$T/etc" --state-dir "$T/state"
    assert_success
    assert_output --partial '"instance":"web"'
}

@test "a missing config exits 2 naming the file" {
    run oh mount nothing-here
    assert_failure 2
    assert_output --partial "nothing-here.conf"
}
