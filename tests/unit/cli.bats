#!/usr/bin/env bats
# SPDX-License-Identifier: LGPL-2.1-or-later
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

@test "every verb takes -h/--help and --version, and the common options" {
    for verb in mount umount purge status probe; do
        run "$OVERLAY_HELPER_BIN" "$verb" --help
        assert_success
        assert_output --partial "Usage: overlay-helper [OPTIONS] $verb"
        run "$OVERLAY_HELPER_BIN" "$verb" -h
        assert_success
        run "$OVERLAY_HELPER_BIN" "$verb" --version
        assert_success
        assert_output --regexp '^overlay-helper [0-9]+\.[0-9]+'
    done
}

@test "a common option with no value names itself, for every verb" {
    for verb in mount umount purge status probe; do
        run "$OVERLAY_HELPER_BIN" "$verb" --config-dir
        assert_failure 2
        assert_output --partial "option '--config-dir' needs a value"
    done
}

@test "options a verb does not take are refused by name" {
    run oh status --wait 3
    assert_failure 2
    assert_output --partial "status does not take --wait"
    run oh mount web --watch
    assert_failure 2
    assert_output --partial "mount does not take --watch"
}

@test "bad seconds name the option, in either form" {
    run oh probe web --interval=0
    assert_failure 2
    assert_output --partial "--interval takes seconds from 0.01 to 1000000, not '0'"
    run oh umount web --wait=-1
    assert_failure 2
    assert_output --partial "--wait takes seconds from 0 to 1000000, not '-1'"
    run oh probe web --timeout abc
    assert_failure 2
    assert_output --partial "--timeout takes seconds"
}

@test "relative dir options work however many times they are given" {
    simple_instance web
    cd "$T"
    run "$OVERLAY_HELPER_BIN" --config-dir x --config-dir y --state-dir s --runtime-dir r \
        --config-dir etc --state-dir state --runtime-dir run status --json web
    assert_success
    assert_output --partial "\"config\":\"$T/etc/web.conf\""
}

@test "state-changing verbs run by a non-root user say they must run as root" {
    command -v setpriv >/dev/null || skip "setpriv not installed"
    simple_instance web
    for verb in mount umount purge; do
        run setpriv --reuid=65534 --regid=65534 --clear-groups "$OVERLAY_HELPER_BIN" \
            --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" "$verb" web
        assert_failure 1
        assert_output "overlay-helper: $verb must run as root: it mounts and unmounts in PID 1's mount namespace (status and probe work unprivileged)"
    done
    run setpriv --reuid=65534 --regid=65534 --clear-groups "$OVERLAY_HELPER_BIN" \
        --config-dir "$T/etc" --state-dir "$T/state" --runtime-dir "$T/run" status web
    assert_success
}

@test "an answer that cannot be written fails: exit 1 naming stdout" {
    simple_instance web
    run sh -c "'$OVERLAY_HELPER_BIN' --config-dir '$T/etc' --state-dir '$T/state' --runtime-dir '$T/run' status --json web > /dev/full"
    assert_failure 1
    assert_output --partial "writing to standard output failed: No space left on device"
}

@test "a verb's own option given before the verb is checked against it" {
    run oh --wait 5 status
    assert_failure 2
    assert_output --partial "status does not take --wait"
    run oh --watch mount web
    assert_failure 2
    assert_output --partial "mount does not take --watch"
}

@test "a value given to an option that takes none is named as typed" {
    run oh status --json=1
    assert_failure 2
    assert_output --partial "'--json=1'"
}
